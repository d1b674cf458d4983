from __future__ import annotations

import numpy as np
import pytest

from threatlens.stats.distinct import DistinctCounters
from threatlens.stats.rates import RateMeter
from threatlens.stats.ring import Ring
from threatlens.stats.scores import SCORE_BINS, score_bin, threshold_bin


def test_distinct_exact_below_cap():
    d = DistinctCounters(exact_cap=100)
    d.update({0: ["a", "b", "a"], 1: ["x"]})
    d.add(0, "c")
    d.add(0, "b")
    assert (d.count(0), d.exact(0)) == (3, True)
    assert (d.count(1), d.count(7)) == (1, 0)
    d.update_pairs([1, 2, 1], ["y", "z", "x"])
    assert (d.count(1), d.count(2)) == (2, 1)


@pytest.mark.parametrize("n", [300, 5_000, 60_000])
def test_distinct_estimate_above_cap(n):
    d = DistinctCounters(exact_cap=256)
    items = list(range(n))  # ints hash to themselves: the mixer must spread them
    for i in range(0, n, 700):
        d.update_pairs([3] * len(items[i : i + 700]), items[i : i + 700])
    again = items[:1000]
    d.update_pairs([3] * len(again), again)  # repeats change nothing
    assert not d.exact(3)
    assert abs(d.count(3) - n) / n < 0.06  # 1.6% standard error; 6% is > 3.5 sigma


def test_distinct_memory_is_bounded():
    d = DistinctCounters(exact_cap=64, precision=11)
    for key in range(5):
        d.update_pairs([key] * 20_000, [f"{key}-{i}" for i in range(20_000)])
    assert d._regs.nbytes <= 8 * 2**11  # registers only, whatever the cardinality
    assert not d._exact


def test_ring_counts_drops():
    r: Ring[int] = Ring(3)
    r.extend([1, 2])
    r.append(3)
    r.extend(range(4, 7))
    assert list(r) == [4, 5, 6]
    assert (r.total, r.dropped, len(r)) == (6, 3, 3)
    assert r.newest(2) == [6, 5]
    assert r.newest() == [6, 5, 4]
    r.extend(x for x in (7,))
    assert r.dropped == 4
    with pytest.raises(ValueError):
        Ring(0)


def test_score_bins():
    assert score_bin(0.0) == 0
    assert score_bin(0.29) == 29  # 0.29 * 100 = 28.999999999999996 in floats
    assert score_bin(1.0) == SCORE_BINS
    assert score_bin(float("nan")) == 0
    assert score_bin(-1) == 0 and score_bin(7) == SCORE_BINS
    assert threshold_bin(0.8) == 80


def test_rates_complete_seconds_and_history():
    m = RateMeter(history=60)
    m.add(100.2, 10, flagged=1)
    assert m.rate(100.9, 1) == pytest.approx(10 / 1.0)  # no complete second yet: partial, >= 1 s
    m.add(100.7, 5)
    m.add(101.5, 7, alerts=2)
    m.add(103.1, 3)
    assert m.rate(103.5, 1) == 0  # second 102 had nothing
    assert m.rate(103.5, 10) == pytest.approx((15 + 7 + 0) / 3)  # only 3 s since the start
    assert m.rate(103.5, 10, "flagged") == pytest.approx(1 / 3)
    assert m.rate(103.5, 60, "alerts") == pytest.approx(2 / 3)
    assert m.series(103.5) == [15, 7, 0]
    assert m.series(200.0, 5) == [0, 0, 0, 0, 0]
    assert m.rate(200.0, 60) == 0
    with pytest.raises(ValueError):
        m.rate(1, 1, "bogus")


def test_rates_forget_old_seconds_and_rethreshold():
    m = RateMeter(history=60)
    hist = np.zeros(SCORE_BINS + 1, dtype=np.int64)
    hist[[10, 50, 90]] = [4, 2, 1]
    m.add(0.5, 7, flagged=3, hist=hist)
    m.add(30.5, 1)
    assert m.series(31.0)[0] == 7
    m.add(95.0, 2)  # more than `history` seconds later: second 0 is gone
    assert sum(m.series(96.0)) == 2
    m.add(96.0, 7, flagged=3, hist=hist)
    m.rethreshold(threshold_bin(0.5))
    assert m.series(97.0, 1, "flagged") == [3]
    m.rethreshold(threshold_bin(0.9))
    assert m.series(97.0, 1, "flagged") == [1]
    assert m.rate(97.0, 1, "flagged", threshold_bin=10) == 7
