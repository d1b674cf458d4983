"""``LiveStats``, the monitor's view model: exact counts, threshold re-evaluation, big batches."""

from __future__ import annotations

from threatlens.models.verdict import Alert, Verdict
from threatlens.parsers.record import LogRecord, Unparsed
from threatlens.stats.filter import RecordFilter
from threatlens.tui.live import LiveStats
from tui_support import BASE

REC = LogRecord(BASE, "192.0.2.1", None, "GET", "/", None, "HTTP/1.1", 200, 10, None, "ua", None, None, None,
                None, b"raw", "f", 1, 0)


def _batch(n: int, ip_of=lambda i: f"10.0.{i // 250}.{i % 250}", score_of=lambda i: 0.1):
    recs = [REC._replace(ip=ip_of(i), line=i + 1, offset=i * 10) for i in range(n)]
    vers = [Verdict(score_of(i), score_of(i) >= 0.5) for i in range(n)]
    return recs, vers


def test_big_batch_counts_every_line_and_attaches_alerts_to_late_records() -> None:
    live = LiveStats(clock=lambda: 1000.0)
    recs, vers = _batch(5000, score_of=lambda i: 0.9 if i % 10 == 0 else 0.1)
    recs[4999] = recs[4999]._replace(ip="198.51.100.9")
    alert = Alert("198.51.100.9", "scanning", "f", 5000, 5000, 1, 0.8)
    live.update(recs, vers, [alert], [Unparsed(b"x", "bad", "f", 5001, 0)])
    data = live.dashboard()
    assert (data.lines, data.parsed, data.unparsed, data.alerts, data.flagged) == (5001, 5000, 1, 1, 500)
    snap = live.ip_snapshot("198.51.100.9")
    assert snap.requests == 1 and [a.kind for a in snap.alerts] == ["scanning"]


def test_threshold_changes_reevaluate_every_count() -> None:
    live = LiveStats(clock=lambda: 1000.0, threshold=0.5)
    recs, vers = _batch(100, ip_of=lambda i: "192.0.2.7" if i < 40 else "192.0.2.8", score_of=lambda i: i / 100)
    live.update(recs, vers, [], [])
    assert live.dashboard().flagged == 50
    assert live.set_threshold(0.2) == 0.2
    data = live.dashboard()
    assert data.flagged == 80
    flagged = {row.key: row.cells[2] for row in data.top_ips}
    assert flagged == {"192.0.2.7": 20, "192.0.2.8": 60}
    assert len(live.flagged_items()) == 80 and len(live.flagged_items("192.0.2.7")) == 20


def test_filter_applies_to_retained_and_new_requests() -> None:
    live = LiveStats(clock=lambda: 1000.0)
    recs, vers = _batch(300)
    live.update(recs, vers, [], [])
    live.set_filter(RecordFilter.parse("ip:10.0.1.0/24"))
    assert live.dashboard().matching == 50
    live.update(*_batch(300), [], [])
    data = live.dashboard(top=100)
    assert data.matching == 100 and {r.key for r in data.top_ips} == {f"10.0.1.{i}" for i in range(50)}
    live.set_filter(None)
    assert live.dashboard().matching is None and live.dashboard().lines == 600


def test_an_alert_raised_again_keeps_its_number_and_shows_its_tier_rose() -> None:
    """fixb item 5: a port scan raised as suspicious then as attack was #160 then #161, leaving a hole."""
    live = LiveStats(clock=lambda: 1000.0, threshold=0.5)
    scan = Alert("31.229.46.167", "port_scan_vertical", "ufw.log", 7, 7, 12, 0.6, ("12 ports",), ("scanner",),
                 None, None, "suspicious")
    hit = REC._replace(ip="192.0.2.9")
    live.update([hit._replace(line=1)], [Verdict(0.9, True)], [], [])
    live.update([hit._replace(line=2)], [Verdict(0.9, True)], [scan], [])
    live.update([hit._replace(line=3)], [Verdict(0.9, True)], [scan._replace(score=0.9, severity="attack")], [])
    live.update([hit._replace(line=4)], [Verdict(0.9, True)], [], [])
    feed = live.dashboard().feed
    numbers = [r.number for r in feed]
    assert sorted(numbers) == list(range(1, len(feed) + 1)), numbers  # no holes (was 6, 5, 4, 2, 1)
    (row,) = [r for r in feed if r.alert is None and r.what.lstrip("↑ ").startswith("port_scan_vertical")]
    assert row.number == 3 and row.severity == "attack" and row.what.startswith("↑ "), row
    assert numbers == [5, 3, 4, 2, 1]  # newest first; the alert at its newest place, with its first number


def test_a_filter_counts_matches_in_the_rates_when_they_arrive() -> None:
    """fixb item 3: ``/ip:X`` 3 min after X's requests gave ``matching req/s now 30`` with no new line."""
    now = [1000.0]
    live = LiveStats(clock=lambda: now[0])
    recs, vers = _batch(30, ip_of=lambda i: "192.0.2.7")
    live.update(recs, vers, [], [])
    now[0] = 1180.0
    live.set_filter(RecordFilter.parse("ip:192.0.2.7"))
    data = live.dashboard()
    assert data.matching == 30 and sum(data.requests_series) == 0, data.requests_series  # old matches are not now
    now[0] = 1181.2
    live.update(*_batch(5, ip_of=lambda i: "192.0.2.7"), [], [])
    now[0] = 1182.5
    data = live.dashboard()
    assert data.matching == 35 and sum(data.requests_series) == 5 and data.requests_series[-2] == 5, data
