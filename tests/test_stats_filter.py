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
