"""A threshold change in the monitor gives the counts a run started at that threshold gives (real model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from threatlens.models.detection import Detection
from threatlens.parsers.record import RawLine
from threatlens.pipeline import Pipeline
from threatlens.tui.live import LiveStats

LOG = Path(__file__).resolve().parent.parent / "sample_logs" / "combined.log"


def _run(threshold: float) -> LiveStats:
    live = LiveStats(clock=lambda: 1000.0, threshold=threshold)
    det = Detection.load(None, threshold=threshold)
    pipeline = Pipeline(log_format="combined", detection=det, stats=live, strict=False)
    offset = 0
    lines = []
    for n, raw in enumerate(LOG.read_bytes().splitlines(keepends=True), 1):
        lines.append(RawLine(str(LOG), n, offset, raw.rstrip(b"\n")))
        offset += len(raw)
    for at in range(0, len(lines), 500):
        pipeline.process(lines[at:at + 500], final=at + 500 >= len(lines))
    return live


def _counts(live: LiveStats) -> tuple[int, int]:
    data = live.dashboard()
    return data.flagged, data.possibly


@pytest.mark.parametrize(("start", "to"), [(0.5, 0.6), (0.6, 0.5)])
def test_possibly_succeeded_follows_the_threshold_both_ways(start: float, to: float) -> None:
    fresh = _counts(_run(to))
    live = _run(start)
    assert _counts(live) != fresh  # the sample differs between the two thresholds
    live.set_threshold(to)
    assert _counts(live) == fresh
