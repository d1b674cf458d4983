"""Table-driven tests: every Apache directive and nginx variable the compiler supports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from threatlens.parsers import LogRecord, ParseError, RawLine, Unparsed, get_parser

T0 = datetime(2024, 5, 1, 10, 0, 0, tzinfo=timezone(timedelta(hours=2)))
CLF = "[01/May/2024:10:00:00 +0200]"

# (format, line, expected fields)
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("%h %l %u %t \"%r\" %>s %b", f'192.0.2.1 - alice {CLF} "GET /a?b=1 HTTP/1.1" 200 512',
     {"ip": "192.0.2.1", "user": "alice", "time": T0, "method": "GET", "path": "/a", "query": "b=1",
      "protocol": "HTTP/1.1", "status": 200, "bytes": 512}),
    ("%a %l %u %t \"%r\" %s %B", f'2001:db8::1 - - {CLF} "POST /login HTTP/2.0" 401 0',
     {"ip": "2001:db8::1", "user": None, "method": "POST", "status": 401, "bytes": 0, "protocol": "HTTP/2.0"}),
    ("%h %t \"%r\" %>s %O %I", f'::ffff:198.51.100.7 {CLF} "GET / HTTP/1.1" 200 1234 99',
     {"ip": "198.51.100.7", "bytes": 1234}),
    ("%h %t \"%r\" %>s %b %D", f'192.0.2.1 {CLF} "GET / HTTP/1.1" 200 - 2500',
     {"bytes": None, "duration": pytest.approx(0.0025)}),
    ("%h %t \"%r\" %>s %b %T", f'192.0.2.1 {CLF} "GET / HTTP/1.1" 200 5 3', {"duration": 3.0}),
    ("%h %t \"%r\" %>s %b %{ms}T", f'192.0.2.1 {CLF} "GET / HTTP/1.1" 200 5 250',
     {"duration": pytest.approx(0.25)}),
    ("%v %h %t \"%r\" %>s %b", f'www.example.org 192.0.2.1 {CLF} "GET / HTTP/1.1" 200 5', {"vhost": "www.example.org"}),
    ("%V:%p %h %t \"%r\" %>s %b", f'shop.example:8443 192.0.2.1 {CLF} "GET / HTTP/1.1" 200 5',
     {"vhost": "shop.example", "server_port": 8443}),
    ("%h:%{remote}p %t \"%r\" %>s %b", f'192.0.2.1:51234 {CLF} "GET / HTTP/1.1" 200 5', {"client_port": 51234}),
    ("%h %t \"%m %U%q %H\" %>s %b", f'192.0.2.1 {CLF} "GET /search?q=x HTTP/1.1" 200 5',
     {"method": "GET", "path": "/search", "query": "q=x", "protocol": "HTTP/1.1"}),
    ("%h %t \"%m %U%q %H\" %>s %b", f'192.0.2.1 {CLF} "GET /x HTTP/1.1" 200 5', {"path": "/x", "query": None}),
    ('%h %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" "%{X-Forwarded-For}i" %{SSL_PROTOCOL}e '
     '%{Set-Cookie}o %X',
     f'192.0.2.1 {CLF} "GET / HTTP/1.1" 200 5 "https://r.example/" "curl/8.0" "10.0.0.1, 10.0.0.2" TLSv1.3 - +',
     {"referer": "https://r.example/", "user_agent": "curl/8.0"}),
    ("%h %{%Y-%m-%dT%H:%M:%S%z}t \"%r\" %>s %b", '192.0.2.1 2024-05-01T10:00:00+0200 "GET / HTTP/1.1" 200 5',
     {"time": T0}),
    ("%h [%{%d/%b/%Y:%H:%M:%S %z}t] \"%r\" %>s %b", f'192.0.2.1 {CLF} "GET / HTTP/1.1" 200 5', {"time": T0}),
    ("%h %{sec}t \"%r\" %>s %b", '192.0.2.1 1714550400 "GET / HTTP/1.1" 200 5',
     {"time": datetime(2024, 5, 1, 8, 0, tzinfo=UTC)}),
    ("%h %{msec}t \"%r\" %>s %b", '192.0.2.1 1714550400500 "GET / HTTP/1.1" 200 5',
     {"time": datetime(2024, 5, 1, 8, 0, 0, 500000, tzinfo=UTC)}),
    ("%h %t %{Host}i \"%r\" %>s %b", f'192.0.2.1 {CLF} api.example "GET / HTTP/1.1" 200 5', {"vhost": "api.example"}),
    ("%h %l %u %t \"%r\" %>s %b 100%%", f'192.0.2.1 - - {CLF} "GET / HTTP/1.1" 200 5 100%', {"status": 200}),
    ("%400,501{User-agent}i %h %t \"%r\" %>s %b", f'- 192.0.2.1 {CLF} "GET / HTTP/1.1" 200 5', {"user_agent": None}),
    # nginx variables
    ('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
     '"$http_user_agent" $request_time $upstream_response_time',
     f'192.0.2.9 - bob {CLF} "GET /p HTTP/1.1" 502 0 "-" "Mozilla/5.0" 0.512 0.100, 0.412',
     {"ip": "192.0.2.9", "user": "bob", "time": T0, "status": 502, "duration": pytest.approx(0.512)}),
    ('$remote_addr [$time_iso8601] "$request" $status $bytes_sent', '192.0.2.9 [2024-05-01T10:00:00+02:00] '
     '"GET / HTTP/1.1" 200 99', {"time": T0, "bytes": 99}),
    ('$remote_addr $msec "$request" $status $body_bytes_sent', '192.0.2.9 1714550400.250 "GET / HTTP/1.1" 200 1',
     {"time": datetime(2024, 5, 1, 8, 0, 0, 250000, tzinfo=UTC)}),
    ('$host:$server_port $remote_addr:$remote_port "$request_method $request_uri $server_protocol" $status '
     '$body_bytes_sent $scheme "$args" ${connection}', 'h.example:443 192.0.2.9:40000 "GET /a?x=1 HTTP/1.1" 200 1 '
     'https "x=1" 77', {"vhost": "h.example", "server_port": 443, "client_port": 40000, "method": "GET",
                        "path": "/a", "query": "x=1", "protocol": "HTTP/1.1"}),
    ('$remote_addr "$request_method $uri?$args" $status $body_bytes_sent $server_name $my_custom_var',
     '192.0.2.9 "GET /z?k=v" 200 1 srv anything-here', {"path": "/z", "query": "k=v", "vhost": "srv"}),
    ('$remote_addr - - [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"',
     '192.0.2.9 - - [01/May/2024:10:00:00 +0200] "GET /caf\\xC3\\xA9?q=\\x22x\\x22 HTTP/1.1" 200 1 "-" '
     '"agent \\x5Cx"', {"path": "/café", "query": 'q="x"', "user_agent": "agent \\x"}),
]


@pytest.mark.parametrize(("fmt", "line", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_directive(fmt: str, line: str, expected: dict[str, Any]) -> None:
    record = get_parser(fmt).parse(line)
    assert isinstance(record, LogRecord)
    for field, value in expected.items():
        assert getattr(record, field) == value, field
    assert record.time is None or record.time.tzinfo is not None
    assert record.raw == line.encode()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('1.2.3.4 - - [01/May/2024:10:00:00 +0530] "GET / HTTP/1.1" 200 1 "-" "-"', {"time": datetime(
            2024, 5, 1, 10, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))}),
        ('1.2.3.4 - - [01/May/2024:10:00:00 -0330] "GET / HTTP/1.1" 200 1 "-" "-"', {"time": datetime(
            2024, 5, 1, 10, 0, tzinfo=timezone(-timedelta(hours=3, minutes=30)))}),
        ('1.2.3.4 - - [01/May/2024:10:00:00 +0000] "-" 400 0 "-" "-"', {"method": None, "path": None}),
        ('1.2.3.4 - - [01/May/2024:10:00:00 +0000] "PRI * HTTP/2.0" 400 0 "-" "-"',
         {"method": "PRI", "path": "*", "protocol": "HTTP/2.0"}),
        ('1.2.3.4 - - [01/May/2024:10:00:00 +0000] "PROPFIND /webdav/ HTTP/1.1" 405 0 "-" "-"',
         {"method": "PROPFIND", "path": "/webdav/"}),
        ('1.2.3.4 - - [01/May/2024:10:00:00 +0000] "\\x16\\x03\\x01\\x02\\x00\\x01" 400 157 "-" "-"',
         {"method": None, "path": "\x16\x03\x01\x02\x00\x01", "status": 400}),
        ('1.2.3.4 - - [01/May/2024:10:00:00 +0000] "GET /a b c HTTP/1.1" 200 1 "-" "-"',
         {"path": "/a b c", "protocol": "HTTP/1.1"}),
        ('1.2.3.4 - - [01/May/2024:10:00:00 +0000] "GET /x HTTP/1.1" 200 1 "-" "Mozilla \\"quoted\\" agent"',
         {"user_agent": 'Mozilla "quoted" agent'}),
        ('1.2.3.4 - - [01/May/2024:10:00:00 +0000] "GET /x HTTP/1.1" 200 1 "-" "Mozilla/5.0 (cut off',
         {"user_agent": "Mozilla/5.0 (cut off"}),
        ('1.2.3.4 - - [01/May/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "[bold]x[/] [@click=app.quit]"',
         {"user_agent": "[bold]x[/] [@click=app.quit]"}),
    ],
)
def test_combined_edge_cases(line: str, expected: dict[str, Any]) -> None:
    record = get_parser("combined").parse(line)
    for field, value in expected.items():
        assert getattr(record, field) == value, field


def test_long_url_parses() -> None:
    url = "/search?q=" + "A" * 12_000
    line = f'1.2.3.4 - - [01/May/2024:10:00:00 +0000] "GET {url} HTTP/1.1" 414 0 "-" "-"'
    record = get_parser("combined").parse(line)
    assert record.query == "q=" + "A" * 12_000


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty line"),
        (b"   ", "empty line"),
        (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", "TLS handshake"),
        (b"abc\x00def", "NUL"),
        (b"x" * 1_048_576, "line too long"),
        (b'1.2.3.4 - - [01/May/2024:10:00:00 +0000] "GET / HTTP/1.1" 2000 1 "-" "-"', "%>s"),
        (b'1.2.3.4 - - [99/Foo/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"', "bad month"),
        (b'1.2.3.4 - - [31/Feb/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"', "bad field value"),
        (b'some.host - - [01/May/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"', "not an IP address"),
        (b'1.2.3.4 - - [01/May/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-" trailing', "after the last"),
    ],
)
def test_bad_input_gives_unparsed_with_reason(data: bytes, reason: str) -> None:
    result = get_parser("combined").parse_raw(RawLine("f.log", 7, 100, data))
    assert isinstance(result, Unparsed)
    assert reason in result.reason
    assert (result.raw, result.file, result.line, result.offset) == (data, "f.log", 7, 100)


def test_invalid_utf8_is_kept_losslessly() -> None:
    data = b'1.2.3.4 - - [01/May/2024:10:00:00 +0000] "GET /\xff\xfe HTTP/1.1" 404 1 "-" "-"'
    record = get_parser("combined").parse_raw(RawLine("f", 1, 0, data))
    assert isinstance(record, LogRecord)
    assert record.path == "/\\xff\\xfe"
    assert record.raw == data


def test_parse_raises_typed_error_with_line() -> None:
    with pytest.raises(ParseError) as info:
        get_parser("common").parse("garbage")
    assert info.value.line == "garbage"
    assert "common" in info.value.reason


def test_record_is_frozen() -> None:
    record = get_parser("common").parse('1.2.3.4 - - [01/May/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 1')
    with pytest.raises(AttributeError):
        record.ip = "5.6.7.8"  # type: ignore[misc]
    assert not hasattr(record, "__dict__")


def test_no_unbounded_wildcards_in_compiled_patterns() -> None:
    from threatlens.parsers import PRESETS
    for name in PRESETS:
        parser = get_parser(name)
        pattern = getattr(parser, "pattern", "")
        assert ".*" not in pattern and ".+" not in pattern, name
