"""Memory of ``threatlens scan`` on unique content: peak RSS at 1M distinct client IPs, a ``--follow`` soak, sizes.

    python bench/memory.py                    # 200k lines, 200k distinct IPs (a few minutes)
    python bench/memory.py --full             # 1M lines, 1M distinct IPs, random paths (bench/out, reused)
    python bench/memory.py --soak 600         # + 10-minute `scan --follow` at 10k lines/s of unique content
    python bench/memory.py --no-scan --no-structures --soak 600 --soak-content ips
                                              # the soak with a new IP per line but a site's 5,000 paths
    python bench/memory.py --structures-only  # only the per-structure sizes (in-process, after the scan)

The log (``bench/distinct_log.py``) gives every line a new client IP and a random path: every per-IP
table, cache and path table fills to its cap. ``threatlens scan -o table`` runs in a subprocess; its peak
RSS comes from its own rusage (``ru_maxrss``), its RSS over time from ``/proc/PID/status``. Peers in
the same run: ``threatlens scan`` of a 3-line file (the floor: interpreter, imports and model) and,
when installed (``make bench``), GoAccess on the same file (it keeps every distinct key, no detection).

The per-structure table builds the same pipeline in this process, scans the file, and reports for each
structure its entries (``len``), its cap and an estimate of its bytes: a walk of the objects it holds
(``sys.getsizeof``, NumPy ``nbytes``; an object shared by two structures is counted once, in the first).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import distinct_log

OUT = Path(__file__).resolve().parent / "out"


def machine_state() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)"


def rss_of(pid: int) -> float:
    """Current RSS of ``pid`` in MB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def peak_of(cmd: list[str]) -> tuple[float, float, float]:
    """(peak RSS MB, CPU s, wall s) of one run of ``cmd``, from its own rusage."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(cmd)} failed with status {os.waitstatus_to_exitcode(status)}")
    return usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, time.perf_counter() - start


# -- per-structure sizes (in this process) ----------------------------------------------------------


def deep_size(obj: object, seen: set[int]) -> int:
    """Bytes of ``obj`` and everything it holds that is not in ``seen`` yet (adds what it counts)."""
    total = 0
    stack = [obj]
    while stack:
        o = stack.pop()
        if id(o) in seen or isinstance(o, type) or callable(o):
            continue
        seen.add(id(o))
        if isinstance(o, np.ndarray):
            total += o.nbytes + 112
            if o.dtype == object:
                stack.extend(o.ravel().tolist())
            continue
        total += sys.getsizeof(o)
        if isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, list | tuple | set | frozenset):
            stack.extend(o)
        elif hasattr(o, "__dict__"):
            stack.append(vars(o))
        slots = getattr(type(o), "__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            value = getattr(o, name, None)
            if value is not None:
                stack.append(value)
    return total


def structures(pipeline: Any) -> Iterator[tuple[str, object, str]]:
    """(name, structure, cap) of every table and cache that grows with the input."""
    from threatlens.models import campaigns, classifier, site_context
    from threatlens.models.behaviour import tracker
    from threatlens.parsers import fields

    det = pipeline.detection
    sc = det.scorer
    cache = f"{sc.cache_size:,}"
    for name in ("_targets", "_combos", "_agents", "_referers", "_crawlers", "_ancient"):
        yield f"scorer.{name}", getattr(sc, name), cache
    yield "scorer._shared", sc._shared, f"{classifier._SHARED_MAX:,}"
    yield "scorer._strings", sc._strings, f"{classifier._SHARED_MAX:,}"
    yield "site_context paths", sc.context, f"{sc.context.max_paths:,}"
    yield "site_context referers", sc.context._refs_seen, f"{site_context.MAX_REFERERS:,}"
    b = det.behaviour
    yield "behaviour IP table", b._table, f"{b.max_ips:,}"
    yield "behaviour evidence", b._evidence, f"{b.max_ips:,} (IPs)"
    yield "behaviour path cache", b._path_cache, f"{tracker._CACHE_MAX:,}"
    yield "behaviour agent cache", b._agent_cache, f"{tracker._CACHE_MAX:,}"
    c = det.campaigns
    yield "campaigns probe keys", c._probe, f"{c.config.max_keys:,}"
    yield "campaigns one-shot keys", c._oneshot, f"{c.config.max_keys:,}"
    yield "campaigns IPs", c._ips, f"{c.config.max_ips:,}"
    yield "campaigns request counts", (c._count, c._count_prev), f"2 x {c.config.max_ips:,}"
    yield "campaigns caches", (c._path_cache, c._agent_cache, c._shared), f"{campaigns._CACHE_MAX:,}"
    if pipeline.portscan is not None:
        yield "port scans", pipeline.portscan._sources, f"{pipeline.portscan.max_ips:,}"
    if pipeline.crossref is not None:
        yield "web/firewall crossref", pipeline.crossref._ips, f"{pipeline.crossref.max_ips:,}"
    for p in {id(p): p for p in (pipeline._fixed, *pipeline._parsers.values()) if p is not None}.values():
        for name in dir(p):
            cache = getattr(getattr(p, name, None), "cache", None)
            if isinstance(cache, dict):
                yield f"parser {name.strip('_')} cache", cache, f"{fields._CACHE_MAX:,}"
    for name, value in sorted(vars(pipeline.stats).items()):
        yield f"stats.{name}", value, ""


def structure_sizes(path: Path) -> None:
    """Scan ``path`` in this process and print each structure's entries, cap and estimated bytes."""
    from threatlens.scanner import build_pipeline, scan_paths

    pipeline = build_pipeline(log_format="combined")
    began = time.process_time()
    lines = scan_paths(pipeline, [str(path)])
    cpu = time.process_time() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nper structure after {lines:,} lines ({cpu:.0f} CPU s in process; this process's peak {peak:.0f} MB):")
    seen: set[int] = set()
    sc = pipeline.detection.scorer
    deep_size((sc._coef_grams, sc._coef_numeric, sc._model), seen)  # the model is the floor, not a structure
    rows = []
    for name, obj, cap in structures(pipeline):
        try:
            n = f"{len(obj):,}" if not isinstance(obj, tuple) else " + ".join(f"{len(o):,}" for o in obj)
        except TypeError:
            n = ""
        rows.append((name, n, cap, deep_size(obj, seen)))
    total = sum(r[3] for r in rows)
    print(f"{'structure':32} {'entries':>17} {'cap':>17} {'MB':>7}")
    for name, n, cap, size in sorted(rows, key=lambda r: -r[3]):
        if size >= 100_000:
            print(f"{name:32} {n:>17} {cap:>17} {size / 2**20:7.1f}")
    print(f"{'all structures':32} {'':>17} {'':>17} {total / 2**20:7.1f}")


# -- the follow soak ----------------------------------------------------------------------------------


def soak(seconds: float, rate: int, every: float, content: str = "unique") -> None:
    """``scan --follow -o jsonl`` on a file written at ``rate`` lines/s: RSS over time.

    ``content``: ``unique`` (a new IP and a random path on every line: the worst case for every table) or
    ``ips`` (a new IP on every line, paths from a site's bounded set: per-IP tables fill at a real site's cost
    per line, so the follower can keep up with 10k lines/s).
    """
    tmp = Path(tempfile.mkdtemp(prefix="threatlens-soak-"))
    log = tmp / "access.log"
    log.touch()
    cmd = [sys.executable, "-m", "threatlens", "scan", "--follow", "-o", "jsonl", "--log-format", "combined", str(log)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    done = [0]

    def count() -> None:
        assert proc.stdout is not None
        for _ in proc.stdout:
            done[0] += 1

    reader = threading.Thread(target=count, daemon=True)
    reader.start()
    time.sleep(3)  # start-up: the follower opens the file at its end
    written = 0
    chunk = max(1, rate // 10)
    start = time.perf_counter()
    next_report = every
    what = "unique content" if content == "unique" else "a new IP per line, a site's 5,000 paths and 20k URLs"
    print(f"\nsoak: {' '.join(cmd[2:])}, {rate:,} lines/s ({what}) for {seconds:.0f} s ({machine_state()})")
    print(f"{'s':>5} {'written':>11} {'processed':>11} {'RSS MB':>7}")
    with log.open("a") as f:
        while True:
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
            due = int(elapsed * rate)
            while written < due:
                n = min(chunk, due - written)
                f.writelines(distinct_log.lines(written, n, site_paths=content == "ips"))
                written += n
            f.flush()
            if elapsed >= next_report:
                print(f"{elapsed:5.0f} {written:11,} {done[0]:11,} {rss_of(proc.pid):7.0f}", flush=True)
                next_report += every
            time.sleep(0.1)
    print(f"{seconds:5.0f} {written:11,} {done[0]:11,} {rss_of(proc.pid):7.0f}  (writer stops)")
    proc.terminate()
    _pid, _status, usage = os.wait4(proc.pid, 0)
    print(f"peak RSS {usage.ru_maxrss / 1024:.0f} MB, {usage.ru_utime + usage.ru_stime:.0f} CPU s")
    shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="1M lines (default 200k)")
    ap.add_argument("--lines", type=int, help="lines of the generated log")
    ap.add_argument("--soak", type=float, default=0, metavar="SECONDS", help="also a --follow soak this long")
    ap.add_argument("--rate", type=int, default=10_000, help="soak lines/s (default 10,000)")
    ap.add_argument("--soak-content", choices=("unique", "ips"), default="unique",
                    help="soak lines: unique (new IP and random path, default) or ips (new IP, a site's paths)")
    ap.add_argument("--every", type=float, default=20, help="soak: seconds between RSS samples (default 20)")
    ap.add_argument("--structures-only", action="store_true", help="only the per-structure sizes")
    ap.add_argument("--no-structures", action="store_true", help="skip the per-structure sizes")
    ap.add_argument("--no-scan", action="store_true", help="skip the scan subprocess (e.g. only --soak)")
    args = ap.parse_args()
    n = args.lines or (1_000_000 if args.full else 200_000)
    path = distinct_log.write(OUT / f"distinct-{n // 1000}k.log", n)
    print(f"{path}: {n:,} lines, every one a new client IP; {machine_state()}")
    if not args.structures_only and not args.no_scan:
        tiny = Path(tempfile.mkdtemp(prefix="threatlens-mem-")) / "tiny.log"
        tiny.write_text("".join(distinct_log.lines(0, 3)))
        scan = [sys.executable, "-m", "threatlens", "scan", "-o", "table", "--log-format", "combined"]
        floor, cpu0, _ = peak_of([*scan, str(tiny)])
        print(f"threatlens scan, 3-line file (the floor)     peak RSS {floor:6.0f} MB   {cpu0:6.1f} CPU s")
        peak, cpu, wall = peak_of([*scan, str(path)])
        print(f"threatlens scan, {n:,} distinct IPs    peak RSS {peak:6.0f} MB   {cpu:6.1f} CPU s "
              f"({n / cpu:,.0f} lines/CPU s, {wall:.0f} s wall); {peak - floor:.0f} MB over the floor")
        goaccess = shutil.which("goaccess")
        if goaccess is None:
            print("GoAccess: not installed (make bench installs it as root): row skipped")
        else:
            report = tiny.with_name("report.json")
            g, gcpu, _ = peak_of([goaccess, str(path), "--log-format=COMBINED", "-o", str(report)])
            print(f"GoAccess 1.x, same file (no detection)      peak RSS {g:6.0f} MB   {gcpu:6.1f} CPU s; "
                  f"ThreatLens/GoAccess peak {peak / g:.2f}x")
        print(f"after: {machine_state()}")
    if not args.no_structures:
        structure_sizes(path)
    if args.soak:
        soak(args.soak, args.rate, args.every, args.soak_content)


if __name__ == "__main__":
    main()
