"""CPU µs per line of each stage of ``threatlens scan`` with detection on, one core, in this process.

    python bench/stages.py                 # the first 200k lines of bench/out/combined-1000k.log
    python bench/stages.py --lines 1000000

Stages, in the order the scan runs them on each batch: read (lines from the file), parse, score (the
per-request scorer, site context included), behaviour (per-IP detectors), campaigns, crossref (web and
firewall per IP), aggregates, the JSONL output (``request_json``, what ``--output jsonl`` writes per line;
its peer, the stdlib encoder on ``request_dict``, must give the same bytes) and, apart, the CSV output
(``request_csv``, what ``--output csv`` writes; its peer, ``csv.writer`` on ``csv_safe`` cells of
``request_dict``, the same bytes). CPU time (``time.process_time``)
so a busy neighbour counts less; still noisy: run twice.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_logs import write_log
from threatlens.csvrow import request_csv
from threatlens.export import CSV_COLUMNS, csv_safe
from threatlens.parsers import LogRecord, detect_format
from threatlens.scanner import build_pipeline
from threatlens.serialize import json_line, request_dict, request_json
from threatlens.sources import iter_batches


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=200_000, help="lines of the 1M-line log to run (default 200k)")
    ap.add_argument("--file", type=Path, help="a log to use instead")
    args = ap.parse_args()
    path = args.file or write_log(1_000_000, "combined", seed=7, reuse=True)
    pipeline = build_pipeline(detect=True)
    detection = pipeline.detection
    assert detection is not None and pipeline.stats is not None and pipeline.crossref is not None
    parser = None
    cpu: dict[str, float] = defaultdict(float)
    clock = time.process_time
    n = 0
    peer_cpu = 0.0
    csv_cpu = csv_peer_cpu = 0.0  # instead of the JSONL output: not in the total
    reading = iter(iter_batches(str(path)))
    while n < args.lines:
        t = clock()
        batch = next(reading, None)
        cpu["read"] += clock() - t
        if batch is None:
            break
        batch = batch[: args.lines - n]
        n += len(batch)
        if parser is None:
            parser = detect_format([r.data for r in batch[:200]]).parser
        t = clock()
        results = parser.parse_batch(batch)
        t2 = clock()
        cpu["parse"] += t2 - t
        records = [r for r in results if type(r) is LogRecord]
        verdicts = detection.scorer.score(records)
        t3 = clock()
        cpu["score"] += t3 - t2
        alerts = detection.behaviour.observe(records, verdicts)
        t4 = clock()
        cpu["behaviour"] += t4 - t3
        alerts += detection.campaigns.observe(records, verdicts)
        t5 = clock()
        cpu["campaigns"] += t5 - t4
        alerts += pipeline.crossref.observe(records, verdicts, alerts)
        t6 = clock()
        cpu["crossref"] += t6 - t5
        pipeline.stats.update(records, verdicts, alerts, [], [])
        t7 = clock()
        cpu["aggregates"] += t7 - t6
        text = "".join([request_json(r, v, None) + "\n" for r, v in zip(records, verdicts, strict=True)])
        t8 = clock()
        cpu["jsonl output"] += t8 - t7
        peer = "".join([json_line(request_dict(r, v, None)) + "\n" for r, v in zip(records, verdicts, strict=True)])
        peer_cpu += clock() - t8
        assert peer == text
        t = clock()
        text = "".join([request_csv(r, v, None) for r, v in zip(records, verdicts, strict=True)])
        t2 = clock()
        csv_cpu += t2 - t
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for r, v in zip(records, verdicts, strict=True):
            row = request_dict(r, v, None)
            writer.writerow([csv_safe(row.get(c)) for c in CSV_COLUMNS])
        csv_peer_cpu += clock() - t2
        assert buffer.getvalue() == text
    total = sum(cpu.values())
    print(f"{path.name}: {n:,} lines, {total:.1f} CPU s, {n / total:,.0f} lines per CPU-second (all stages)")
    print(f"{'stage':<14}{'µs/line':>9}{'share':>8}")
    for stage, seconds in cpu.items():
        print(f"{stage:<14}{seconds / n * 1e6:>9.2f}{seconds / total:>8.0%}")
    print(f"peer: JSONL by json_line(request_dict(...)), the same bytes: {peer_cpu / n * 1e6:.2f} µs/line")
    print(f"CSV output instead of JSONL (request_csv): {csv_cpu / n * 1e6:.2f} µs/line")
    print(f"peer: CSV by csv.writer on csv_safe(request_dict(...)), the same bytes: "
          f"{csv_peer_cpu / n * 1e6:.2f} µs/line")


if __name__ == "__main__":
    main()
