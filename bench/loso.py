"""Leave-one-source-out: train without a source, then score that whole source through the full scorer.

python bench/loso.py [--sources httpparams,fwaf ...] [--synthetic N]

For each attack source, a model is fitted exactly as ``threatlens train`` fits one (same features,
regularisation and calibration to a 0.2 % benign false-positive rate) on every other source, and the
left-out source's attack units are sent as requests through a :class:`RequestScorer` built on it —
so the figure includes the attack-syntax gate, per-parameter scoring and the fragments. It answers
"how does detection do on a payload family it has never seen?", which a random split cannot.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))

from payload_eval import SHARED, as_record
from threatlens.models.classifier import FORMAT, RequestScorer
from threatlens.models.dataset import training_units
from threatlens.models.features import unit_matrix
from threatlens.models.metrics import threshold_for_fpr
from threatlens.models.training import TARGET_FPR, C, _bucket

SOURCES = ("httpparams", "kaggle_xss", "fwaf", "gotestwaf", "crs", "fuzzdb", "csic_anomalous")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sources", default=",".join(SOURCES), help="comma-separated source prefixes to leave out")
    ap.add_argument("--synthetic", type=int, default=20000)
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"../shared/data absent at {SHARED}")
    units = training_units(SHARED, 0, synthetic=args.synthetic).units
    X = unit_matrix([u.text for u in units], [u.kind for u in units])
    y = np.fromiter((u.label for u in units), dtype=np.int8, count=len(units))
    w0 = np.fromiter((u.weight for u in units), dtype=np.float64, count=len(units))
    val = np.fromiter((_bucket(0, u.group) == 2 for u in units), dtype=bool, count=len(units))
    for prefix in args.sources.split(","):
        out = np.fromiter((u.source.startswith(prefix) for u in units), dtype=bool, count=len(units))
        attacks = [u for u, o in zip(units, out, strict=True) if o and u.label]
        if not attacks:
            print(f"{prefix}: no attack units")
            continue
        train = ~out & ~val
        w = w0.copy()
        pos, neg = (y == 1) & train, (y == 0) & train
        w[y == 0] *= w[pos].sum() / max(w[neg].sum(), 1.0)
        model = LogisticRegression(C=C, solver="liblinear", max_iter=300, random_state=0)
        model.fit(X[train], y[train], sample_weight=w[train])
        raw = model.predict_proba(X[val & ~out & (y == 0)])[:, 1]
        scorer = RequestScorer({"format": FORMAT, "payload": model, "raw_threshold": threshold_for_fpr(raw, TARGET_FPR),
                                "threshold": 0.5}, {"threshold": 0.5})
        flagged = 0
        for i in range(0, len(attacks), 2000):
            scorer.context = type(scorer.context)()
            flagged += sum(v.flagged for v in scorer.score([as_record(u, j) for j, u in
                                                            enumerate(attacks[i:i + 2000], i)]))
        print(f"{prefix:16s} recall {flagged / len(attacks):.3f} of {len(attacks):,} attack units", flush=True)


if __name__ == "__main__":
    main()
