"""Per-IP window features for the learned baseline (computed from a burst's counters)."""

from __future__ import annotations

import numpy as np

from threatlens.models.behaviour.table import COUNTERS

FEATURE_NAMES: tuple[str, ...] = (
    "log_requests", "log_duration", "log_rate_per_minute", "ratio_4xx", "ratio_3xx", "ratio_auth_fail",
    "ratio_post", "ratio_head", "ratio_static", "mean_log_bytes", "ratio_crawler_agent", "log_agents",
    "log_distinct_missing",
)
_IDX = {name: i for i, name in enumerate(COUNTERS)}


def window_features(counters: np.ndarray, duration: np.ndarray, agents: np.ndarray,
                    distinct_missing: np.ndarray) -> np.ndarray:
    """Rows of ``FEATURE_NAMES`` from burst counters (rows x ``COUNTERS``) and extras."""
    counters = np.atleast_2d(counters)
    count = np.maximum(counters[:, _IDX["count"]], 1.0)
    duration = np.maximum(np.asarray(duration, dtype=float), 0.0)

    def ratio(name: str) -> np.ndarray:
        return counters[:, _IDX[name]] / count

    return np.column_stack([
        np.log1p(count),
        np.log1p(duration),
        np.log1p(count / np.maximum(duration, 60.0) * 60.0),
        ratio("n4xx"),
        ratio("n3xx"),
        ratio("nauth"),
        ratio("npost"),
        ratio("nhead"),
        ratio("nstatic"),
        counters[:, _IDX["sum_logbytes"]] / count,
        ratio("ncrawler"),
        np.log1p(np.asarray(agents, dtype=float)),
        np.log1p(np.asarray(distinct_missing, dtype=float)),
    ])
