"""``Stats.feed``: flagged requests and alerts in arrival order, numbered once (issue #11 item 3)."""

from __future__ import annotations

from datetime import UTC, datetime

from threatlens.models.verdict import Alert, Verdict
from threatlens.parsers.record import LogRecord
from threatlens.stats import GeoLookup, RecordFilter, Stats

T0 = datetime(2026, 3, 14, 6, 0, 0, tzinfo=UTC)
GEO = GeoLookup.open(env={}, search_dirs=())
BASE = LogRecord(T0, "8.8.8.8", None, "GET", "/x", None, "HTTP/1.1", 404, 100, None, "ua", None, None, None, None,
                 b"raw line", "a.log", 1, 0)


def rec(line: int, ip: str) -> LogRecord:
    return BASE._replace(line=line, offset=line * 100, ip=ip)


def ver(score: float) -> Verdict:
    return Verdict(score, score >= 0.5, ("scanner",), ("probe",), False, "attack" if score >= 0.5 else "")


def alert(ip: str, line: int) -> Alert:
    # the same log second as the requests: time order cannot tell them apart, arrival order can
    return Alert(ip, "scanning", "a.log", line, line, 4, 0.9, ("4 probes",), ("scanner",), T0, T0, "attack")


def numbers(s: Stats, **kw) -> list[tuple[int, str]]:
    return [(item.number, f"a{item.alert.alert.ip}" if item.alert else f"r{s.feed.request(item.stored).record.line}")
            for item in s.feed.newest(**kw)]


def test_feed_is_arrival_order_newest_first_and_a_number_stays_with_its_entry() -> None:
    s = Stats(geo=GEO, threshold=0.5, feed=6, capacity=16)
    s.update([rec(1, "10.0.0.1"), rec(2, "10.0.0.2"), rec(3, "10.0.0.1")], [ver(0.9), ver(0.1), ver(0.8)],
             [alert("10.0.0.1", 3)])
    assert numbers(s) == [(3, "a10.0.0.1"), (2, "r3"), (1, "r1")]  # the unflagged line 2 is no entry
    s.update([rec(4, "10.0.0.3"), rec(5, "10.0.0.2")], [ver(0.7), ver(0.95)], [alert("10.0.0.2", 5)])
    assert numbers(s) == [(6, "a10.0.0.2"), (5, "r5"), (4, "r4"), (3, "a10.0.0.1"), (2, "r3"), (1, "r1")]
    assert s.feed.dropped == 0
    s.update([rec(6, "10.0.0.3"), rec(7, "10.0.0.3")], [ver(0.6), ver(0.6)])
    assert numbers(s)[:3] == [(8, "r7"), (7, "r6"), (6, "a10.0.0.2")]
    assert len(s.feed) == 6 and s.feed.dropped == 2 and numbers(s)[-1] == (3, "a10.0.0.1")


def test_feed_hides_requests_below_a_raised_threshold_and_applies_a_filter_without_renumbering() -> None:
    s = Stats(geo=GEO, threshold=0.5, capacity=16)
    s.update([rec(1, "10.0.0.1"), rec(2, "10.0.0.2"), rec(3, "10.0.0.1")], [ver(0.9), ver(0.6), ver(0.8)],
             [alert("10.0.0.2", 2)])
    assert numbers(s, threshold=0.85) == [(3, "a10.0.0.2"), (1, "r1")]  # after line 2, which raised it
    flt = RecordFilter.parse("ip:10.0.0.1")
    assert numbers(s, record_filter=flt) == [(4, "r3"), (1, "r1")]
    s.update([rec(4, "10.0.0.1")], [ver(0.7)])
    assert numbers(s, record_filter=flt) == [(5, "r4"), (4, "r3"), (1, "r1")]  # decided once, new ones too


def test_an_alert_follows_the_request_that_raised_it_within_a_batch() -> None:
    s = Stats(geo=GEO, threshold=0.5, capacity=16)
    other = alert("10.0.0.9", 1)._replace(file="b.log")  # another file: after the batch's requests
    s.update([rec(1, "10.0.0.1"), rec(2, "10.0.0.1"), rec(5, "10.0.0.2")], [ver(0.9), ver(0.9), ver(0.9)],
             [other, alert("10.0.0.1", 2), alert("10.0.0.7", 0)])
    assert numbers(s) == [(6, "a10.0.0.9"), (5, "r5"), (4, "a10.0.0.1"), (3, "r2"), (2, "r1"), (1, "a10.0.0.7")]
