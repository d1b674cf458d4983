"""Parsing throughput: ThreatLens' compiled parser vs apache-log-parser on the same combined lines.

Default: 100k generated lines (seconds). ``--full``: the 1M-line benchmark log. apache-log-parser is
run on a slice (it manages a few thousand lines/s) and its rate is extrapolated per line.
Parsing runs in batches, as the pipeline does (results of a batch are dropped after use).
"""

from __future__ import annotations

import argparse
import gc
import time
import warnings
from pathlib import Path

from threatlens.parsers import COMBINED, RawLine, Unparsed, get_parser
from threatlens.samplegen import generate


def load_lines(n: int, path: Path | None) -> list[bytes]:
    if path is not None:
        return path.read_bytes().splitlines()[:n]
    return [line.encode() for line in generate(n, "combined", seed=7)]


def bench_ours(lines: list[bytes], batch: int = 2000) -> tuple[float, int]:
    parser = get_parser("combined")
    raws = [RawLine("bench.log", i + 1, 0, line) for i, line in enumerate(lines)]
    unparsed = 0
    gc.collect()
    start = time.perf_counter()
    for i in range(0, len(raws), batch):
        for result in parser.parse_batch(raws[i:i + batch]):
            if type(result) is Unparsed:
                unparsed += 1
    return len(raws) / (time.perf_counter() - start), unparsed


def bench_oracle(lines: list[bytes], budget_s: float) -> tuple[float, int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import apache_log_parser

        parse = apache_log_parser.make_parser(COMBINED)
        done = 0
        start = time.perf_counter()
        for line in lines:
            parse(line.decode("utf-8", "replace"))
            done += 1
            if done % 200 == 0 and time.perf_counter() - start > budget_s:
                break
        return done / (time.perf_counter() - start), done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--full", action="store_true", help="1M lines (default 100k)")
    ap.add_argument("--lines", type=int, help="number of lines")
    ap.add_argument("--file", type=Path, help="use this combined log instead of generated lines")
    ap.add_argument("--oracle-seconds", type=float, default=5.0, help="time budget for apache-log-parser")
    args = ap.parse_args()
    n = args.lines or (1_000_000 if args.full else 100_000)
    t0 = time.perf_counter()
    lines = load_lines(n, args.file)
    print(f"{len(lines):,} combined lines ready in {time.perf_counter() - t0:.1f} s")
    ours = [bench_ours(lines) for _ in range(3)]
    best = max(r for r, _ in ours)
    gc.freeze()  # as the pipeline does after start-up, so long-lived objects are not re-scanned
    frozen = max(bench_ours(lines)[0] for _ in range(2))
    gc.unfreeze()
    oracle_rate, oracle_n = bench_oracle(lines, args.oracle_seconds)
    print(f"{'parser':<34}{'lines/s':>12}{'µs/line':>10}")
    print(f"{'threatlens combined':<34}{best:>12,.0f}{1e6 / best:>10.2f}")
    print(f"{'threatlens combined (gc frozen)':<34}{frozen:>12,.0f}{1e6 / frozen:>10.2f}")
    print(f"{'apache-log-parser 1.7 (' + format(oracle_n, ',') + ' lines)':<34}{oracle_rate:>12,.0f}"
          f"{1e6 / oracle_rate:>10.2f}")
    print(f"ratio threatlens / apache-log-parser: {best / oracle_rate:.0f}x; unparsed lines: {ours[0][1]}")


if __name__ == "__main__":
    main()
