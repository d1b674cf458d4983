"""Rebuild the shipped model from ``../shared/data``: split, fit, calibrate, measure, save.

The split is by *group* (source plus payload skeleton, see :func:`threatlens.models.dataset.skeleton`)
so near-duplicate payloads never sit on both sides: 70 % of groups train, 10 % calibrate the
threshold (benign false-positive rate 0.2 %), 20 % are the held-out test set whose figures go into
``model.json``. The model that ships is exactly the one measured. Half the client IPs of the
elastic log are held out as well and replayed through the full :class:`RequestScorer` for the
real-traffic figure (share of benign client IPs with any flagged request).
"""

from __future__ import annotations

import json
import platform
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

from threatlens import __version__
from threatlens.errors import DataError
from threatlens.models.classifier import FORMAT, INFO_FILE, RequestScorer, calibrate, shipped_model_path
from threatlens.models.dataset import build_signature_lists, training_units
from threatlens.models.features import N_HASH, NGRAMS, unit_matrix
from threatlens.models.metrics import detection_metrics, threshold_for_fpr
from threatlens.models.weights import save_weights

#: Target benign false-positive rate on the calibration split.
TARGET_FPR = 0.002
#: Inverse regularisation strength of the logistic regression.
C = 16.0
#: Sources whose benign units are *parameter values* (the payload-level FPR of the issue's bar).
VALUE_SOURCES = ("httpparams", "kaggle_sqli", "kaggle_xss", "gotestwaf_falsepos", "crs_no_expect", "synthetic",
                 "csic_normal")

Progress = Callable[[str, float], None]


def _bucket(seed: int, group: str) -> int:
    return zlib.crc32(f"{seed}:{group}".encode()) % 10


def _noop(_msg: str, _frac: float) -> None:
    pass


def train_model(data_dir: Path, out: Path, seed: int = 0, *, progress: Progress = _noop,
                command: str = "threatlens train", synthetic: int = 60000,
                write_signatures: bool | None = None) -> dict[str, Any]:
    """Train, measure and save a model to ``out`` (plus ``model.json`` beside it); return the info.

    ``write_signatures`` (default: when ``out`` is the shipped model) also regenerates the name
    lists shipped in the package from ``data_dir/signatures``. ``synthetic`` is the number of
    generated benign paths and queries.
    """
    import skops.io as sio

    started = time.perf_counter()
    data_dir = Path(data_dir)
    if not (data_dir / "labeled").is_dir():
        raise DataError(f"{data_dir}: no labeled/ folder (expected ../shared/data layout)")
    if write_signatures is None:
        write_signatures = out.resolve() == shipped_model_path().resolve()
    sig_sizes: dict[str, int] = {}
    if write_signatures and (data_dir / "signatures").is_dir():
        progress("signature lists", 0.02)
        sig_sizes = build_signature_lists(data_dir, Path(__file__).with_name("signature_data"))
    progress("loading labelled data", 0.05)
    us = training_units(data_dir, seed, synthetic=synthetic)
    if not us.units or len({u.label for u in us.units}) < 2:
        raise DataError(f"{data_dir}: need both attack and benign examples to train")
    units = us.units
    progress(f"features of {len(units):,} units", 0.25)
    X = unit_matrix([u.text for u in units], [u.kind for u in units])
    y = np.fromiter((u.label for u in units), dtype=np.int8, count=len(units))
    w = np.fromiter((u.weight for u in units), dtype=np.float64, count=len(units))
    buckets = np.fromiter((_bucket(seed, u.group) for u in units), dtype=np.int8, count=len(units))
    test = buckets < 2
    val = buckets == 2
    train = ~(test | val)
    pos = (y == 1) & train
    neg = (y == 0) & train
    w = w.copy()
    w[y == 0] *= w[pos].sum() / max(w[neg].sum(), 1.0)  # classes weigh the same in total
    progress(f"fitting on {int(train.sum()):,} units", 0.5)
    model = LogisticRegression(C=C, solver="liblinear", max_iter=300, random_state=seed)
    model.fit(X[train], y[train], sample_weight=w[train])
    progress("calibrating and measuring", 0.8)
    raw = model.predict_proba(X[~train])[:, 1]
    all_raw = np.zeros(len(units))
    all_raw[~train] = raw
    raw_threshold = threshold_for_fpr(all_raw[val & (y == 0)], TARGET_FPR)
    scores = calibrate(all_raw, raw_threshold)
    t_idx = np.flatnonzero(test)
    cats = [units[i].category for i in t_idx]
    srcs = [units[i].source for i in t_idx]
    payload = detection_metrics(y[t_idx], scores[t_idx], 0.5, cats, srcs)
    value_sel = np.array([units[i].label == 1 or (units[i].source in VALUE_SOURCES and units[i].kind == "query")
                          for i in t_idx])
    values = detection_metrics(y[t_idx][value_sel], scores[t_idx][value_sel], 0.5)
    model_dict = {"format": FORMAT, "payload": model, "raw_threshold": float(raw_threshold), "threshold": 0.5,
                  "version": __version__, "n_hash": N_HASH, "ngrams": list(NGRAMS)}
    out.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(model_dict, out)
    save_weights(model_dict, out)  # the same weights as plain arrays: what the scan and the monitor load

    progress("replaying held-out real traffic", 0.9)
    scorer = RequestScorer(model_dict, {"threshold": 0.5})
    real = real_traffic_figures(scorer, us.heldout_log_records)
    secrepo = data_dir / "logs/secrepo_url_lists/feb_2017.csv"
    info: dict[str, Any] = {
        "model_file": out.name,
        "version": __version__,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": command,
        "seed": seed,
        "threshold": 0.5,
        "raw_threshold": round(float(raw_threshold), 6),
        "model": f"LogisticRegression(C={C}, liblinear) on hashed char {NGRAMS[0]}-{NGRAMS[1]}-grams "
                 f"(2^{N_HASH.bit_length() - 1}) + numeric features of the decoded query and path",
        "training_data": {
            "dir": "../shared/data",
            "units": len(units),
            "train": int(train.sum()),
            "calibration": int(val.sum()),
            "test": int(test.sum()),
            "attacks": int(y.sum()),
            "sources": sorted({u.source for u in units}),
            "split": "by group = source + payload skeleton; 70/10/20 train/calibration/test",
            "signature_lists": sig_sizes,
        },
        "metrics": {
            "payload_test": payload,
            "payload_test_benign_values": {k: values[k] for k in ("recall", "fpr", "roc_auc", "pr_auc", "n",
                                                                   "benign")},
            "elastic_heldout_ips": real,
        },
        "environment": {"python": platform.python_version(), "scikit-learn": sklearn.__version__},
        "train_seconds": None,
    }
    if secrepo.exists():
        from threatlens.models.dataset import load_labeled

        rows = load_labeled(secrepo)
        v = RequestScorer(model_dict, {"threshold": 0.5}).score([r.record for r in rows])
        info["metrics"]["secrepo_feb_2017_weak_labels"] = detection_metrics(
            [r.label for r in rows], [x.score for x in v], 0.5)
    info["train_seconds"] = round(time.perf_counter() - started, 1)
    out.with_name(INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    progress("done", 1.0)
    return info


def real_traffic_figures(scorer: RequestScorer, records: list[Any]) -> dict[str, Any]:
    """Share of client IPs with any flagged request, and the flagged lines, over ``records``."""
    verdicts = scorer.score(records)
    ips = {r.ip for r in records}
    flagged_ips: dict[str, list[str]] = {}
    for r, v in zip(records, verdicts, strict=True):
        if v.flagged:
            flagged_ips.setdefault(r.ip, []).append(f"{r.method} {r.target} {r.status} :: {'; '.join(v.reasons)}")
    return {
        "records": len(records),
        "ips": len(ips),
        "flagged_requests": sum(v.flagged for v in verdicts),
        "flagged_ips": len(flagged_ips),
        "flagged_ip_share": round(len(flagged_ips) / max(len(ips), 1), 5),
        "examples": [f"{ip} {lines[0]}"[:200] for ip, lines in sorted(flagged_ips.items())[:40]],
    }

