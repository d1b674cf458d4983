"""Port-scan rules on hand-built packet sequences, the web/firewall correlation, and bounded state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from threatlens.models.crossref import CrossSource, describe_paths
from threatlens.models.portscan import PortScanDetector, flag_pattern, is_probe
from threatlens.models.verdict import Verdict
from threatlens.parsers import FirewallRecord, get_parser
from threatlens.parsers.record import RawLine

T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def pkt(src: str, dport: int | None, t: float, *, dst: str = "198.51.100.10", flags: str | None = "SYN",
        proto: str = "TCP", sport: int = 40000, length: int = 44, line: int = 1, icmp: int | None = None,
        in_iface: str | None = "eth0") -> FirewallRecord:
    return FirewallRecord(T0 + timedelta(seconds=t), None, "h", "[UFW BLOCK]", "block", in_iface, None, src, dst,
                          proto, sport, dport, flags if proto == "TCP" else None, icmp, length, 50, b"", "ufw.log",
                          line, 0)


def kinds(alerts: list) -> list[str]:
    return [a.kind for a in alerts]


def test_vertical_scan_is_suspicious_then_an_attack_with_evidence() -> None:
    det = PortScanDetector()
    alerts = det.observe([pkt("203.0.113.7", p, i * 0.5, line=i + 1) for i, p in enumerate(range(1, 101))])
    assert kinds(alerts) == ["port_scan_vertical", "port_scan_vertical"]  # growth alone re-raises after 10 min
    first, second = alerts
    assert (first.events, second.events) == (12, 24)
    assert first.score < second.score
    assert "12 ports on 198.51.100.10" in first.reasons[0]
    assert first.reasons[1].startswith("ports 1,2,3")
    assert "SYN scan" in first.reasons[2]
    assert (first.file, first.first_line, second.last_line) == ("ufw.log", 1, 24)
    later = det.observe([pkt("203.0.113.7", p, 700 + i * 0.5) for i, p in enumerate(range(101, 201))])
    assert [a.events for a in later] == [96]
    assert (first.severity, second.severity) == ("suspicious", "attack")


def test_connect_scan_is_not_called_a_crafted_syn_scan() -> None:
    alerts = PortScanDetector().observe([pkt("203.0.113.7", p, i, length=60) for i, p in enumerate(range(1, 30))])
    assert alerts and "connect or SYN scan" in alerts[0].reasons[2]


def test_horizontal_sweep() -> None:
    packets = [pkt("203.0.113.8", 445, i, dst=f"10.0.0.{i + 1}") for i in range(40)]
    alerts = PortScanDetector().observe(packets)
    assert set(kinds(alerts)) == {"port_scan_horizontal"}
    assert "port 445 on 8 addresses" in alerts[0].reasons[0]


def test_ping_sweep_is_horizontal() -> None:
    packets = [pkt("203.0.113.8", None, i, dst=f"10.0.0.{i + 1}", proto="ICMP", icmp=8) for i in range(20)]
    assert kinds(PortScanDetector().observe(packets))[0] == "port_scan_horizontal"


def test_slow_scan_below_the_fast_thresholds() -> None:
    packets = [pkt("203.0.113.9", 1000 + i, i * 60.0) for i in range(30)]  # one port a minute
    alerts = PortScanDetector().observe(packets)
    assert kinds(alerts) == ["port_scan_slow"]
    assert alerts[0].events == 12 and alerts[0].score < 0.9


@pytest.mark.parametrize(("flags", "name"), [("", "NULL"), ("FIN", "FIN"), ("URG PSH FIN", "XMAS")])
def test_stealth_patterns(flags: str, name: str) -> None:
    alerts = PortScanDetector().observe([pkt("203.0.113.10", p, p, flags=flags) for p in (21, 22, 80, 443)])
    assert kinds(alerts) == ["port_scan_stealth"]
    assert f"{name} 3 probes" in alerts[0].reasons[2]


def test_single_knocks_retries_and_brute_force_raise_nothing() -> None:
    packets = []
    for i in range(300):  # 300 sources, each one to three ports with retransmissions
        src = f"192.0.2.{i % 250}" if i < 250 else f"198.18.{i}.1"
        for j, port in enumerate((22, 23, 445)[: 1 + i % 3]):
            packets += [pkt(src, port, i * 10 + j + r) for r in (0, 1, 3)]
    packets += [pkt("203.0.113.50", 22, 5000 + i) for i in range(2000)]  # brute force on one port
    assert PortScanDetector().observe(packets) == []


def test_stragglers_of_closed_connections_are_not_probes() -> None:
    det = PortScanDetector()
    strays = [pkt("192.0.2.80", 32768 + i * 7, i, flags=f) for i, f in enumerate(["ACK FIN", "ACK RST", "RST"] * 20)]
    late_dns = [pkt("192.0.2.53", 40000 + i, i, proto="UDP", sport=53) for i in range(60)]
    assert det.observe(strays + late_dns) == []
    assert not is_probe(strays[0]) and not is_probe(late_dns[0])
    assert flag_pattern("SYN FIN") == "odd" and flag_pattern("SYN ECE CWR") == "SYN" and flag_pattern(None) is None


def test_outgoing_packets_are_not_the_hosts_scan() -> None:
    packets = [pkt("198.51.100.10", p, p, in_iface=None) for p in range(1, 60)]
    packets = [p._replace(out_iface="eth0") for p in packets]
    assert PortScanDetector().observe(packets) == []


def test_state_is_bounded_and_idle_sources_expire() -> None:
    det = PortScanDetector(max_ips=100)
    det.observe([pkt(f"10.{i // 250}.{i % 250}.1", 22, i * 0.01) for i in range(5000)])
    assert len(det) <= 100
    det.observe([pkt("203.0.113.1", 22, 100_000.0)])  # far later: everyone else idle past the slow window
    assert len(det) <= 100


def test_a_scan_then_flagged_requests_is_called_out_whatever_was_read_first() -> None:
    scan = PortScanDetector().observe([pkt("203.0.113.7", p, p) for p in range(1, 30)])
    web = get_parser("combined")
    records = [web.parse_raw(RawLine("access.log", i + 1, 0, (
        f'203.0.113.7 - - [27/Nov/2026:06:{10 + i:02d}:00 +0000] "GET /wp-{name} HTTP/1.1" 404 10 "-" "x"').encode()))
        for i, name in enumerate(["login.php", "admin/", "content/a.php", "includes/b.php"])]
    flagged = [Verdict(0.9, True, ("scanner",), ("probe",))] * len(records)
    for order in ("web first", "firewall first"):
        cross = CrossSource()
        if order == "web first":
            out = cross.observe(records, flagged, []) + cross.observe([], None, scan)
        else:
            out = cross.observe([], None, scan) + cross.observe(records, flagged, [])
        assert kinds(out) == ["port_scan_then_web"], order
        assert "then 4 probes on /wp-*" in out[0].reasons[0]
        assert out[0].reasons[0].startswith("port scan (vertical, ")
        assert (out[0].file, out[0].first_line, out[0].last_line) == ("access.log", 1, 4)


def test_requests_before_the_scan_are_not_after_it() -> None:
    scan = PortScanDetector().observe([pkt("203.0.113.7", p, 3600 + p) for p in range(1, 30)])
    records = get_parser("combined").parse_batch([RawLine("a", 1, 0, (
        b'203.0.113.7 - - [27/Nov/2026:06:10:00 +0000] "GET /wp-login.php HTTP/1.1" 404 10 "-" "x"'))] * 5)
    cross = CrossSource()
    assert cross.observe(records, [Verdict(0.9, True)] * 5, scan) == []


def test_describe_paths() -> None:
    assert describe_paths(["/wp-login.php", "/wp-admin/"]) == "/wp-*"
    assert describe_paths(["/a", "/a"]) == "/a"
    assert describe_paths(["/x", "/y", "/z", "/w"]) == "/x, /y, /z, …"
