"""Start-up as a user sees it: the real ``threatlens-tui`` in a real terminal (tmux), and ``threatlens scan``.

Each round starts, in a fresh tmux window (120x34, one tmux server for the whole run):

* ``threatlens-tui --from-start`` on a copy of ``sample_logs/combined.log`` (5,000 lines): the time from
  asking tmux for the window to the first paint (a panel's border), to the **first frame** (the dashboard's
  header, ``ThreatLens`` and ``model``, on the screen read with ``capture-pane``) and to **model ready** (the
  header names the model instead of ``loading…``);
* the peer, a bare Textual app (one ``Static``): the time to its first frame, the floor of any Textual UI on
  this machine started the same way;

and, outside tmux, ``threatlens scan`` of a 3-line file and ``python -c pass`` (wall time of the process).
The screen is polled every 10 ms, so terminal figures carry about 10 ms of resolution and the cost of the
polling itself (a ``tmux capture-pane`` per poll). Medians and ranges over ``--rounds``; the load average
is printed before and after: on a shared machine compare with the peers of the same run.

    .venv/bin/python bench/startup.py [--rounds 7] [--before OLD/src] [--allowlist 100000]

``--before`` adds the monitor from another source tree to every round (``git worktree add /tmp/old COMMIT``,
then ``--before /tmp/old/src``): before and after under the same load. ``--allowlist N`` gives the monitor a
config file whose allowlist has N random networks (``bench/allowlist.py``'s), read at start by both processes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import psutil

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
POLL = 0.01
#: On the monitor's screen: first paint (a panel's border), first frame (the header), model ready.
MARKS = ["╭", "ThreatLens |  model ", "model threatlens-model"]
BARE_APP = """
from textual.app import App, ComposeResult
from textual.widgets import Static


class Bare(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("bare textual app ready")


Bare().run()
"""


class Terminal:
    """One tmux server on its own socket; each run is a new window, read with ``capture-pane``."""

    def __init__(self, workdir: Path) -> None:
        self.base = ["tmux", "-S", str(workdir / "tmux.sock")]
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "xterm-256color",
                    "HOME": str(workdir), "LANG": "C.UTF-8"}
        self.count = 0
        subprocess.run([*self.base, "new-session", "-d", "-s", "bench", "-x", "120", "-y", "34", "sleep", "3600"],
                       check=True, env=self.env)
        subprocess.run([*self.base, "set-option", "-g", "remain-on-exit", "on"], check=True)

    def run(self, cmd: list[str], marks: list[str], timeout: float = 60.0, env: dict[str, str] | None = None,
            ) -> list[Seen]:
        """When each of ``marks`` first showed on the screen of ``cmd``, run in a new window.

        A mark shows when all its ``|``-separated parts do. Each is the seconds since asking tmux for the
        window and the CPU seconds the process and its children had used by then.
        """
        self.count += 1
        window = f"bench:w{self.count}"
        extra = [f"-e{k}={v}" for k, v in (env or {}).items()]
        start = time.perf_counter()
        subprocess.run([*self.base, "new-window", "-d", *extra, "-n", f"w{self.count}", "-t", "bench:", *cmd],
                       check=True, env=self.env)
        pid = int(subprocess.run([*self.base, "display-message", "-p", "-t", window, "#{pane_pid}"],
                                 capture_output=True, text=True, check=True).stdout)
        proc = psutil.Process(pid)
        seen: list[Seen | None] = [None] * len(marks)
        screen = ""
        while time.perf_counter() - start < timeout:
            screen = subprocess.run([*self.base, "capture-pane", "-p", "-t", window], capture_output=True,
                                    text=True, check=False).stdout
            now = time.perf_counter() - start
            for i, mark in enumerate(marks):
                if seen[i] is None and all(part in screen for part in mark.split("|")):
                    seen[i] = Seen(now, *_cpu(proc))
            if all(s is not None for s in seen):
                break
            time.sleep(POLL)
        subprocess.run([*self.base, "kill-window", "-t", window], check=False, capture_output=True)
        if any(s is None for s in seen):
            missing = [m for m, s in zip(marks, seen, strict=True) if s is None]
            raise SystemExit(f"{' '.join(cmd)}: {missing} never appeared within {timeout:.0f} s; screen:\n{screen}")
        return [s for s in seen if s is not None]

    def close(self) -> None:
        """End the tmux server and whatever still runs in it."""
        subprocess.run([*self.base, "kill-server"], check=False, capture_output=True)


class Seen(NamedTuple):
    """A mark on the screen: seconds since start, CPU seconds of the process and of its children by then."""

    wall: float
    cpu: float
    children_cpu: float


def _cpu(proc: psutil.Process) -> tuple[float, float]:
    try:
        own = proc.cpu_times()
        kids = 0.0
        for child in proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                t = child.cpu_times()
                kids += t.user + t.system
        return own.user + own.system, kids
    except psutil.Error:
        return float("nan"), float("nan")


def wall(cmd: list[str]) -> float:
    """Wall seconds of one run of ``cmd`` (output discarded; a failure stops the bench)."""
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} s ({min(values):.2f}-{max(values):.2f})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--allowlist", type=int, default=0, metavar="N",
                    help="a config file with N allowlisted networks for the monitor")
    ap.add_argument("--before", metavar="SRC",
                    help="also run threatlens-tui from this source tree (PYTHONPATH=SRC, e.g. a git worktree's src/ "
                         "at an older commit): the before/after pair in the same rounds")
    args = ap.parse_args()
    if shutil.which("tmux") is None:
        print("tmux is not installed (apt-get install tmux): the terminal rows need it")
        return 1
    tui = BIN / "threatlens-tui"
    with tempfile.TemporaryDirectory(prefix="threatlens-startup-") as tmp:
        work = Path(tmp)
        log = work / "access.log"
        shutil.copyfile(ROOT / "sample_logs" / "combined.log", log)
        tiny = work / "tiny.log"
        tiny.write_bytes(b"".join((ROOT / "sample_logs" / "combined.log").read_bytes().splitlines(True)[:3]))
        bare = work / "bare.py"
        bare.write_text(BARE_APP, encoding="utf-8")
        if args.allowlist:
            import random

            sys.path.insert(0, str(ROOT / "bench"))
            from allowlist import networks

            nets = networks(args.allowlist, random.Random(1))
            (work / "config.toml").write_text("allowlist = [\n" + "".join(f'  "{n}",\n' for n in nets) + "]\n")
        monitor = [str(tui), "--from-start", "--geoip-db", "", "--config", str(work / "config.toml"), str(log)]
        scan = [str(BIN / "threatlens"), "scan", "--geoip-db", "", str(tiny)]
        print(f"start-up, {args.rounds} rounds, {args.allowlist} allowlisted networks, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}")
        term = Terminal(work)
        monitors: dict[str, list[list[Seen]]] = {"now": [], "before": []}
        rows: dict[str, list[float]] = {"bare": [], "scan": [], "pass": []}
        try:
            wall([sys.executable, "-c", "pass"])  # warm the page cache for every peer alike
            wall(scan)
            for _ in range(args.rounds):  # alternating, so a noisy neighbour slows every row alike
                monitors["now"].append(term.run(monitor, MARKS))
                if args.before:
                    monitors["before"].append(term.run(monitor, MARKS, env={"PYTHONPATH": args.before}))
                rows["bare"].append(term.run([sys.executable, str(bare)], ["bare textual app ready"])[0].wall)
                rows["scan"].append(wall(scan))
                rows["pass"].append(wall([sys.executable, "-c", "pass"]))
        finally:
            term.close()
    bare_first = statistics.median(rows["bare"])
    for name, runs in monitors.items():
        if not runs:
            continue
        label = "threatlens-tui" if name == "now" else f"before ({args.before})"
        print(label)
        for i, (what, target) in enumerate((("first paint (a panel border)", ""),
                                            ("first frame (header drawn)", "target <= 0.8 s"),
                                            ("model ready (header: model)", "target <= 1.5 s"))):
            walls = [r[i].wall for r in runs]
            print(f"  {what:42} {summary(walls)}  {statistics.median(walls) / bare_first:4.1f}x the bare Textual "
                  f"app  {target}")
        ui = [r[1].cpu for r in runs]
        kid = [r[2].children_cpu for r in runs]
        print(f"  {'CPU of the UI process by its first frame':42} {summary(ui)}")
        print(f"  {'CPU of the ingestion process by model ready':42} {summary(kid)}")
    print(f"{'peer: bare Textual app, first frame':44} {summary(rows['bare'])}")
    print(f"{'threatlens scan, 3-line file':44} {summary(rows['scan'])}  "
          f"{statistics.median(rows['scan']) / statistics.median(rows['pass']):.1f}x python -c pass"
          f"{'':10} target <= 1 s")
    print(f"{'peer: python -c pass':44} {summary(rows['pass'])}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
