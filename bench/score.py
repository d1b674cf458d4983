"""Throughput of the per-request scorer (``RequestScorer.score``), with and without its caches.

python bench/score.py            # 100k generated records + the elastic log (seconds)
python bench/score.py --full     # 1M generated records

Records are parsed first (parsing is not timed). The scorer is fed batches of 1,000 records, as the
pipeline does. The peer is the same scorer with its caches cleared before every batch (it still
deduplicates within a batch), so the ratio shows what the caches buy. Times are CPU times of this
process (the machine may be shared).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from threatlens.models.classifier import RequestScorer
from threatlens.parsers import LogRecord, RawLine, get_parser
from threatlens.samplegen import generate

ROOT = Path(__file__).resolve().parents[1]
ELASTIC = ROOT / ".." / "shared" / "data" / "logs" / "elastic_apache_logs" / "apache_logs"
BATCH = 1000


def parse(lines: Sequence[str], name: str) -> list[LogRecord]:
    parser = get_parser("combined")
    out = []
    for i, line in enumerate(lines, 1):
        rec = parser.parse_raw(RawLine(name, i, 0, line.encode("utf-8", "surrogateescape")))
        if isinstance(rec, LogRecord):
            out.append(rec)
    return out


def run(scorer: RequestScorer, records: list[LogRecord], *, cached: bool) -> tuple[float, int]:
    flagged = 0
    start = time.process_time()
    for i in range(0, len(records), BATCH):
        if not cached:
            scorer.clear_cache()
        flagged += sum(v.flagged for v in scorer.score(records[i:i + BATCH]))
    return time.process_time() - start, flagged


def bench(name: str, records: list[LogRecord]) -> None:
    cached = RequestScorer.load()
    t_cached, f_cached = run(cached, records, cached=True)
    hit = cached.hits / max(cached.hits + cached.misses, 1)
    peer = RequestScorer.load()
    t_peer, f_peer = run(peer, records, cached=False)
    n = len(records)
    print(f"{name}: {n:,} records, {len({(r.method, r.path, r.query) for r in records}):,} distinct targets")
    print(f"  cached scorer : {n / t_cached:>10,.0f} records/s  {t_cached / n * 1e6:6.2f} us/record  "
          f"hit rate {hit:.1%}  flagged {f_cached:,}")
    print(f"  no-cache peer : {n / t_peer:>10,.0f} records/s  {t_peer / n * 1e6:6.2f} us/record  flagged {f_peer:,}")
    print(f"  ratio         : {t_peer / t_cached:.1f}x faster with caches")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="1M generated records instead of 100k")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    n = 1_000_000 if args.full else 100_000
    lines = list(generate(n, "combined", seed=args.seed, rate=200.0))
    bench("generated traffic", parse(lines, "generated"))
    if ELASTIC.exists():
        text = ELASTIC.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
        bench("elastic log x10", parse(text, "elastic") * 10)
    else:
        print(f"elastic log not found at {ELASTIC}; skipped")


if __name__ == "__main__":
    main()
