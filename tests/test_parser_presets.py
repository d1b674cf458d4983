"""Every preset over its fixture log, auto-detection, JSON mappings and nginx.conf formats."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from threatlens.parsers import (
    FormatError,
    LogRecord,
    RawLine,
    UnknownFormatError,
    Unparsed,
    detect_format,
    get_parser,
)

FIX = Path(__file__).parent / "data" / "parsers"


def raw_lines(path: Path) -> list[RawLine]:
    return [RawLine(path.name, i + 1, 0, line) for i, line in enumerate(path.read_bytes().splitlines())]


def parse_all(spec: str, name: str, **kw: object) -> list[LogRecord]:
    parser = get_parser(spec, **kw)  # type: ignore[arg-type]
    results = parser.parse_batch(raw_lines(FIX / name))
    bad = [r for r in results if isinstance(r, Unparsed)]
    assert not bad, bad
    return results  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("preset", "fixture", "auto"),
    [
        ("common", "common.log", "common"),
        ("combined", "combined.log", "combined"),
        ("nginx", "combined.log", "combined"),
        ("vhost_combined", "vhost_combined.log", "vhost_combined"),
        ("nginx_main", "nginx_main.log", "nginx_main"),
        ("json", "nginx_json.jsonl", "json"),
        ("json", "caddy.jsonl", "json"),
        ("json", "traefik.jsonl", "json"),
    ],
)
def test_preset_parses_fixture_and_auto_picks_it(preset: str, fixture: str, auto: str) -> None:
    records = parse_all(preset, fixture)
    assert all(r.ip and r.time and r.time.tzinfo and r.status for r in records)
    chosen = detect_format([line.data for line in raw_lines(FIX / fixture)])
    assert chosen.parser.name == auto


def test_combined_fields() -> None:
    records = parse_all("combined", "combined.log")
    sqli = records[2]
    assert sqli.query is not None and "UNION%20SELECT" in sqli.query
    assert sqli.user_agent is not None and sqli.user_agent.startswith("sqlmap/")
    assert records[1].protocol == "HTTP/2.0" and records[1].referer == "https://www.example.com/"


def test_vhost_combined_fields() -> None:
    first, second = parse_all("vhost_combined", "vhost_combined.log")
    assert (first.vhost, first.server_port, first.ip) == ("shop.example.com", 443, "192.0.2.10")
    assert second.server_port == 80 and second.path == "/wp-login.php"


def test_vhost_without_port() -> None:
    line = (b'www.sitename.com 192.0.2.222 - - [18/Aug/2024:21:08:39 +0100] "GET / HTTP/1.1" 403 332 "-" '
            b'"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"')
    chosen = detect_format([line])
    assert chosen.parser.name == "vhost"
    record = chosen.parser.parse(line)
    assert (record.vhost, record.ip, record.status) == ("www.sitename.com", "192.0.2.222", 403)
    assert record.server_port is None


def test_common_ipv6_and_user() -> None:
    records = parse_all("common", "common.log")
    assert records[1].user == "frank" and records[1].bytes is None
    assert records[2].ip == "2001:db8:85a3::8a2e:370:7334"


def test_caddy_json() -> None:
    (r,) = parse_all("json", "caddy.jsonl")
    assert r.ip == "198.51.100.23" and r.method == "GET" and r.path == "/search" and r.query == "q=shoes"
    assert r.user_agent == "Mozilla/5.0 (Windows NT 10.0)" and r.referer == "https://example.com/"
    assert r.status == 200 and r.bytes == 4096 and r.protocol == "HTTP/2.0" and r.client_port == 51514
    assert r.time == datetime.fromtimestamp(1763719200.123, tz=UTC) and r.duration == pytest.approx(0.0021)


def test_traefik_json() -> None:
    (r,) = parse_all("json", "traefik.jsonl")
    assert (r.ip, r.status, r.path, r.user_agent, r.vhost) == ("203.0.113.5", 404, "/594VAEoi.dtd", "Nikto",
                                                              "test.example")
    assert r.server_port is None and r.duration == pytest.approx(215563e-9)
    assert r.time == datetime(2021, 12, 8, 14, 2, 43, 464763, tzinfo=UTC)


def test_nginx_escape_json() -> None:
    (r,) = parse_all("json", "nginx_json.jsonl")
    assert r.user_agent == 'Mozilla/5.0 "quoted"' and r.user is None and r.referer is None
    assert r.server_port == 443 and r.duration == pytest.approx(0.004) and r.query == "x=1"


def test_json_custom_mapping() -> None:
    parser = get_parser("json:ip=client.addr,status=code")
    r = parser.parse('{"client":{"addr":"192.0.2.1"},"code":418,"uri":"/teapot"}')
    assert (r.ip, r.status, r.path) == ("192.0.2.1", 418, "/teapot")
    with pytest.raises(FormatError):
        get_parser("json:nosuchfield=x")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"[1, 2]", "not a JSON object"),
        (b'{"remote_addr": "192.0.2.1", ', "invalid JSON"),
        (b'{"status": 200}', "no client address"),
        (b'{"remote_addr": "192.0.2.1", "status": "abc"}', "not a number"),
        (b"plain text", "not a JSON object"),
    ],
)
def test_json_bad_lines(data: bytes, reason: str) -> None:
    result = get_parser("json").parse_raw(RawLine("f", 1, 0, data))
    assert isinstance(result, Unparsed) and reason in result.reason


def test_nginx_conf_main_and_named() -> None:
    records = parse_all("auto", "nginx_main.log", nginx_conf=FIX / "nginx.conf")
    assert records[1].ip == "10.0.0.5"
    (timed,) = parse_all("auto", "timed.log", nginx_conf=f"{FIX / 'nginx.conf'}:timed")
    assert timed.duration == pytest.approx(1.25) and timed.user_agent == "Mozilla/5.0"
    parser = get_parser("auto", nginx_conf=f"{FIX / 'nginx.conf'}:json_log")
    r = parser.parse('{"remote_addr":"192.0.2.1","time_iso8601":"2026-11-21T10:00:00+00:00",'
                     '"request":"GET / HTTP/1.1","status":"200","body_bytes_sent":"5"}')
    assert r.status == 200


def test_nginx_conf_errors(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="no log_format named 'nope'"):
        get_parser("auto", nginx_conf=f"{FIX / 'nginx.conf'}:nope")
    with pytest.raises(FormatError, match="cannot read"):
        get_parser("auto", nginx_conf=tmp_path / "missing.conf")


def test_auto_detect_prefers_most_specific_and_tolerates_bad_lines() -> None:
    lines = [*(FIX / "vhost_combined.log").read_bytes().splitlines(), b"\x16\x03\x01garbage"]
    assert detect_format(lines).parser.name == "vhost_combined"


def test_auto_detect_extra_fields_fall_back_to_combined_extra() -> None:
    line = b'192.0.2.1 - - [21/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8" 0.002 upstream=1'
    chosen = detect_format([line])
    assert chosen.parser.name == "combined_extra"
    assert chosen.parser.parse(line).user_agent == "curl/8"


def test_auto_detect_failure_names_formats_and_first_line() -> None:
    with pytest.raises(UnknownFormatError) as info:
        detect_format([b"Nov 21 10:00:00 host sshd[1]: Accepted password", b"another"], source="auth.log")
    text = str(info.value)
    assert "auth.log" in text and "vhost_combined" in text and "json" in text
    assert "Accepted password" in text and "--log-format" in text


def test_unknown_preset_is_a_clear_error() -> None:
    with pytest.raises(FormatError, match="unknown log format 'apachee'"):
        get_parser("apachee")


def test_client_zone_ids_are_dropped_for_ipv6_and_refused_after_ipv4() -> None:
    """``1.2.3.4%x`` is not an address (IPv4 has no zones): unparsed, never silently ``1.2.3.4``."""
    from threatlens.parsers import RawLine, Unparsed, get_parser

    parser = get_parser("combined")
    tail = ' - - [10/Oct/2024:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8"'
    ok = {"fe80::1%eth0": "fe80::1", "[fe80::1%eth0]": "fe80::1", "::ffff:192.0.2.1": "192.0.2.1"}
    for client, want in ok.items():
        assert parser.parse_raw(RawLine("t", 1, 0, (client + tail).encode())).ip == want
    for client in ("1.2.3.4%x", "1.2.3.4%", "fe80::1%", "::ffff:192.0.2.1%"):
        result = parser.parse_raw(RawLine("t", 1, 0, (client + tail).encode()))
        assert isinstance(result, Unparsed), client
        assert "not an IP address" in result.reason
