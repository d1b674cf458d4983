"""The learned baseline: an IsolationForest over per-IP window features of the site's own history.

``train_baseline`` replays access logs through a :class:`BehaviourTracker` (no scorer), collects
the feature row of every IP burst at each checkpoint the live tracker evaluates (20, 40, 80 ...
requests), fits an IsolationForest and saves it with skops beside the config. ``Baseline.load``
reads it back with a fixed allowlist of types (never pickle). When loaded, IPs whose windows
lie far outside raise ``anomalous_behaviour`` alerts.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from threatlens.errors import DataError, ModelError
from threatlens.models.behaviour import FEATURE_NAMES, BehaviourTracker
from threatlens.models.safe_load import load_trusted
from threatlens.models.verdict import Verdict
from threatlens.parsers import LogRecord, detect_format
from threatlens.sources import iter_batches

FORMAT = "threatlens-baseline/1"
#: Types a baseline file may contain beyond skops' defaults; anything else is refused.
TRUSTED_TYPES: tuple[str, ...] = ("sklearn.tree._tree.Tree",)
MIN_WINDOWS = 30  #: fewer training windows than this cannot describe a site's normal
_QUANTILE = 0.995  #: training windows above this anomaly quantile are treated as the history's own outliers
_FLOOR = 0.62  #: never alert below this IsolationForest anomaly score (0.5 = ordinary)


def default_baseline_path() -> Path:
    """``$XDG_CONFIG_HOME/threatlens/baseline.skops`` (``~/.config/...`` by default)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "threatlens" / "baseline.skops"


class Baseline:
    """A fitted IsolationForest with its alert threshold; ``score`` is higher for stranger windows."""

    def __init__(self, model: Any, threshold: float, info: dict[str, Any] | None = None) -> None:
        self.model = model
        self.threshold = float(threshold)
        self.info: dict[str, Any] = dict(info or {})

    def score(self, features: np.ndarray) -> np.ndarray:
        """IsolationForest anomaly score per row, in (0, 1]: about 0.5 is ordinary, near 1 is isolated."""
        return -self.model.score_samples(np.atleast_2d(np.asarray(features, dtype=np.float64)))

    def save(self, path: str | Path) -> Path:
        """Write the baseline with skops (creating the directory); return the path."""
        import skops.io as sio

        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        sio.dump({"format": FORMAT, "model": self.model, "threshold": self.threshold,
                  "features": list(FEATURE_NAMES), "info": self.info}, p)
        return p

    @classmethod
    def load(cls, path: str | Path) -> Baseline:
        """Load a baseline file; ``ModelError`` if missing, unreadable, untrusted or of another kind."""
        from sklearn.ensemble import IsolationForest

        p = Path(path)
        obj = load_trusted(p, TRUSTED_TYPES, what="baseline")
        if not isinstance(obj, dict) or obj.get("format") != FORMAT:
            raise ModelError(f"{p}: not a ThreatLens baseline ({FORMAT} expected)")
        if not isinstance(obj.get("model"), IsolationForest):
            raise ModelError(f"{p}: baseline model is not an IsolationForest")
        if list(obj.get("features", [])) != list(FEATURE_NAMES):
            raise ModelError(f"{p}: baseline was trained on other features; retrain it")
        return cls(obj["model"], float(obj["threshold"]), dict(obj.get("info") or {}))


def collect_windows(paths: list[str], *, on_progress: Callable[[int], None] | None = None) -> tuple[
        np.ndarray, dict[str, int]]:
    """Replay ``paths`` through a tracker; return the checkpoint feature rows and counts."""
    tracker = BehaviourTracker()
    sink: list[np.ndarray] = []
    tracker.feature_sink = sink
    counts = {"records": 0, "unparsed": 0, "files": 0}
    clean = Verdict(0.0, False)
    for path in paths:
        parser = None
        counts["files"] += 1
        for batch in iter_batches(path, batch_lines=20_000):
            if parser is None:
                parser = detect_format([raw.data for raw in batch[:200]], source=path).parser
            records = []
            for raw in batch:
                result = parser.parse_raw(raw)
                if isinstance(result, LogRecord):
                    records.append(result)
                else:
                    counts["unparsed"] += 1
            counts["records"] += len(records)
            tracker.observe(records, [clean] * len(records))
            if on_progress is not None:
                on_progress(counts["records"])
    counts["ips"] = len(tracker)
    rows = np.vstack(sink) if sink else np.empty((0, len(FEATURE_NAMES)))
    return rows, counts


def fit_baseline(rows: np.ndarray, seed: int = 0) -> Baseline:
    """Fit the IsolationForest on feature rows and pick its alert threshold."""
    from sklearn.ensemble import IsolationForest

    if len(rows) < MIN_WINDOWS:
        raise DataError(f"only {len(rows)} per-IP windows of 20+ requests in the history "
                         f"(need {MIN_WINDOWS}): give a longer log")
    model = IsolationForest(n_estimators=200, max_samples=min(256, len(rows)), contamination="auto",
                            random_state=seed)
    model.fit(rows)
    train = -model.score_samples(rows)
    threshold = max(float(np.quantile(train, _QUANTILE)), _FLOOR)
    info = {"windows": len(rows), "seed": seed, "train_score_median": float(np.median(train)),
            "train_score_q995": float(np.quantile(train, _QUANTILE))}
    return Baseline(model, threshold, info)


def train_baseline(paths: list[str], out: Path | None, seed: int) -> dict:
    """Fit the baseline on access logs ``paths`` and save it to ``out`` (default beside the config).

    Returns a summary: path, records, unparsed lines, windows, threshold, features, seed.
    Raises ``DataError`` when the history is too short and ``OSError`` subclasses for unreadable files.
    """
    rows, counts = collect_windows(list(paths))
    baseline = fit_baseline(rows, seed)
    baseline.info.update({"logs": [str(p) for p in paths], **counts})
    target = baseline.save(out if out is not None else default_baseline_path())
    return {"path": str(target), **counts, "windows": len(rows), "threshold": baseline.threshold,
            "features": list(FEATURE_NAMES), "seed": seed}
