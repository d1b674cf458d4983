"""End-to-end ``threatlens scan`` throughput (parse, score, behaviour, aggregates) vs GoAccess.

Default: a 200k-line generated combined log (seconds). ``--full``: the 1M-line benchmark log.
Reports, for the same file: steady-state lines/s of the pipeline in this process (after start-up),
the wall time and peak RSS of the whole ``threatlens scan`` command, and GoAccess 1.7's wall time
(``goaccess FILE --log-format=COMBINED -o report.json``; install with ``apt-get install goaccess``).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def ensure_log(lines: int) -> Path:
    path = OUT / f"combined-{lines // 1000}k.log"
    if not path.exists():
        from threatlens.samplegen import write_sample

        OUT.mkdir(parents=True, exist_ok=True)
        write_sample(path, lines, "combined", seed=7)
    return path


def steady_state(path: Path) -> tuple[float, float, int]:
    """Lines/s (wall and CPU) of the pipeline, start-up excluded."""
    from threatlens.scanner import build_pipeline, scan_paths

    pipeline = build_pipeline(detect=True)
    wall, cpu = time.perf_counter(), time.process_time()
    n = scan_paths(pipeline, [str(path)])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return n / wall, n / cpu, n


def whole_command(path: Path, extra: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of the real command."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "threatlens", "scan", *extra, str(path)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, peak_kb / 1024


def goaccess(path: Path) -> float | None:
    exe = shutil.which("goaccess")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run([exe, str(path), "--log-format=COMBINED", "-o", str(Path(tmp) / "report.json")],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="1M lines (default 200k)")
    ap.add_argument("--lines", type=int, help="lines in the generated log")
    ap.add_argument("--file", type=Path, help="a combined log to use instead")
    args = ap.parse_args()
    n = args.lines or (1_000_000 if args.full else 200_000)
    path = args.file or ensure_log(n)
    lines = sum(1 for _ in path.open("rb"))
    print(f"log: {path} ({lines:,} lines, {path.stat().st_size / 1e6:.0f} MB)")
    rows = []
    for attempt in (1, 2):
        wall_rate, cpu_rate, _ = steady_state(path)
        rows.append((f"threatlens pipeline, one process, run {attempt} (after start-up)",
                     wall_rate, f"{cpu_rate:,.0f} lines per CPU-second"))
    wall, peak = whole_command(path, [])
    rows.append(("threatlens scan (whole command, table output)", lines / wall,
                 f"{wall:.1f} s, peak RSS {peak:.0f} MB"))
    ga = goaccess(path)
    if ga is not None:
        rows.append(("goaccess 1.7 --log-format=COMBINED -o json", lines / ga, f"{ga:.1f} s, no detection"))
    print(f"{'run':<58}{'lines/s':>12}  notes")
    for name, rate, note in rows:
        print(f"{name:<58}{rate:>12,.0f}  {note}")
    if ga is not None:
        print(f"ratio threatlens scan / goaccess: {lines / wall / (lines / ga):.2f}; "
              f"best steady state / goaccess: {max(r[1] for r in rows[:2]) / (lines / ga):.2f}")


if __name__ == "__main__":
    main()
