"""Payload-level figures on values never seen in training, through the whole per-request scorer.

python bench/payload_eval.py [--synthetic N]

Rebuilds the training units of ``threatlens train --seed 0`` from ../shared/data, takes the held-out
test groups, and keeps only the units whose main value (the path, or the longest parameter value)
never appears, after normalisation, in the training split of *any* source: the same benign values
recur across sources, and a figure on values the model saw is flattering. Each remaining unit is
sent as a request (``GET /search?<query>`` or ``GET <path>``, answered 200) through the shipped
:class:`RequestScorer`, so the figures include the attack-syntax gate, per-parameter scoring and the
fragments, not the bare model. Prints recall per category, the false-positive rate on benign
parameter values and on all benign units, and ROC-AUC.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import quote

from sklearn.metrics import roc_auc_score

from threatlens.models.classifier import RequestScorer
from threatlens.models.dataset import Unit, make_record, training_units
from threatlens.models.training import VALUE_SOURCES, _bucket

ROOT = Path(__file__).resolve().parents[1]
SHARED = (ROOT / ".." / "shared" / "data").resolve()


def values(u: Unit) -> list[str]:
    """The normalised values a unit carries (a path is one value)."""
    if u.kind == "path":
        return [u.text]
    return [p.partition("=")[2].strip() or p for p in u.text.split("&") if p]


def main_value(u: Unit) -> str:
    return max(values(u), key=len, default="")


def as_record(u: Unit, i: int):  # type: ignore[no-untyped-def]
    if u.kind == "path":  # a real log splits the target at "?": so does this
        path, sep, query = u.text.partition("?")
        return make_record("GET", quote(path, safe="/;=,~!*'()@:$+"),
                           quote(query, safe="=&/,~!*'()@:$+") if sep else None, line=i)
    return make_record("GET", "/search", quote(u.text, safe="=&/,~!*'()@:$+"), line=i)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--synthetic", type=int, default=60000, help="generated benign units, as in training")
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"../shared/data absent at {SHARED}")
    units = training_units(SHARED, 0, synthetic=args.synthetic).units
    buckets = [_bucket(0, u.group) for u in units]
    seen = {v for u, b in zip(units, buckets, strict=True) if b >= 3 for v in values(u)}
    test = [u for u, b in zip(units, buckets, strict=True) if b < 2]
    unseen = [u for u in test if main_value(u) not in seen]
    print(f"test units {len(test):,}; with a main value never seen in training: {len(unseen):,} "
          f"({sum(u.label for u in unseen):,} attacks)")
    scorer = RequestScorer.load()
    verdicts = []
    for i in range(0, len(unseen), 2000):  # each chunk a fresh site: payload figures, not site context
        scorer.context = type(scorer.context)()
        verdicts += scorer.score([as_record(u, j) for j, u in enumerate(unseen[i:i + 2000], i)])
    labels = [u.label for u in unseen]
    scores = [v.score for v in verdicts]
    flagged = [v.flagged for v in verdicts]
    print(f"ROC-AUC {roc_auc_score(labels, scores):.4f}")
    cats: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    for u, f in zip(unseen, flagged, strict=True):
        if u.label:
            cats[u.category] += 1
            hits[u.category] += f
    total = sum(cats.values())
    print(f"recall {sum(hits.values()) / total:.4f} of {total:,} attacks")
    for cat in sorted(cats):
        print(f"  {cat:16s} {hits[cat] / cats[cat]:.4f} of {cats[cat]:,}")
    inj = [c for c in ("sqli", "xss", "path_traversal", "cmd_injection") if cats[c]]
    n_inj = sum(cats[c] for c in inj)
    print(f"injection payloads (sqli, xss, traversal, cmd injection): recall "
          f"{sum(hits[c] for c in inj) / n_inj:.4f} of {n_inj:,}")
    benign_values = [f for u, f in zip(unseen, flagged, strict=True)
                     if not u.label and u.kind == "query" and u.source in VALUE_SOURCES]
    benign_all = [f for u, f in zip(unseen, flagged, strict=True) if not u.label]
    print(f"FPR on benign parameter values {sum(benign_values) / len(benign_values):.4%} "
          f"({sum(benign_values)}/{len(benign_values):,}); on all benign units "
          f"{sum(benign_all) / len(benign_all):.4%} ({sum(benign_all)}/{len(benign_all):,})")
    by_src: Counter[str] = Counter()
    fp_src: Counter[str] = Counter()
    for u, f in zip(unseen, flagged, strict=True):
        if not u.label:
            by_src[u.source] += 1
            fp_src[u.source] += f
    print("  benign FPR per source: " + ", ".join(f"{s} {fp_src[s]}/{by_src[s]}" for s in sorted(by_src)))


if __name__ == "__main__":
    main()
