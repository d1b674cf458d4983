"""Score binning shared by the aggregates: 0.01-wide bins, so thresholds on that grid are exact."""

from __future__ import annotations

import math

#: Scores in [0, 1] fall in bins 0..SCORE_BINS; bin ``b`` holds scores in ``[b/100, (b+1)/100)``.
SCORE_BINS = 100
_EPS = 1e-9  # so that 0.29 (stored as 0.28999...) lands in bin 29, like the threshold 0.29


def score_bin(score: float) -> int:
    """The bin of a score (NaN and values below 0 give 0, above 1 give ``SCORE_BINS``)."""
    if not score > 0:  # also NaN
        return 0
    return min(SCORE_BINS, math.floor(score * SCORE_BINS + _EPS))


def threshold_bin(threshold: float) -> int:
    """First bin counted as flagged at ``threshold``: exact when ``threshold`` is a multiple of 0.01.

    Off the grid, the whole bin containing the threshold counts (an overcount of at most that bin).
    """
    return score_bin(threshold)
