"""Regenerate the benchmark logs into bench/out/ (gitignored) with the seeded sample generator.

python bench/make_logs.py            # 100k lines per format (seconds)
python bench/make_logs.py --full     # 1M-line combined log (+ 100k of the others), under ~15 s
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from threatlens.samplegen import write_sample

OUT = Path(__file__).resolve().parent / "out"


def write_log(lines: int, fmt: str = "combined", seed: int = 7, *, reuse: bool = False) -> Path:
    """Write (or with ``reuse``, keep an existing) ``bench/out/{fmt}-{lines//1000}k.log`` and its labels."""
    path = OUT / f"{fmt}-{lines // 1000}k.log"
    if reuse and path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    counts = write_sample(path, lines, fmt, seed, rate=50.0, labels_path=path.with_suffix(".labels.tsv"))
    took = time.perf_counter() - began
    attacks = sum(v for k, v in counts.items() if k.startswith("attacker:"))
    print(
        f"{path}: {lines:,} lines, {path.stat().st_size / 1e6:.1f} MB, {took:.1f} s "
        f"({lines / took:,.0f} lines/s), attack lines {attacks / lines:.1%}"
    )
    return path


def main() -> None:
    """Write the logs and their label files, and print lines/s."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="1,000,000 lines of combined (default 100,000)")
    ap.add_argument("--lines", type=int, help="lines of the combined log (overrides --full)")
    ap.add_argument("--formats", default="combined", help="comma-separated formats (default: combined)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    n = args.lines or (1_000_000 if args.full else 100_000)
    for fmt in args.formats.split(","):
        write_log(n if fmt == "combined" else min(n, 100_000), fmt, args.seed)


if __name__ == "__main__":
    main()
