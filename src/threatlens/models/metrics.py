"""Detection figures: precision, recall, F1, ROC-AUC, PR-AUC, false-positive rate, per category."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def detection_metrics(
    labels: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    threshold: float,
    categories: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
) -> dict[str, Any]:
    """All figures for binary ``labels`` (1 = attack) and ``scores`` at ``threshold``.

    ``categories`` (the true category of each attack) gives per-category recall; ``sources`` gives
    per-source recall (attacks) and false-positive rate (benign). AUCs are ``None`` when only one
    class is present.
    """
    y = np.asarray(labels, dtype=int)
    s = np.asarray(scores, dtype=float)
    pred = s >= threshold
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    tn = int(np.sum(~pred & (y == 0)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    both = 0 < int(y.sum()) < len(y)
    out: dict[str, Any] = {
        "n": len(y),
        "attacks": int(y.sum()),
        "benign": int(len(y) - y.sum()),
        "threshold": round(float(threshold), 4),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "fpr": round(fp / (fp + tn), 5) if fp + tn else 0.0,
        "roc_auc": round(float(roc_auc_score(y, s)), 5) if both else None,
        "pr_auc": round(float(average_precision_score(y, s)), 5) if both else None,
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
    }
    if categories is not None:
        cats = np.asarray(categories, dtype=object)
        per: dict[str, dict[str, float]] = {}
        for cat in sorted({c for c, lab in zip(cats, y, strict=True) if lab == 1 and c}):
            sel = (cats == cat) & (y == 1)
            per[cat] = {"n": int(sel.sum()), "recall": round(float(pred[sel].mean()), 4)}
        out["per_category_recall"] = per
    if sources is not None:
        srcs = np.asarray(sources, dtype=object)
        per_src: dict[str, dict[str, float]] = {}
        for src in sorted(set(srcs.tolist())):
            sel = srcs == src
            att = sel & (y == 1)
            ben = sel & (y == 0)
            row: dict[str, float] = {"n": int(sel.sum())}
            if att.any():
                row["recall"] = round(float(pred[att].mean()), 4)
            if ben.any():
                row["fpr"] = round(float(pred[ben].mean()), 5)
            per_src[src] = row
        out["per_source"] = per_src
    return out


def threshold_for_fpr(benign_scores: Sequence[float], target_fpr: float) -> float:
    """The lowest threshold whose false-positive rate on ``benign_scores`` is at most ``target_fpr``."""
    b = np.sort(np.asarray(benign_scores, dtype=float))
    if len(b) == 0:
        return 0.5
    k = int(np.floor(len(b) * (1 - target_fpr)))
    if k >= len(b):
        return float(np.nextafter(b[-1], np.inf))
    return float(np.nextafter(b[k - 1], np.inf)) if k > 0 else float(b[0])
