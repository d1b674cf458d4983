"""The port-scan rules on generated traffic: known scans mixed into a day of background, and background alone.

The full-size figures (3,000 knocking sources a day, 20 scans of each type, several seeds) come
from ``bench/portscan.py``; this is the same measurement at a size that keeps the suite fast.
"""

from __future__ import annotations

import pytest

from threatlens.samplegen.firewall import SCAN_TYPES, STYLES, FirewallTraffic, format_lines
from threatlens.samplegen.scaneval import DSTS, START, evaluate, run_detector


@pytest.fixture(scope="module")
def mixed():  # type: ignore[no-untyped-def]
    return evaluate(seed=3, per_type=6, knockers=600, brute=4, strays=600, monitors=1)


#: below these sizes a scan is not reported by design (PortScanConfig's thresholds)
SMALL = {"vertical": 12, "syn": 12, "horizontal": 8, "slow": 12, "null": 3, "fin": 3, "xmas": 3}


@pytest.mark.parametrize("scan_type", SCAN_TYPES)
def test_each_scan_type_is_found_and_named_unless_below_the_thresholds(mixed, scan_type: str) -> None:  # type: ignore[no-untyped-def]
    assert mixed.scans[scan_type] == 6
    missed = mixed.missed.get(scan_type, [])
    assert all(size < SMALL[scan_type] for size in missed), (scan_type, missed)
    assert mixed.recall(scan_type) >= 0.5, f"{scan_type}: recall {mixed.recall(scan_type):.2f}"


def test_alerts_fall_on_scanners(mixed) -> None:  # type: ignore[no-untyped-def]
    for kind in ("port_scan_vertical", "port_scan_horizontal", "port_scan_stealth"):
        assert mixed.precision(kind) >= 0.95, kind
    # a returning bot that probed 12 ports of the host within two hours is a slow scan by the rule: rare
    assert mixed.false_alarm_sources <= 0.005 * mixed.background_sources


def test_a_day_of_background_alone_raises_no_alert() -> None:
    result = evaluate(seed=11, scans=False, knockers=1000, brute=5, strays=1000, monitors=1)
    assert result.background_sources > 1500
    assert sum(result.alerts_by_kind.values()) == 0


@pytest.mark.parametrize("style", STYLES)
def test_every_written_style_parses_and_detects_alike(style: str) -> None:
    traffic = FirewallTraffic(5, START, DSTS)
    packets = traffic.scan("syn") + traffic.background(duration=3600, knockers=50, brute=1, strays=50)
    text = list(format_lines(packets, style))
    assert len(text) == len(packets)
    alerts = run_detector(packets, style)
    assert {a.kind for a in alerts} == {"port_scan_vertical"}
    assert any("SYN scan" in " ".join(a.reasons) for a in alerts)


def test_live_packets_are_in_time_order_and_the_demo_appends_parseable_lines(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import itertools
    import time

    from threatlens.demo import FirewallAppender, prepare_firewall_log
    from threatlens.parsers import FirewallParser, FirewallRecord, RawLine
    from threatlens.samplegen.firewall import live_packets

    now = time.time()
    packets = list(itertools.islice(live_packets(1, now, knocks_per_minute=60), 400))
    assert all(a.t <= b.t for a, b in itertools.pairwise(packets))
    assert packets[0].t >= now and packets[-1].t < now + 3600
    log = prepare_firewall_log(tmp_path)
    before = len(log.read_bytes().splitlines())
    appender = FirewallAppender(log, rate=20.0, seed=2)
    appender.start()
    deadline = time.monotonic() + 10
    while appender.written < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    appender.stop()
    lines = log.read_bytes().splitlines()
    assert len(lines) >= before + 5
    parser = FirewallParser()
    assert all(isinstance(parser.parse_raw(RawLine("f", i, 0, x)), FirewallRecord) for i, x in enumerate(lines[-5:]))
