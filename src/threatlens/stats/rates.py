"""Per-second counters over a sliding window of ingestion wall-clock time, and per-minute log-time series."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from threatlens.stats.scores import SCORE_BINS


class RateMeter:
    """Requests, flagged requests and alerts per second for the last ``history`` seconds.

    Seconds are whole seconds of the caller's clock (ingestion time, not log time). Each second
    also keeps a histogram of request scores, so the flagged series can be re-evaluated for another
    threshold (exact for thresholds on the 0.01 grid). Memory is fixed: ``history`` seconds of
    counters plus ``history x (SCORE_BINS + 1)`` histogram cells.
    """

    __slots__ = ("_alerts", "_flagged", "_hist", "_last", "_requests", "_start", "_start_sec", "history")

    def __init__(self, history: int = 600) -> None:
        if history < 60:
            raise ValueError("history must be at least 60 seconds")
        self.history = history
        self._requests = [0] * history
        self._flagged = [0] * history
        self._alerts = [0] * history
        self._hist = np.zeros((history, SCORE_BINS + 1), dtype=np.int64)
        self._last: int | None = None  # the newest second written
        self._start: float | None = None
        self._start_sec = 0

    def _advance(self, sec: int) -> int:
        """Make ``sec`` the current second, zeroing skipped seconds; return its slot."""
        last = self._last
        size = self.history
        if last is None:
            self._last = sec
            return sec % size
        if sec <= last:  # same second, or a clock that stepped back: count in the newest
            return last % size
        gap = sec - last
        if gap >= size:
            for series in (self._requests, self._flagged, self._alerts):
                series[:] = [0] * size
            self._hist[:] = 0
        else:
            for s in range(last + 1, sec + 1):
                i = s % size
                self._requests[i] = self._flagged[i] = self._alerts[i] = 0
                self._hist[i] = 0
        self._last = sec
        return sec % size

    def add(
        self,
        now: float,
        requests: int,
        flagged: int = 0,
        alerts: int = 0,
        hist: np.ndarray | None = None,
    ) -> None:
        """Count a batch ingested at clock time ``now``."""
        if self._start is None:
            self._start = now
            self._start_sec = int(now // 1)
        i = self._advance(int(now // 1))
        self._requests[i] += requests
        self._flagged[i] += flagged
        self._alerts[i] += alerts
        if hist is not None:
            self._hist[i] += hist

    def rethreshold(self, threshold_bin: int) -> None:
        """Replace the flagged series by the histogram counts at bins ``>= threshold_bin``."""
        self._flagged[:] = self._flagged_at(threshold_bin)

    def _window(self, now: float, seconds: int) -> list[int]:
        """Slots of the last ``seconds`` complete seconds before ``now`` (oldest first)."""
        if self._last is None:
            return []
        cur = int(now // 1)
        first = max(cur - seconds, self._start_sec, self._last - self.history + 1, cur - self.history)
        return [s % self.history for s in range(first, min(cur, self._last + 1))] if cur > first else []

    def _span(self, now: float, seconds: int) -> float:
        cur = int(now // 1)
        return float(max(1, min(seconds, cur - self._start_sec)))

    def _sum(self, series: list[int], now: float, seconds: int) -> float:
        if self._last is None or self._start is None:
            return 0.0
        cur = int(now // 1)
        if cur <= self._start_sec:  # no complete second yet: the partial one so far
            elapsed = max(now - self._start, 1.0)
            return series[self._start_sec % self.history] / elapsed
        return sum(series[i] for i in self._window(now, seconds)) / self._span(now, seconds)

    def rate(self, now: float, seconds: int, what: str = "requests", *, threshold_bin: int | None = None) -> float:
        """Mean per second over the last ``seconds`` complete seconds (fewer since start).

        ``what`` is ``"requests"``, ``"flagged"`` or ``"alerts"``; with ``threshold_bin`` the flagged
        rate counts scores in bins ``>= threshold_bin`` instead of the flags given at ingestion.
        """
        if what == "flagged" and threshold_bin is not None:
            return self._sum(self._flagged_at(threshold_bin), now, seconds)
        return self._sum(self._series(what), now, seconds)

    def _series(self, what: str) -> list[int]:
        if what == "requests":
            return self._requests
        if what == "flagged":
            return self._flagged
        if what == "alerts":
            return self._alerts
        raise ValueError(f"unknown series {what!r}")

    def _flagged_at(self, threshold_bin: int) -> list[int]:
        return [int(x) for x in self._hist[:, max(0, threshold_bin) :].sum(axis=1)]

    def series(
        self, now: float, seconds: int | None = None, what: str = "requests", *, threshold_bin: int | None = None
    ) -> list[int]:
        """Per-second counts of the last ``seconds`` complete seconds, oldest first.

        Only seconds since the first batch are included (at most ``history``), so a fresh meter
        returns a short list rather than invented zeros.
        """
        seconds = self.history if seconds is None else min(seconds, self.history)
        src = self._flagged_at(threshold_bin) if what == "flagged" and threshold_bin is not None else self._series(what)
        if self._last is None:
            return []
        cur = int(now // 1)
        first = max(cur - seconds, self._start_sec, cur - self.history)
        out = []
        for s in range(first, cur):
            out.append(src[s % self.history] if s <= self._last and s > self._last - self.history else 0)
        return out


def per_minute(seconds: Iterable[float | None], minutes: int = 60) -> list[int]:
    """Events per minute of log time (seconds) over the last ``minutes`` minutes that have events."""
    counts: dict[int, int] = {}
    for t in seconds:
        if t is not None:
            m = int(t // 60)
            counts[m] = counts.get(m, 0) + 1
    if not counts:
        return []
    hi = max(counts)
    lo = max(min(counts), hi - minutes + 1)
    return [counts.get(m, 0) for m in range(lo, hi + 1)]
