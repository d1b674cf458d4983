from __future__ import annotations

import pytest

from threatlens.models.verdict import Alert, Verdict
from threatlens.parsers.record import LogRecord
from threatlens.stats.filter import FilterError, RecordFilter

REC = LogRecord(
    None, "1.2.3.77", None, "GET", "/wp-login.php", "a=UNION%20select", "HTTP/1.1", 404, 10, None,
    "sqlmap/1.7", "shop.example", 443, None, None, b"raw", "f", 1, 0,
)
BAD = Verdict(0.92, True, ("sqli", "scanner"), ("union select",))
OK = Verdict(0.1, False)


def m(text, rec=REC, ver=BAD, cc="CN"):
    return RecordFilter.parse(text).matches(rec, ver, cc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", True),
        ("ip:1.2.3.0/24", True),
        ("ip:1.2.4.0/24", False),
        ("ip:1.2.3.77", True),
        ("1.2.3.0/24", True),  # bare CIDR
        ("1.2.3.77", True),
        ("wp-login", True),  # bare path substring
        ("path:/WP-", True),  # case-insensitive
        ("path:union", True),  # the query is part of the target
        ("path:/admin", False),
        ("country:CN", True),
        ("country:cn", True),
        ("country:DE", False),
        ("country:DE country:CN", True),  # same field: OR
        ("cat:sqli", True),
        ("cat:xss", False),
        ("status:404", True),
        ("status:4xx", True),
        ("status:400-403", False),
        ("status:5xx", False),
        ("score>=0.9", True),
        ("score>0.95", False),
        ("score:0.92", True),
        ("score<0.5", False),
        ("score<=0.92", True),
        ("method:get", True),
        ("ua:SQLMAP", True),
        ("vhost:shop", True),
        ("port:443", True),
        ("port:80", False),
        ("ip:1.2.3.0/24 path:/wp- country:CN cat:sqli status:404 score>=0.8", True),  # AND
        ("ip:1.2.3.0/24 country:DE", False),
        ("-country:CN", False),
        ("!cat:xss", True),
        ("-status:404 path:/wp", False),
        ('"path:wp-login.php"', True),
        ("ip:2001:db8::/32", False),
        ("2001:db8::/32", False),
    ],
)
def test_matches(text, expected):
    assert m(text) is expected


def test_unscored_and_unknown_country():
    assert m("score>=0.1", ver=None) is False  # cannot tell: no match
    assert m("cat:sqli", ver=None) is False
    assert m("path:/wp", ver=None) is True
    assert m("country:unknown", cc=None) is True
    assert m("country:CN", cc=None) is False
    assert m("country:private", cc="private") is True
    assert m("-score>=0.5", ver=OK) is True


def test_ipv6_records():
    rec = REC._replace(ip="2001:db8::5")
    assert m("ip:2001:db8::/32", rec=rec) is True
    assert m("2001:db8::5", rec=rec) is True
    assert m("ip:1.2.3.0/24", rec=rec) is False
    assert m("ip:1.2.3.0/24", rec=REC._replace(ip=None)) is False
    assert m("ip:1.2.3.0/24", rec=REC._replace(ip="garbage")) is False


def test_alerts():
    alert = Alert("1.2.3.4", "scanning", "f", 1, 9, 9, 0.8, ("many 404s",), ("scanner",))
    f = RecordFilter.parse("ip:1.2.3.0/24 cat:scanner score>=0.5")
    assert f.matches_alert(alert, "CN")
    assert not RecordFilter.parse("cat:sqli").matches_alert(alert)
    assert not RecordFilter.parse("path:/x").matches_alert(alert)  # alerts have no path
    assert RecordFilter.parse("country:CN").matches_alert(alert, "CN")


def test_a_campaign_passes_when_any_member_does():
    campaign = Alert("1.2.3.4", "campaign", "f", 1, 9, 9, 0.9, ("same paths",), ("scanner",),
                     members=("1.2.3.4", "5.6.7.8", "9.9.9.9"))
    countries = {"1.2.3.4": "CN", "5.6.7.8": "DE", "9.9.9.9": None}
    assert RecordFilter.parse("ip:5.6.7.8").matches_alert(campaign, "CN", countries.get)
    assert RecordFilter.parse("ip:9.9.9.0/24").matches_alert(campaign, "CN")  # no lookup needed for ip:
    assert not RecordFilter.parse("ip:8.8.8.8").matches_alert(campaign, "CN", countries.get)
    assert RecordFilter.parse("country:DE").matches_alert(campaign, "CN", countries.get)
    assert RecordFilter.parse("country:unknown").matches_alert(campaign, "CN", countries.get)
    assert not RecordFilter.parse("country:US").matches_alert(campaign, "CN", countries.get)
    # without a lookup only the first member's country is known: the others cannot pass a country term
    assert not RecordFilter.parse("country:DE").matches_alert(campaign, "CN")
    assert not RecordFilter.parse("country:unknown").matches_alert(campaign, "CN")
    assert RecordFilter.parse("-ip:1.2.3.4").matches_alert(campaign, "CN")  # other members are not excluded
    assert RecordFilter.parse("ip:5.6.7.8 cat:scanner").matches_alert(campaign, "CN")
    assert not RecordFilter.parse("ip:5.6.7.8 cat:sqli").matches_alert(campaign, "CN")


def test_select_and_text():
    f = RecordFilter.parse("  status:404   cat:sqli ")
    assert str(f) == "status:404 cat:sqli"
    recs = [REC, REC._replace(status=200), REC]
    assert f.select(recs, [BAD, BAD, OK], ["CN"] * 3) == [0]
    assert f.select(recs, None, ["CN"] * 3) == []
    assert RecordFilter.parse("").select(recs, None, [None] * 3) == [0, 1, 2]
    assert RecordFilter.parse("").empty


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ip:1.2.3.999/24", "not an address"),
        ("cat:bogus", "unknown category"),
        ("status:four", "expected a code"),
        ("port:https", "expected a number"),
        ("colour:red", "unknown field"),
        ("path:", "empty value"),
        ('path:"unterminated', "filter"),
    ],
)
def test_parse_errors(text, message):
    with pytest.raises(FilterError, match=message):
        RecordFilter.parse(text)


def test_log_content_is_only_data():
    rec = REC._replace(path="/[bold]x[/]", query=None, user_agent="\x1b[31m")
    assert m("path:[bold]", rec=rec) is True
    assert m("ua:\x1b[31m", rec=rec) is True


def test_the_filtered_view_and_the_feed_keep_a_campaign_of_a_member():
    from threatlens.stats.aggregates import Stats

    class Geo:
        source = "test"

        def country(self, ip: str) -> str | None:
            return {"1.2.3.4": "CN", "5.6.7.8": "DE"}.get(ip)

        def countries(self, ips: list[str]) -> list[str | None]:
            return [self.country(ip) for ip in ips]

    campaign = Alert("1.2.3.4", "campaign", "f", 1, 9, 9, 0.9, ("same paths",), ("scanner",),
                     members=("1.2.3.4", "5.6.7.8"))
    for text in ("ip:5.6.7.8", "country:DE"):
        flt = RecordFilter.parse(text)
        view = Stats(geo=Geo(), record_filter=flt)  # type: ignore[arg-type]
        view.update([], [], [campaign])
        assert [e.alert for e in view.alerts()] == [campaign], text
        whole = Stats(geo=Geo())  # type: ignore[arg-type]
        whole.update([], [], [campaign])
        assert [item.alert.alert for item in whole.feed.newest(record_filter=flt)] == [campaign], text
