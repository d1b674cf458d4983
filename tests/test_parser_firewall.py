"""Firewall log lines in every documented wrapper: fields, unparsed reasons, detection, properties."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threatlens.parsers import FirewallParser, FirewallRecord, RawLine, Unparsed, detect_format, get_parser
from threatlens.parsers.firewall import action_of

FIX = Path(__file__).parent / "data" / "parsers" / "firewall"
TODAY = date(2026, 11, 28)
LOCAL = datetime(2026, 11, 27, 6, 25, 1).astimezone().tzinfo


def parse_file(name: str) -> list[FirewallRecord | Unparsed]:
    parser = FirewallParser(today=TODAY)
    lines = (FIX / name).read_bytes().splitlines()
    return parser.parse_batch([RawLine(name, i + 1, 0, line) for i, line in enumerate(lines)])


# (fixture, line number, expected fields; None = the line is unparsed, the string is part of its reason)
CASES: list[tuple[str, int, dict[str, object] | str]] = [
    ("ufw.log", 1, {"time": datetime(2026, 11, 27, 6, 25, 1, tzinfo=LOCAL), "uptime": 1234567.890123,
                    "host": "web1", "prefix": "[UFW BLOCK]", "action": "block", "in_iface": "eth0",
                    "out_iface": None, "src": "203.0.113.7", "dst": "198.51.100.10", "proto": "TCP",
                    "sport": 51234, "dport": 22, "tcp_flags": "SYN", "length": 44, "ttl": 241}),
    ("ufw.log", 2, {"time": datetime(2026, 11, 7, 6, 25, 2, tzinfo=LOCAL), "prefix": "[UFW ALLOW]",
                    "action": "allow", "dport": 443, "uptime": None}),
    ("ufw.log", 3, {"tcp_flags": "ACK FIN", "action": "block"}),
    ("ufw.log", 4, {"prefix": "[UFW AUDIT]", "action": "audit", "proto": "UDP", "tcp_flags": None, "dport": 123,
                    "length": 76}),
    ("ufw.log", 5, {"prefix": "[UFW LIMIT BLOCK]", "action": "block", "src": "2001:db8::1", "dst": "2001:db8::10",
                    "ttl": 51, "dport": 22}),
    ("kern.log", 1, {"time": datetime(2026, 11, 27, 6, 25, 1, 123456, tzinfo=UTC), "host": "gw",
                     "prefix": "IPT-DROP:", "action": "block", "tcp_flags": "", "dport": 23}),
    ("kern.log", 2, {"time": datetime(2026, 11, 27, 6, 25, 1, 500000, tzinfo=timezone(timedelta(hours=1))),
                     "uptime": 12.345678, "prefix": "nft-drop:", "tcp_flags": "URG PSH FIN"}),
    ("kern.log", 3, {"prefix": "FWD-DROP", "in_iface": "eth1", "out_iface": "eth0", "proto": "ICMP",
                     "icmp_type": 8, "dport": None}),
    # the ICMP error quotes the packet it answers in brackets: those are not this packet's ports
    ("kern.log", 4, {"prefix": "OUT-REJ:", "in_iface": None, "out_iface": "eth0", "src": "10.0.0.5",
                     "dst": "203.0.113.9", "icmp_type": 3, "dport": None, "sport": None}),
    ("kern.log", 5, "no firewall entry"),
    ("messages", 1, {"prefix": "filter_IN_public_REJECT:", "action": "block", "host": "centos", "dport": 3389}),
    ("messages", 2, {"prefix": "FINAL_REJECT:", "tcp_flags": "", "dport": 445}),
    ("messages", 3, {"prefix": "STATE_INVALID_DROP:", "tcp_flags": "ACK RST", "sport": 443}),
    ("messages", 4, "no firewall entry"),
    ("journal-short-iso.txt", 1, {"time": datetime(2026, 11, 27, 6, 25, 1, tzinfo=UTC), "dport": 8080}),
    ("journal-short-iso.txt", 2, {"time": datetime(2026, 11, 27, 6, 25, 2, tzinfo=UTC), "proto": "UDP"}),
    ("journal.json", 1, {"time": datetime.fromtimestamp(1795674301, tz=UTC), "uptime": 1234567.0, "host": "web1",
                         "prefix": "[UFW BLOCK]", "dport": 5900}),
    # journald writes a message with invalid UTF-8 as a list of byte values
    ("journal.json", 2, {"time": datetime.fromtimestamp(1795674302, tz=UTC), "src": "203.0.113.13", "dport": 21,
                         "tcp_flags": "SYN"}),
    ("dmesg.txt", 1, {"time": None, "uptime": 5678.901234, "host": None, "prefix": "tl-probe:", "action": "log",
                      "dport": 3306}),
    ("dmesg.txt", 2, {"time": datetime(2026, 11, 27, 6, 25, 1, 123456, tzinfo=UTC), "dport": 3307, "tcp_flags": ""}),
    ("dmesg.txt", 3, {"time": None, "uptime": 5678.901999, "dport": 3308, "tcp_flags": "FIN"}),
]


@pytest.mark.parametrize(("fixture", "line", "expected"), CASES, ids=[f"{f}:{n}" for f, n, _ in CASES])
def test_fixture_line(fixture: str, line: int, expected: dict[str, object] | str) -> None:
    result = parse_file(fixture)[line - 1]
    raw = (FIX / fixture).read_bytes().splitlines()[line - 1]
    assert result.raw == raw and result.line == line and result.file == fixture
    if isinstance(expected, str):
        assert isinstance(result, Unparsed), result
        assert expected in result.reason
        return
    assert isinstance(result, FirewallRecord), result
    for name, value in expected.items():
        assert getattr(result, name) == value, name


def test_every_fixture_line_gives_one_result() -> None:
    for path in sorted(FIX.iterdir()):
        lines = path.read_bytes().splitlines()
        assert len(parse_file(path.name)) == len(lines)


def test_record_is_frozen() -> None:
    rec = parse_file("ufw.log")[0]
    assert isinstance(rec, FirewallRecord)
    with pytest.raises(AttributeError):
        rec.src = "1.2.3.4"  # type: ignore[misc]
    assert hash(rec) == hash(rec._replace())
    assert rec.ip == rec.src
    assert rec.seconds == rec.time.timestamp()  # type: ignore[union-attr]


@pytest.mark.parametrize(("line", "reason"), [
    (b"", "empty line"),
    (b"\x16\x03\x01\x02\x00", "binary"),
    (b"Nov 27 06:25:01 h kernel: [UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.7 LEN=40 PROTO=TCP", "SRC= and DST="),
    (b"Nov 27 06:25:01 h kernel: [UFW BLOCK] IN=eth0 OUT= SRC=999.1.1.1 DST=1.2.3.4", "not an IP address"),
    (b"Nov 27 06:25:01 h kernel: X IN=eth0 OUT= SRC=1.1.1.1 DST=1.2.3.4 PROTO=TCP SPT=1 DPT=70000", "bad port"),
    (b'{"MESSAGE": 5}', "without a MESSAGE"),
    (b'{"MESSAGE": "x"', "bad field value"),
    (b"Feb 30 06:25:01 h kernel: X IN=eth0 OUT= SRC=1.1.1.1 DST=1.2.3.4", "bad field value"),
])
def test_unparsed_reasons(line: bytes, reason: str) -> None:
    result = FirewallParser(today=TODAY).parse_raw(RawLine("f", 1, 0, line))
    assert isinstance(result, Unparsed)
    assert reason in result.reason


def test_syslog_year_is_never_far_in_the_future() -> None:
    parser = FirewallParser(today=date(2027, 1, 2))
    line = b"Dec 31 23:59:59 h kernel: X IN=eth0 OUT= SRC=1.1.1.1 DST=1.2.3.4"
    rec = parser.parse_raw(RawLine("f", 1, 0, line))
    assert isinstance(rec, FirewallRecord) and rec.time is not None and rec.time.year == 2026


@pytest.mark.parametrize(("prefix", "action"), [
    ("[UFW BLOCK]", "block"), ("[UFW ALLOW]", "allow"), ("[UFW AUDIT]", "audit"), ("nft-drop:", "block"),
    ("IPTABLES-ACCEPT:", "allow"), ("FINAL_REJECT:", "block"), ("denied ", "block"), ("trace", "log"), ("", "log"),
])
def test_action_from_prefix(prefix: str, action: str) -> None:
    assert action_of(prefix) == action


@pytest.mark.parametrize("fixture", ["ufw.log", "kern.log", "messages", "journal-short-iso.txt", "journal.json",
                                     "dmesg.txt"])
def test_auto_detection_picks_firewall(fixture: str) -> None:
    found = detect_format((FIX / fixture).read_bytes().splitlines(), source=fixture)
    assert found.parser.name == "firewall"


def test_kernel_log_without_packets_yet_is_still_a_firewall_log() -> None:
    boot = [b"Nov 27 06:25:01 h kernel: [    0.000000] Linux version 6.1.0", b"Nov 27 06:25:01 h kernel: usb 1-1: hi"]
    assert detect_format(boot).parser.name == "firewall"


def test_access_logs_are_not_taken_for_firewall_logs() -> None:
    access = Path(__file__).parent / "data" / "parsers" / "combined.log"
    assert detect_format(access.read_bytes().splitlines()).parser.name != "firewall"
    assert get_parser("firewall").name == "firewall"


VALID = (b"Nov 27 06:25:01 web1 kernel: [ 1.5] [UFW BLOCK] IN=eth0 OUT= MAC=52:54 SRC=203.0.113.7 "
         b"DST=198.51.100.10 LEN=44 TTL=241 PROTO=TCP SPT=51234 DPT=22 WINDOW=1024 RES=0x00 SYN URGP=0")
fragments = st.sampled_from([b"IN=", b"OUT=", b"SRC=", b"DST=", b"1.2.3.4", b"::1", b" ", b"=", b"[", b"]", b"{",
                             b'"MESSAGE":', b"PROTO=TCP", b"DPT=", b"65536", b"SYN", b"\xff", b"\x00", b"kernel:",
                             b"Nov 27 06:25:01 ", b"2026-11-27T06:25:01+00:00 ", b"6,1,2,-;", VALID])
line_bytes = st.one_of(
    st.binary(max_size=300),
    st.lists(fragments, max_size=40).map(b"".join),
    st.builds(lambda i, j, junk: VALID[:i] + junk + VALID[j:], st.integers(0, len(VALID)),
              st.integers(0, len(VALID)), st.binary(max_size=30)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line_bytes, min_size=1, max_size=8))
def test_property_one_result_per_line_no_exception_bounded_time(lines: list[bytes]) -> None:
    parser = FirewallParser(today=TODAY)
    raws = [RawLine("f", i + 1, i * 10, data) for i, data in enumerate(lines)]
    start = time.perf_counter()
    results = list(parser.parse_lines(raws))
    elapsed = time.perf_counter() - start
    assert len(results) == len(raws)
    for raw, result in zip(raws, results, strict=True):
        assert isinstance(result, (FirewallRecord, Unparsed))
        assert result.raw == raw.data and result.line == raw.line and result.offset == raw.offset
        if isinstance(result, Unparsed):
            assert result.reason
    assert elapsed < 1.0 * len(raws)  # a generous bound: only a super-linear regex blow-up could break it


def test_long_hostile_lines_parse_in_bounded_time() -> None:
    parser = FirewallParser(today=TODAY)
    for line in (b"x" * 60_000 + b" IN=a OUT=b SRC=1.1.1.1 DST=2.2.2.2", b"IN=" * 20_000, b"IN=a OUT=" * 6000,
                 b"Nov 27 06:25:01 " * 4000, VALID + b" DPT=1" * 9000, b"[" * 60_000):
        start = time.perf_counter()
        result = parser.parse_raw(RawLine("f", 1, 0, line))
        assert isinstance(result, (FirewallRecord, Unparsed))
        assert time.perf_counter() - start < 2.0  # 60 KB lines: linear time is milliseconds, a blow-up minutes
