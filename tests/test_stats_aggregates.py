from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from threatlens.models.verdict import SEVERITY_RANK, Alert, Verdict
from threatlens.parsers.record import LogRecord, Unparsed
from threatlens.stats import PORTS_HINT, GeoLookup, RecordFilter, Stats

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
BASE = LogRecord(
    T0, "8.8.8.8", None, "GET", "/", None, "HTTP/1.1", 200, 100, None, "ua-a", None, None, None, None,
    b"raw line", "access.log", 1, 0,
)
GEO = GeoLookup.open(env={}, search_dirs=())
US, DE = "8.8.8.8", "193.99.144.80"  # US and DE in the embedded data
OK = Verdict(0.02, False)


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def rec(i: int = 0, **kw) -> LogRecord:
    kw.setdefault("line", i + 1)
    kw.setdefault("offset", i * 100)
    kw.setdefault("time", T0 + timedelta(seconds=i))
    return BASE._replace(**kw)


def bad(score: float = 0.9, *cats: str, ps: bool = False) -> Verdict:
    return Verdict(score, True, cats or ("sqli",), ("union select",), ps)


def make(**kw) -> Stats:
    kw.setdefault("geo", GEO)
    kw.setdefault("clock", Clock())
    return Stats(**kw)


def test_exact_counts_on_a_small_batch():
    s = make()
    records = [
        rec(0, ip=US, status=404, path="/a", referer="https://r1/", user_agent="ua-a", vhost="x.org"),
        rec(1, ip=US, status=200, path="/a", bytes=None, user_agent="ua-b", vhost="x.org"),
        rec(2, ip=DE, status=503, path="/b", bytes=7, referer="https://r1/", vhost="y.org"),
        rec(3, ip="10.0.0.5", status=301, path="/c", bytes=0, user_agent=None, vhost=None),
        rec(4, ip=US, status=403, path="/a", bytes=50, time=None),
    ]
    verdicts = [bad(0.9, "sqli", ps=True), OK, bad(0.7, "xss", "sqli"), OK, Verdict(0.3, False, ("scanner",))]
    unparsed = [
        Unparsed(b"\x16\x03", "binary", "access.log", 6, 500),
        Unparsed(b"", "empty", "access.log", 7, 502),
        Unparsed(b"\x16", "binary", "access.log", 8, 503),
    ]
    s.update(records, verdicts, unparsed=unparsed)
    t = s.totals()
    assert (t.lines, t.parsed, t.unparsed, t.scored, t.unscored) == (8, 5, 3, 5, 0)
    assert t.unparsed_by_reason == {"binary": 2, "empty": 1}
    assert (t.flagged, t.alerts, t.possibly_succeeded, t.threshold) == (2, 0, 1, None)

    us, de, priv = s.top_ips(3)
    assert us.ip == US and (us.requests, us.error, us.flagged) == (3, 0, 1)
    assert (us.status_4xx, us.status_5xx, us.bytes, us.max_score) == (2, 0, 150, 0.9)
    assert (us.first_seen, us.last_seen) == (T0, T0 + timedelta(seconds=1))  # time=None keeps the last
    # categories and possibly-succeeded come from flagged requests (and alerts) only
    assert (us.country, us.categories, us.possibly_succeeded) == ("US", ("sqli",), 1)
    assert (de.ip, de.requests, de.status_5xx, de.bytes, de.country) == (DE, 1, 1, 7, "DE")
    assert set(de.categories) == {"xss", "sqli"}
    assert (priv.ip, priv.country, priv.flagged, priv.max_score) == ("10.0.0.5", "private", 0, 0.02)

    assert [(k.key, k.requests, k.error) for k in s.top_paths()] == [("/a", 3, 0), ("/b", 1, 0), ("/c", 1, 0)]
    assert [(k.key, k.requests) for k in s.top_user_agents()] == [("ua-a", 3), ("ua-b", 1)]
    assert [(k.key, k.requests) for k in s.top_referers()] == [("https://r1/", 2)]
    assert [(k.key, k.requests) for k in s.top_vhosts()] == [("x.org", 2), ("y.org", 1)]
    assert Counter({k.key: k.requests for k in s.top_statuses()}) == Counter([404, 200, 503, 301, 403])
    countries = {c.code: c for c in s.top_countries()}
    assert (countries["US"].requests, countries["US"].flagged, countries["US"].distinct_ips) == (3, 1, 1)
    assert countries["US"].label == "US United States" and countries["DE"].label == "DE Germany"
    assert (countries["private"].requests, countries["private"].label) == (1, "Private network")
    assert [c.code for c in s.top_countries(by="flagged")][:2] == ["US", "DE"]
    assert s.error_bounds()["ips"][0] == 0  # nothing evicted: exact


def test_unscored_batches_and_missing_fields():
    s = make()
    s.update([rec(0, ip=None, status=None, bytes=None, path=None, user_agent=None), rec(1)], None)
    t = s.totals()
    assert (t.parsed, t.scored, t.unscored, t.flagged) == (2, 0, 2, 0)
    assert [r.ip for r in s.top_ips()] == [US]  # a request without an IP is counted, not tabled
    assert sum(c.requests for c in s.top_countries()) == 2
    assert {c.code for c in s.top_countries()} == {"US", None}
    assert s.top_ips()[0].max_score == 0.0 and s.top_statuses()[0].key == 200
    s.update([], None)
    s.update([], [])
    assert s.totals().lines == 2
    with pytest.raises(ValueError, match="2 verdicts for 1 records"):
        s.update([rec()], [OK, OK])


def test_threshold_rule_and_recount():
    s = make(threshold=0.8)
    scores = [0.05, 0.3, 0.5, 0.79, 0.8, 0.95, 1.0]
    ips = [US, US, DE, DE, US, DE, "10.1.1.1"]
    verdicts = [Verdict(sc, False, ("sqli",) if sc >= 0.5 else ()) for sc in scores]  # flags ignored
    records = [rec(i, ip=ip, server_port=443 if i % 2 else 80) for i, ip in enumerate(ips)]
    s.update(records, verdicts)
    assert s.totals().flagged == 3
    rows = {r.ip: r.flagged for r in s.top_ips()}
    assert rows == {US: 1, DE: 1, "10.1.1.1": 1}
    assert [f.verdict.score for f in s.flagged()] == [1.0, 0.95, 0.8]

    for thr, total, per_ip, us_cc in [(0.5, 5, {US: 1, DE: 3, "10.1.1.1": 1}, 1), (0.3, 6, None, 2)]:
        s.recount(thr)
        assert s.totals().flagged == total
        assert {c.code: c.flagged for c in s.top_countries()}["US"] == us_cc
        if per_ip:
            assert {r.ip: r.flagged for r in s.top_ips()} == per_ip
    assert sum(p.flagged for p in s.top_ports()) == 6
    s.recount(0.96)
    assert s.totals().flagged == 1
    assert [f.verdict.score for f in s.flagged()] == [1.0]  # raised: the ring hides the rest
    assert [r.ip for r in s.top_flagged_ips()] == ["10.1.1.1"]
    s.recount(0.8)
    assert [f.verdict.score for f in s.flagged()] == [1.0, 0.95, 0.8]
    assert s.totals().flagged == 3 and s.totals().threshold == 0.8
    # new requests are then counted exactly against the new threshold
    s.update([rec(9, ip=US)], [Verdict(0.85, False)])
    assert s.totals().flagged == 4
    with pytest.raises(ValueError):
        s.recount(1.5)


def test_recount_gives_each_row_the_tier_and_categories_of_what_passes_the_threshold():
    """Both ways: a row's tier and categories come from its requests at or above the threshold, and its alerts."""
    s = make(threshold=0.5)
    verdicts = [Verdict(0.9, True, ("sqli",)), Verdict(0.6, True, ("bad_bot",)), Verdict(0.6, True, ("bad_bot",)),
                Verdict(0.3, False, ("xss",)), Verdict(0.55, True, ())]
    s.update([rec(i, ip=ip) for i, ip in enumerate([US, US, US, US, DE])], verdicts)
    flood = Alert(DE, "crawl_flood", "access.log", 1, 5, 5, 0.7, ("flood",), ("dos",), severity="nuisance")
    s.update([], None, [flood])

    def rows(flagged_table: bool = False) -> dict[str, tuple[int, str, tuple[str, ...]]]:
        got = s.top_flagged_ips() if flagged_table else s.top_ips()
        return {r.ip: (r.flagged, r.severity, r.categories) for r in got}

    assert rows() == {US: (3, "attack", ("bad_bot", "sqli")), DE: (1, "suspicious", ("dos",))}
    s.recount(0.7)
    assert rows() == {US: (1, "attack", ("sqli",)), DE: (0, "nuisance", ("dos",))}  # the alert stays
    s.recount(0.95)
    assert rows() == {US: (0, "", ()), DE: (0, "nuisance", ("dos",))}
    assert rows(flagged_table=True) == {}
    s.recount(0.2)  # below what was flagged when counted: the xss request counts now (ties in CATEGORIES order)
    assert rows() == {US: (4, "attack", ("bad_bot", "sqli", "xss")), DE: (1, "suspicious", ("dos",))}
    assert rows(flagged_table=True) == rows()


def test_recount_rates_follow():
    clock = Clock(50.0)
    s = make(clock=clock, threshold=0.9)
    s.update([rec(i) for i in range(4)], [Verdict(x, False) for x in (0.1, 0.6, 0.91, 0.95)])
    clock.t = 51.0
    assert s.history("flagged") == [2]
    s.recount(0.5)
    assert s.history("flagged") == [3]
    assert s.rates().flagged_1s == 3


def test_rates_with_injected_clock():
    clock = Clock(100.0)
    s = make(clock=clock)
    for sec in range(12):
        clock.t = 100.0 + sec + 0.5
        s.update([rec(i) for i in range(sec + 1)], [OK] * sec + [bad()], alerts=[] if sec % 3 else [alert(US)])
    clock.t = 112.2
    r = s.rates()
    assert r.requests_1s == 12  # the last complete second (111)
    assert r.requests_10s == pytest.approx(sum(range(3, 13)) / 10)
    assert r.requests_60s == pytest.approx(sum(range(1, 13)) / 12)  # only 12 s since the start
    assert r.flagged_1s == 1 and r.flagged_60s == 1
    assert r.alerts_60s == pytest.approx(4 / 12)
    assert s.history() == list(range(1, 13))
    assert s.history(seconds=3) == [10, 11, 12]
    assert s.history("alerts", seconds=4) == [0, 1, 0, 0]
    clock.t = 200.0
    assert s.rates().requests_10s == 0
    assert s.history(seconds=5) == [0] * 5


def alert(ip: str, *cats: str, kind: str = "scanning") -> Alert:
    return Alert(ip, kind, "access.log", 1, 5, 5, 0.8, ("many 404s",), cats or ("scanner",))


def test_rings_keep_the_newest_and_count_drops():
    s = make(ring=3, alert_ring=2)
    s.update([rec(i, ip=US) for i in range(5)], [bad(0.9 + i / 100) for i in range(5)])
    assert [f.record.line for f in s.flagged()] == [5, 4, 3]
    assert (s.flagged_ring.total, s.flagged_ring.dropped) == (5, 2)
    assert s.flagged(1)[0].country == "US"
    s.update([], None, alerts=[alert(US), alert(DE), alert("10.0.0.1")])
    assert [a.alert.ip for a in s.alerts()] == ["10.0.0.1", DE]
    assert [a.country for a in s.alerts()] == ["private", "DE"]
    assert (s.alert_ring.total, s.alert_ring.dropped, s.totals().alerts) == (3, 1, 3)
    us = s.top_ips()[0]
    assert us.alerts == 1 and "scanner" in us.categories


def test_ports_hint_and_table():
    s = make()
    s.update([rec(0), rec(1)], [OK, OK])
    assert not s.ports_available
    assert s.ports_hint == PORTS_HINT and "%p" in PORTS_HINT and "$server_port" in PORTS_HINT
    assert s.top_ports() == []
    s.update([rec(2, server_port=443), rec(3, server_port=443), rec(4, server_port=8080)], [bad(), OK, OK])
    assert s.ports_available and s.ports_hint == ""
    assert [(p.port, p.requests, p.error, p.flagged) for p in s.top_ports()] == [(443, 2, 0, 1), (8080, 1, 0, 0)]


def test_ip_detail():
    s = make(capacity=2, ip_history=10, recent=4)
    uas = ["curl", "curl", "sqlmap", "curl", "sqlmap"]
    s.update(
        [rec(i, ip=US, user_agent=ua, path=f"/p{i % 2}", status=404 if i else 200) for i, ua in enumerate(uas)],
        [OK, OK, bad(), OK, OK],
        alerts=[alert(US, kind="ua_switching")],
    )
    d = s.ip_detail(US)
    assert d.country == "US" and d.row is not None and d.row.requests == 5
    # retained: the latest 4 requests (all its own here), newest first
    assert [r.line for r, _v in d.requests] == [5, 4, 3, 2]
    assert d.requests[2][1] == bad()
    assert d.status_mix == {404: 4}
    assert dict(d.paths) == {"/p0": 2, "/p1": 2}
    assert d.user_agents == [("curl", 2), ("sqlmap", 2)]  # in order of first use
    assert [a.kind for a in d.alerts] == ["ua_switching"]
    # other IPs push US out of the table; the rings still know its recent and flagged requests
    s.update([rec(10 + i, ip=f"9.9.9.{i % 20}") for i in range(120)], [OK] * 120)
    assert US not in [r.ip for r in s.top_ips(30)]
    d = s.ip_detail(US)
    assert d.row is not None and d.row.flagged == 1  # from the flagged-IPs table
    assert [r.line for r, _v in d.requests] == [3]  # the recent ring holds only the last 4 requests
    assert s.ip_detail("1.1.1.1").requests == [] and s.ip_detail("1.1.1.1").row is None
    s2 = make(ip_history=2)
    s2.update([rec(i) for i in range(5)], None)
    assert [r.line for r, v in s2.ip_detail(US).requests] == [5, 4]  # capped, newest first, unscored


def test_filtered_view():
    s = make()
    f = s.spawn_filtered(RecordFilter.parse("country:US cat:sqli"))
    assert f.record_filter is not None and f.geo is s.geo
    records = [rec(0, ip=US, status=404), rec(1, ip=US, status=200), rec(2, ip=DE, status=404)]
    alerts = [alert(US, "sqli"), alert(US), alert(DE, "sqli")]
    for st in (s, f):
        st.update(records, [bad(), OK, bad()], alerts=alerts, unparsed=[Unparsed(b"x", "empty", "f", 9, 0)])
    assert (s.totals().parsed, f.totals().parsed) == (3, 1)
    assert (f.totals().lines, f.totals().unparsed, f.totals().flagged, f.totals().alerts) == (1, 0, 1, 1)
    assert [r.ip for r in f.top_ips()] == [US]
    assert s.spawn_filtered(RecordFilter.parse("")).record_filter is None


def test_memory_stays_bounded_with_many_distinct_keys():
    s = make(capacity=20, recent=50, ring=10)
    rnd = random.Random(5)
    truth: Counter = Counter()
    for b in range(40):
        records = []
        for i in range(250):
            ip = "7.7.7.7" if i % 5 == 0 else f"11.{b}.{i}.{rnd.randrange(256)}"  # one heavy hitter
            records.append(rec(i, ip=ip, path=f"/u/{b}/{i}", user_agent=f"ua{rnd.randrange(10**6)}"))
            truth[ip] += 1
        s.update(records, [bad() if i % 50 == 0 else OK for i in range(250)])
    for tab in (s._ips, s._paths, s._uas, s._suspects):
        assert len(tab) <= 2 * tab.capacity
    assert len(s._ips.counts) <= 3 * 20 + 1 + 250 + 64  # capacity, slack, one batch of newcomers
    assert s._recent_n == 50 and sum(len(r) for r, _v, _h in s._recent) == 50 and len(s.flagged_ring) == 10
    assert all(len(h) == len(r) for r, _v, h in s._recent)  # each record keeps its IP hash through the trim
    top = s.top_ips(1)[0]
    assert top.ip == "7.7.7.7"
    assert top.requests - top.error <= truth["7.7.7.7"] <= top.requests
    for r in s.top_ips(20):
        assert r.requests - r.error <= truth[r.ip] <= r.requests
    assert sum(c.requests for c in s.top_countries(300)) == 10_000  # countries stay exact
    by_distinct = [c.distinct_ips for c in s.top_countries(300, by="distinct_ips")]
    assert by_distinct == sorted(by_distinct, reverse=True) and sum(by_distinct) > 5000
    assert s.totals().parsed == 10_000
    floor, bound = s.error_bounds()["ips"]
    assert 0 < floor <= bound


def test_tables_by_name():
    s = make()
    s.update([rec(0)], [bad()])
    for name in ("ips", "flagged_ips", "countries", "ports", "paths", "user_agents", "referers", "vhosts", "statuses"):
        assert isinstance(s.table(name, 5), list)
    assert s.table("flagged_ips")[0].ip == US
    with pytest.raises(ValueError, match="unknown table"):
        s.table("bogus")
    with pytest.raises(ValueError, match="unknown sort key"):
        s.top_countries(by="bogus")


def test_unparsed_reasons_are_capped():
    s = make()
    s.update([], None, unparsed=[Unparsed(b"", f"reason {i}", "f", i + 1, 0) for i in range(100)])
    reasons = s.totals().unparsed_by_reason
    assert len(reasons) == 65 and reasons["other"] == 36 and sum(reasons.values()) == 100


def test_absurd_numbers_do_not_crash():
    s = make()
    s.update(
        [rec(0, bytes=10**30, status=10**20, server_port=2**70), rec(1, bytes=-5, status=-1), rec(2, status=1234)],
        [OK, OK, OK],
    )
    assert s.totals().parsed == 3
    assert s.top_statuses() == []  # none of these is a status code
    assert s.top_ips()[0].requests == 3


def test_without_recent_requests():
    s = make(recent=0)
    s.update([rec(0), rec(1)], [bad(), OK])
    s.update([rec(2)], None)
    d = s.ip_detail(US)
    assert [r.line for r, _v in d.requests] == [1]  # only the flagged ring is left
    assert s.flagged()[0].record == rec(0) and s.totals().parsed == 3


def test_record_and_verdict_positions_come_from_the_field_lists() -> None:
    from threatlens.parsers.record import RECORD_INDEX
    from threatlens.stats import aggregates as agg

    rec = LogRecord(**{name: f"<{name}>" for name in LogRecord._fields})
    assert all(rec[i] == getattr(rec, name) for name, i in RECORD_INDEX.items())
    getters = {"time": agg._get_time, "ip": agg._get_ip, "path": agg._get_path, "status": agg._get_status,
               "bytes": agg._get_bytes, "referer": agg._get_referer, "user_agent": agg._get_ua,
               "server_port": agg._get_port, "vhost": agg._get_vhost}
    assert {name: get(rec) for name, get in getters.items()} == {name: getattr(rec, name) for name in getters}
    assert rec[agg._IP] == rec.ip
    # the regex parser fills every slot before raw; the reader's four fields stay last
    assert LogRecord._fields[-4:] == ("raw", "file", "line", "offset")
    ver = Verdict(0.7, True, ("sqli",), ("matched",), True)
    assert agg._get_score(ver) == 0.7 and agg._get_flagged(ver) is True
    assert ver[agg._CATEGORIES] == ("sqli",) and ver[agg._SUCCEEDED] is True and ver[agg._SCORE] == 0.7


def test_an_ips_tier_is_its_most_serious_flagged_request_or_alert() -> None:
    st = make()
    bot, odd, attacker = "198.51.100.1", "198.51.100.2", "198.51.100.3"
    recs = [rec(0, ip=bot), rec(1, ip=odd), rec(2, ip=attacker), rec(3, ip=attacker), rec(4, ip=US)]
    verdicts = [Verdict(0.6, True, ("bad_bot",), severity="nuisance"),
                Verdict(0.7, True, ("other",)),  # flagged with no tier (a lower threshold): from its categories
                Verdict(0.7, True, ("other",), severity="suspicious"),
                Verdict(0.95, True, ("sqli",), severity="attack"), OK]
    st.update(recs, verdicts)
    tiers = {r.ip: r.severity for r in st.top_ips(10)}
    assert tiers == {bot: "nuisance", odd: "suspicious", attacker: "attack", US: ""}
    st.update([], None, [Alert(bot, "scanning", "access.log", 1, 1, 6, 0.9, severity="attack")])
    assert st.ip_row(bot).severity == "attack"  # type: ignore[union-attr]
    assert {r.ip: r.severity for r in st.top_flagged_ips(10)}[odd] == "suspicious"


def test_alerted_addresses_outlive_the_alert_ring_for_block_lists():
    """A brute-force attacker has alerts and no flagged request: once the alert ring drops its alerts, the block
    list still needs its address (the monitor's ``b`` left out 114 of 1418 attackers on a 1M-line log)."""
    from threatlens.tui.live import LiveStats

    s = make(alert_ring=2, alert_blocks=3)
    s.update([], None, alerts=[alert(f"203.0.113.{i}") for i in range(5)])
    assert len(s.alerts()) == 2
    tiers = s.alert_block_tiers()
    assert list(tiers) == ["203.0.113.2", "203.0.113.3", "203.0.113.4"]  # the latest three, not the ring's two
    assert set(tiers.values()) == {SEVERITY_RANK[alert("x").severity]}

    live = LiveStats(geo=GEO)
    live.stats = make(alert_ring=2, threshold=0.5)
    live.stats.update([], None, alerts=[alert(f"198.51.100.{i}") for i in range(10)])
    assert live.flagged_ips(alert("x").severity) == sorted(f"198.51.100.{i}" for i in range(10))
    more_serious = [t for t, r in SEVERITY_RANK.items() if r > SEVERITY_RANK[alert("x").severity]]
    for tier in more_serious:
        assert live.flagged_ips(tier) == []
