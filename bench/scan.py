"""End-to-end ``threatlens scan`` with detection on vs GoAccess, on the same file in the same run.

    python bench/make_logs.py --full     # the 1M-line realistic log (bench/out/combined-1000k.log)
    python bench/scan.py --full          # or: make bench
    python bench/scan.py                 # 200k lines (seconds)

GoAccess comes from Debian: ``apt-get install goaccess`` (``make bench`` does it when run as root); without
it the GoAccess rows are skipped with a message. Each round runs GoAccess (``--log-format=COMBINED -o
report.json``) and each ``threatlens scan --output table`` variant once, alternating, so a noisy neighbour
slows both; the report gives the median and the range of the rounds and the ratio of speeds
(GoAccess wall time / ThreatLens wall time: above 1 means ThreatLens is faster). The machine state (cores,
load average) is printed with the figures: on a shared machine compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_logs import write_log

#: The ``threatlens scan`` variants timed against GoAccess (extra arguments; detection is always on).
VARIANTS: dict[str, list[str]] = {"threatlens scan -o table": ["--output", "table"]}


def parallel_variants() -> dict[str, list[str]]:
    """``-j 1`` and ``-j auto`` when this version of ``scan`` has ``-j`` (the exact parallel scan).

    When ``-j auto`` is the default, the run without ``-j`` is the ``-j auto`` row (it replaces the plain row).
    """
    help_text = subprocess.run([sys.executable, "-m", "threatlens", "scan", "--help"], capture_output=True,
                               text=True, check=True).stdout
    if " -j " not in help_text and "--jobs" not in help_text:
        return {}
    if "auto (the default)" in " ".join(help_text.split()):
        return {"threatlens scan -o table -j 1": ["--output", "table", "-j", "1"],
                "threatlens scan -o table (-j auto)": ["--output", "table"]}
    return {f"threatlens scan -o table -j {j}": ["--output", "table", "-j", j] for j in ("1", "auto")}


def timed(cmd: list[str]) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds (user+sys), peak RSS (MB) and processes of one run of ``cmd``.

    CPU and RSS are the run's own rusage (its parsing processes included); processes counts the run and the
    most ``multiprocessing`` children seen at once (a look every 0.25 s).
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    most = [0]
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.25):
            most[0] = max(most[0], spawned_children(proc.pid))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    watcher.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed with status {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, 1 + most[0]


def spawned_children(pid: int) -> int:
    """Children of ``pid`` started by ``multiprocessing``'s spawn (the parsing processes of ``-j``), from /proc."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0
    count = 0
    for child in children:
        try:
            count += b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
    return count


def goaccess_cmd(path: Path, out_dir: str) -> list[str] | None:
    exe = shutil.which("goaccess")
    if exe is None:
        return None
    return [exe, str(path), "--log-format=COMBINED", "-o", str(Path(out_dir) / "report.json")]


def machine_state() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)"


def autogroup_note() -> str | None:
    """A note when the kernel schedules by session (autogroup): then, on a busy machine, -j gets no more CPU."""
    try:
        on = Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1"
    except OSError:
        return None
    if not on:
        return None
    return ("note: the kernel's autogroup scheduling is on: all processes of one session share one session's CPU "
            "share, so while other sessions keep the cores busy, -j N gets the CPU of -j 1 (and spends 10-30 % more "
            "CPU in all, moving parsed lines); -j gains wall time only on free cores, and -j auto measures them first")


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="1M lines (default 200k)")
    ap.add_argument("--lines", type=int, help="lines in the generated log")
    ap.add_argument("--file", type=Path, help="a combined log to use instead")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    args = ap.parse_args()
    n = args.lines or (1_000_000 if args.full else 200_000)
    path = args.file or write_log(n, "combined", seed=7, reuse=True)
    lines = sum(1 for _ in path.open("rb"))
    print(f"log: {path} ({lines:,} lines, {path.stat().st_size / 1e6:.0f} MB)")
    print(f"machine at start: {machine_state()}")
    parallel = parallel_variants()
    variants = {**VARIANTS, **parallel} if "threatlens scan -o table (-j auto)" not in parallel else parallel
    if len(variants) == 1:
        print("note: this scan has no -j option (exact parallel scan not built): -j 1 / -j auto rows skipped")
    with tempfile.TemporaryDirectory() as tmp:
        ga = goaccess_cmd(path, tmp)
        if ga is None:
            print("note: goaccess not installed (apt-get install goaccess, or `make bench` as root): "
                  "GoAccess rows and ratios skipped")
        walls: dict[str, list[float]] = {name: [] for name in variants}
        cpus: dict[str, list[float]] = {name: [] for name in variants}
        peaks: dict[str, float] = {}
        processes: dict[str, list[int]] = {name: [] for name in variants}
        ga_walls: list[float] = []
        ga_cpus: list[float] = []
        for _ in range(args.rounds):
            if ga is not None:
                wall, cpu, _peak, _procs = timed(ga)
                ga_walls.append(wall)
                ga_cpus.append(cpu)
            for name, extra in variants.items():
                wall, cpu, peak, procs = timed([sys.executable, "-m", "threatlens", "scan", *extra, str(path)])
                processes[name].append(procs)
                walls[name].append(wall)
                cpus[name].append(cpu)
                peaks[name] = max(peaks.get(name, 0.0), peak)
    print(f"machine at end:   {machine_state()}")
    note = autogroup_note()
    if note and len(variants) > 1:
        print(note)
    print(f"{'run (median of ' + str(args.rounds) + ', range)':<34}{'wall s':>20}{'CPU s':>20}{'lines/s':>12}")
    if ga_walls:
        print(f"{'goaccess --log-format=COMBINED':<34}{spread(ga_walls):>20}{spread(ga_cpus):>20}"
              f"{lines / statistics.median(ga_walls):>12,.0f}")
    for name in variants:
        print(f"{name:<34}{spread(walls[name]):>20}{spread(cpus[name]):>20}"
              f"{lines / statistics.median(walls[name]):>12,.0f}  peak RSS {peaks[name]:.0f} MB")
    for name in variants:
        rounds = ", ".join(f"{w:.1f} s ({p} proc.)" for w, p in zip(walls[name], processes[name], strict=True))
        print(f"per round, {name}: {rounds}")
    if ga_walls:
        print(f"per round, goaccess: {', '.join(f'{w:.1f} s' for w in ga_walls)}")
        for name in variants:
            ratios = [g / t for g, t in zip(ga_walls, walls[name], strict=True)]
            cpu_ratios = [g / t for g, t in zip(ga_cpus, cpus[name], strict=True)]
            print(f"speed vs GoAccess, {name}: wall {spread(ratios)}x, CPU {spread(cpu_ratios)}x "
                  "(per round; >1 = faster than GoAccess)")


if __name__ == "__main__":
    main()
