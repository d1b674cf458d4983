"""The monitor counts big batches in slices; each alert must still land in the feed right after its request."""

from __future__ import annotations

from pathlib import Path

from threatlens.scanner import build_pipeline
from threatlens.sources import iter_batches
from threatlens.tui.live import LiveStats

SAMPLE = Path(__file__).resolve().parents[1] / "sample_logs" / "combined.log"


def test_alerts_of_a_backlog_batch_follow_their_requests_in_the_feed() -> None:
    """A log read from the start comes in batches bigger than a slice (5,000 lines here, one batch).

    The alerts used to go with the last slice, so those raised by lines of earlier slices stood in one
    block after every request of the batch (the demo's feed: #119-#133 all behaviour alerts).
    """
    pipeline = build_pipeline(log_format="auto", nginx_conf=None, detect=True, model=None, threshold=None,
                              baseline=None, allowlist=[], geoip_db=None, on_message=lambda _m: None,
                              on_warning=lambda _m: None)
    live = LiveStats(threshold=0.5)
    pipeline.stats = live
    whole = [line for batch in iter_batches(str(SAMPLE)) for line in batch]
    assert len(whole) > 2000  # more than one slice
    pipeline.process(whole)
    pipeline.process([], final=True)
    feed = live.stats.feed
    items = list(feed.newest(0.5))[::-1]  # arrival order
    alerts = [(i, it.alert.alert) for i, it in enumerate(items) if it.alert is not None]
    assert len(alerts) >= 10
    lines = [None if it.alert is not None else feed.request(it.stored).record.line for it in items]
    for i, alert in alerts:
        before = [x for x in lines[:i] if x is not None]
        after = [x for x in lines[i + 1:] if x is not None]
        assert not before or before[-1] <= alert.last_line, (alert.kind, alert.last_line, before[-1])
        assert not after or after[0] > alert.last_line or alert.file != str(SAMPLE), (alert.kind, alert.last_line)
