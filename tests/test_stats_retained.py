"""``Stats.retained``, ``Stats.ip_row`` and ``Stats.flagged(n)``: what the monitor rebuilds views from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from threatlens.models.verdict import Verdict
from threatlens.parsers.record import LogRecord
from threatlens.stats import GeoLookup, RecordFilter, Stats

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
BASE = LogRecord(T0, "8.8.8.8", None, "GET", "/", None, "HTTP/1.1", 200, 100, None, "ua", None, None, None, None,
                 b"raw", "access.log", 1, 0)
GEO = GeoLookup.open(env={}, search_dirs=())
OK = Verdict(0.02, False)
BAD = Verdict(0.9, True, ("sqli",), ("union select",))


def rec(i: int, **kw) -> LogRecord:
    return BASE._replace(line=i + 1, offset=i * 10, time=T0 + timedelta(seconds=i), **kw)


def test_retained_is_the_window_plus_older_flagged_oldest_first() -> None:
    s = Stats(recent=4, ring=10, geo=GEO, clock=lambda: 1000.0, threshold=0.5)
    s.update([rec(i) for i in range(6)], [BAD if i in (0, 4) else OK for i in range(6)])
    s.update([rec(6, ip="1.1.1.1")], None)  # an unscored batch
    got = s.retained()
    # the window holds lines 4-7; line 1 is older but flagged, so still held (once, not twice for line 5)
    assert [r.line for r, _v in got] == [1, 4, 5, 6, 7]
    assert [v for _r, v in got] == [BAD, OK, BAD, OK, None]
    assert got[0][0] == rec(0) and isinstance(got[0][0], LogRecord) and isinstance(got[1][1], Verdict)
    assert len(got) == len({(r.file, r.line) for r, _v in got})


def test_retained_without_window_and_when_empty() -> None:
    s = Stats(recent=0, geo=GEO, clock=lambda: 1000.0)
    assert s.retained() == []
    s.update([rec(0), rec(1)], [BAD, OK])
    assert [(r.line, v) for r, v in s.retained()] == [(1, BAD)]


def test_replaying_retained_into_a_filtered_view_matches_counting_live() -> None:
    s = Stats(geo=GEO, clock=lambda: 1000.0, threshold=0.5)
    recs = [rec(i, ip=f"10.0.{i % 3}.1") for i in range(30)]
    vers = [BAD if i % 4 == 0 else OK for i in range(30)]
    flt = RecordFilter.parse("ip:10.0.1.0/24")
    live = s.spawn_filtered(flt)
    s.update(recs, vers)
    live.update(recs, vers)
    rebuilt = s.spawn_filtered(flt)
    pairs = s.retained()
    rebuilt.update([r for r, _v in pairs], [v for _r, v in pairs])  # type: ignore[misc]
    assert rebuilt.totals() == live.totals() and rebuilt.parsed == 10
    assert rebuilt.top_ips() == live.top_ips()


def test_ip_row_from_either_table() -> None:
    s = Stats(capacity=2, geo=GEO, clock=lambda: 1000.0, threshold=0.5)
    s.update([rec(0, ip="8.8.8.8"), rec(1, ip="8.8.8.8")], [BAD, OK])
    row = s.ip_row("8.8.8.8")
    assert row is not None and (row.requests, row.flagged, row.country) == (2, 1, "US")
    assert s.ip_row("9.9.9.9") is None
    s.update([rec(10 + i, ip=f"9.9.9.{i % 20}") for i in range(200)], [OK] * 200)  # pushes 8.8.8.8 out
    row = s.ip_row("8.8.8.8")
    assert row is not None and row.flagged == 1 and row.requests == 1  # only its flagged request is known
    assert s.ip_detail("8.8.8.8").row == row


def test_flagged_n_stops_at_n_and_honours_the_threshold() -> None:
    s = Stats(geo=GEO, clock=lambda: 1000.0, threshold=0.5)
    scores = [0.6, 0.95, 0.7, 0.99, 0.55]
    s.update([rec(i) for i in range(5)], [Verdict(x, True) for x in scores])
    assert [f.verdict.score for f in s.flagged(2)] == [0.55, 0.99]
    assert s.flagged(0) == []
    s.recount(0.9)
    assert [f.verdict.score for f in s.flagged(1)] == [0.99]
    assert [f.record.line for f in s.flagged()] == [4, 2]
    assert [f.record.line for f in s.flagged(10)] == [4, 2]


def test_retained_min_score_keeps_scored_requests_at_or_above_it() -> None:
    s = Stats(recent=3, geo=GEO, clock=lambda: 1000.0, threshold=0.5)
    s.update([rec(0), rec(1)], [BAD, Verdict(0.3, False)])
    s.update([rec(2), rec(3)], None)
    s.update([rec(4)], [Verdict(0.5, True)])
    assert [r.line for r, _v in s.retained(min_score=0.5)] == [1, 5]
    assert [r.line for r, _v in s.retained(min_score=0.2)] == [1, 5]  # line 2 left the window
    assert [r.line for r, _v in s.retained()] == [1, 3, 4, 5]
