"""Key response of the real ``threatlens-tui`` in a real terminal (tmux) while a writer floods its log.

What a user at the keyboard sees: the monitor runs in a tmux session (160x48), a writer process appends
to its log at each rate (``bench/tui.py``'s writer), and this script presses keys with ``tmux send-keys``
and captures the pane every few milliseconds until the screen shows the key's effect:

* ``p`` -> ``PAUSED`` in the header, ``p`` again -> gone;
* ``?`` -> the help screen, ``Escape`` -> the dashboard again;
* ``Enter`` on the top client -> its IP screen, ``Escape`` -> the dashboard again;
* ``s`` -> the top IPs panel titled with the next sort order.

Keys and captures go through one tmux control-mode client, so measuring starts no process (a ``tmux`` process per
capture, session 5's method, ``--spawn-captures``, took a good part of a core on 2 cores). Each time counts from
just before the key is sent to the first capture showing its effect, so it includes tmux's own delivery: the peer
row, the same keys with no writer (rate 0), shows that floor in the same run. Reports p50 / p99 / max per key and
rate, and the load average.

    .venv/bin/python bench/keys.py [--rates 0,5000,10000] [--seconds 30]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SIZE = (160, 48)
POLL = 0.004  # seconds between captures while waiting for a key's effect
TIMEOUT = 5.0


class Pane:
    """One tmux server (its own socket) running the monitor.

    Captures go through one control-mode client (``tmux -C``): a ``tmux capture-pane`` process per poll, every
    4 ms, took a good part of a core on this 2-core machine and delayed what it measured (``spawn=True`` keeps
    that way, as in session 5).
    """

    spawn = False  #: capture with a ``tmux`` process per poll (session 5's method)

    def __init__(self, socket: str) -> None:
        self.socket = socket
        self._control: subprocess.Popen[str] | None = None

    def tmux(self, *args: str) -> str:
        """Run a tmux command on this server; its output."""
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                              check=False).stdout

    def screen(self) -> str:
        """The visible text of the pane."""
        if self._control is None:
            return self.tmux("capture-pane", "-p", "-t", "tl")
        return self._command("capture-pane -p -t tl")

    def _command(self, command: str) -> str:
        """One command through the control client; its output (the lines between ``%begin`` and ``%end``)."""
        control = self._control
        assert control is not None and control.stdin is not None
        control.stdin.write(command + "\n")
        control.stdin.flush()
        return self._reply()

    def _reply(self) -> str:
        """The next command output block of the control client."""
        control = self._control
        assert control is not None and control.stdout is not None
        lines: list[str] | None = None
        while True:
            line = control.stdout.readline()
            if not line:
                return ""
            if line.startswith("%begin"):
                lines = [] if line.split()[-1] == "1" else None  # (flags 0: not a command of this client's)
            elif line.startswith(("%end", "%error")) and lines is not None:
                return "".join(lines)
            elif lines is not None:
                lines.append(line)

    def start(self, command: str) -> None:
        """A detached session running ``command`` (and the control client that captures it)."""
        self.tmux("new-session", "-d", "-s", "tl", "-x", str(SIZE[0]), "-y", str(SIZE[1]), command)
        if not self.spawn:
            self._control = subprocess.Popen(
                ["tmux", "-L", self.socket, "-C", "attach-session", "-t", "tl", "-f", "no-output,ignore-size"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
            self._command("display-message -p ready")

    def keys(self, *keys: str) -> None:
        """Press keys (tmux key names)."""
        if self._control is None:
            self.tmux("send-keys", "-t", "tl", *keys)
        else:
            self._command(" ".join(["send-keys", "-t", "tl", *keys]))

    def kill(self) -> None:
        """Stop the tmux server and the monitor with it."""
        if self._control is not None:
            self._control.kill()
            self._control.wait()
            self._control = None
        self.tmux("kill-server")

    def quit(self) -> None:
        """``q`` to the monitor, then the tmux server goes."""
        self.keys("q")
        time.sleep(0.5)
        self.kill()

    def wait(self, done: Callable[[str], bool], timeout: float = TIMEOUT) -> float:
        """Seconds until a capture satisfies ``done`` (``nan`` after ``timeout``)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if done(self.screen()):
                return time.monotonic() - t0
            time.sleep(POLL)
        return float("nan")

    def press(self, key: str, done: Callable[[str], bool]) -> float:
        """Seconds from pressing ``key`` to a capture satisfying ``done``."""
        t0 = time.monotonic()
        self.keys(key)
        while time.monotonic() - t0 < TIMEOUT:
            if done(self.screen()):
                return time.monotonic() - t0
            time.sleep(POLL)
        return float("nan")


def start_writer(log: Path, lines_file: Path, rate: int, seconds: float) -> subprocess.Popen[bytes]:
    """``bench/tui.py``'s writer appending ``lines_file``'s lines to ``log`` at ``rate`` lines/s for ``seconds``."""
    writer = subprocess.Popen([sys.executable, str(BENCH / "tui.py"), "--writer", str(log), str(lines_file), str(rate),
                               str(seconds)], stdout=subprocess.DEVNULL)
    time.sleep(1.0)  # running before the first measurement
    return writer


def header(screen: str) -> str:
    return screen.split("\n", 1)[0]


def on_dashboard(screen: str) -> bool:
    return "Top IPs by" in screen and "ThreatLens keys" not in screen


def top_title(screen: str) -> str:
    for row in screen.splitlines():
        if "Top IPs by" in row:
            return row.split("Top IPs by", 1)[1].split("(", 1)[0]
    return ""


def one_rate(rate: int, seconds: float, lines_file: Path, workdir: Path, socket: str) -> dict[str, list[float]]:
    """Press the keys for ``seconds`` while the writer appends at ``rate`` lines/s; latencies per key."""
    log = workdir / f"access-{rate}.log"
    log.write_bytes(lines_file.read_bytes()[: 2 << 20])  # some history so the tables are full
    exe = Path(sys.executable).with_name("threatlens-tui")
    pane = Pane(socket)
    pane.start(f"{exe} --from-start --config {workdir / 'config.toml'} {log}")
    times: dict[str, list[float]] = {k: [] for k in ("p", "p again", "?", "Esc (help)", "Enter", "Esc (IP)", "s")}
    try:
        pane.wait(lambda s: "model threatlens-model" in header(s) and "reading existing" not in s, 60)
        time.sleep(1.0)
        writer = None
        if rate:
            writer = start_writer(log, lines_file, rate, seconds + 2)
        t_end = time.monotonic() + seconds
        while time.monotonic() < t_end:
            times["p"].append(pane.press("p", lambda s: "PAUSED" in header(s)))
            time.sleep(0.2)
            times["p again"].append(pane.press("p", lambda s: "PAUSED" not in header(s)))
            time.sleep(0.2)
            times["?"].append(pane.press("?", lambda s: "ThreatLens keys" in s))
            time.sleep(0.2)
            times["Esc (help)"].append(pane.press("Escape", on_dashboard))
            time.sleep(0.2)
            times["Enter"].append(pane.press("Enter", lambda s: header(s).startswith(" IP ") and "first seen" in s))
            time.sleep(0.2)
            times["Esc (IP)"].append(pane.press("Escape", on_dashboard))
            time.sleep(0.2)
            before = top_title(pane.screen())
            times["s"].append(pane.press("s", lambda s, b=before: top_title(s) not in ("", b)))
            time.sleep(0.2)
        if writer is not None:
            writer.wait(30)
    finally:
        pane.quit()
    return times


def pct(values: list[float], q: float) -> float:
    """The q-th percentile of the measured values (nearest rank; timeouts left out)."""
    ok = sorted(v for v in values if v == v)
    if not ok:
        return float("nan")
    return ok[min(len(ok) - 1, round(q / 100 * (len(ok) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rates", default="0,5000,10000", help="lines/s, comma-separated (0: no writer, the peer)")
    ap.add_argument("--seconds", type=float, default=30.0, help="seconds of key presses per rate")
    ap.add_argument("--spawn-captures", action="store_true",
                    help="capture with a tmux process per poll (session 5's method; it loads the machine)")
    args = ap.parse_args()
    Pane.spawn = args.spawn_captures
    if shutil.which("tmux") is None:
        print("tmux is not installed (apt-get install tmux): nothing measured")
        return 0
    from threatlens.samplegen import generate

    rates = [int(r) for r in args.rates.split(",")]
    print(f"threatlens-tui in tmux {SIZE[0]}x{SIZE[1]}, {args.seconds:.0f} s of keys per rate, captures by "
          f"{'a tmux process each' if Pane.spawn else 'a control client'}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        lines_file = workdir / "lines.log"
        lines_file.write_text("".join(f"{x}\n" for x in generate(50_000, "combined", seed=3)), encoding="utf-8")
        print(f"{'lines/s':>8} {'key':<11} {'n':>4} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'lost':>5}")
        for rate in rates:
            times = one_rate(rate, args.seconds, lines_file, workdir, f"threatlens-keys-{os.getpid()}")
            for key, values in times.items():
                ok = [v for v in values if v == v]
                print(f"{rate:>8} {key:<11} {len(values):>4} {pct(ok, 50) * 1000:>7.0f} {pct(ok, 99) * 1000:>7.0f} "
                      f"{max(ok, default=float('nan')) * 1000:>7.0f} {len(values) - len(ok):>5}")
            every = [v for vs in times.values() for v in vs if v == v]
            print(f"{rate:>8} {'all keys':<11} {len(every):>4} {pct(every, 50) * 1000:>7.0f} "
                  f"{pct(every, 99) * 1000:>7.0f} {max(every, default=float('nan')) * 1000:>7.0f}"
                  f"   load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
