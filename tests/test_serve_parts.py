"""The parts of ``threatlens serve`` that need no server: alert paging, listen/token checks, confined writes."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("aiohttp", reason="threatlens serve needs the serve extra: pip install -e '.[serve]'")

from threatlens.errors import UsageError
from threatlens.models.verdict import Alert
from threatlens.serve.alert_log import AlertLog
from threatlens.serve.app import ServeOptions, check, parse_listen, read_token
from threatlens.serve.security import is_loopback, same_origin
from threatlens.tui.app import make_app
from threatlens.tui.exporting import ExportRequest
from tui_support import RuleDetection, normal_lines, run_async, wait_for, write_log

WHEN = datetime(2026, 3, 14, 6, 0, tzinfo=UTC)


def _alert(ip: str, severity: str = "suspicious") -> Alert:
    return Alert(ip, "scanning", "a.log", 1, 2, 2, 0.9, ("probe",), ("scanner",), WHEN, WHEN, severity=severity)


def test_alert_ids_are_stable_and_pages_neither_skip_nor_repeat() -> None:
    log = AlertLog(keep=10)
    log.add([_alert(f"192.0.2.{i}") for i in range(7)], lambda ip: "ZZ")
    first = log.page(0, limit=3)
    assert [e.id for e in first.entries] == [1, 2, 3] and first.next_since == 3
    second = log.page(first.next_since, limit=3)
    assert [e.id for e in second.entries] == [4, 5, 6]
    third = log.page(second.next_since, limit=3)
    assert [e.id for e in third.entries] == [7] and third.next_since == 7
    assert log.page(7).entries == [] and log.page(7).next_since == 7
    assert third.entries[0].country == "ZZ" and third.entries[0].alert.ip == "192.0.2.6"


def test_a_poller_that_fell_behind_is_told_how_many_it_missed() -> None:
    log = AlertLog(keep=5)
    for i in range(30):
        log.add([_alert(f"192.0.2.{i}")], lambda ip: None)
    page = log.page(0, limit=1000)
    ids = [e.id for e in page.entries]
    assert ids == list(range(page.oldest_id, 31))
    assert page.missed == page.oldest_id - 1 > 0
    assert log.page(29).missed == 0


def test_min_severity_keeps_the_named_level_and_above() -> None:
    log = AlertLog()
    levels = ["nuisance", "attack", "suspicious", "nuisance", "attack"]
    log.add([_alert(f"192.0.2.{i}", s) for i, s in enumerate(levels)], lambda ip: None)
    assert [e.alert.severity for e in log.page(0).entries] == levels
    assert [e.id for e in log.page(0, min_severity="suspicious").entries] == [2, 3, 5]
    assert [e.id for e in log.page(0, min_severity="nuisance").entries] == [1, 2, 3, 4, 5]
    attack = log.page(0, min_severity="attack", limit=1)
    assert [e.id for e in attack.entries] == [2] and attack.next_since == 2
    rest = log.page(attack.next_since, min_severity="attack")
    assert [e.id for e in rest.entries] == [5] and rest.next_since == 5


@pytest.mark.parametrize(("text", "host", "port"), [
    ("127.0.0.1:8321", "127.0.0.1", 8321), ("[::1]:0", "::1", 0), ("localhost:80", "localhost", 80),
    ("0.0.0.0:9000", "0.0.0.0", 9000),
])
def test_parse_listen(text: str, host: str, port: int) -> None:
    assert parse_listen(text) == (host, port)


@pytest.mark.parametrize("text", ["8321", ":8321", "::1:8321", "127.0.0.1:port", "127.0.0.1:70000"])
def test_parse_listen_refuses(text: str) -> None:
    with pytest.raises(UsageError, match="--listen"):
        parse_listen(text)


def test_only_loopback_listens_without_a_token() -> None:
    for host in ("127.0.0.1", "127.9.9.9", "::1", "localhost"):
        assert is_loopback(host)
        check(ServeOptions(host=host))
    for host in ("0.0.0.0", "::", "192.0.2.1", "example.com", "localhost.example.com"):
        assert not is_loopback(host)
        with pytest.raises(UsageError, match="refusing to listen"):
            check(ServeOptions(host=host))
        check(ServeOptions(host=host, token="x" * 32))


def test_token_file(tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.write_text("  0123456789abcdef0123  \n")
    assert read_token(str(good)) == "0123456789abcdef0123"
    for bad in ("short\n", "two words of sixteen chars\n", ""):
        (tmp_path / "bad").write_text(bad)
        with pytest.raises(UsageError, match="at least 16"):
            read_token(str(tmp_path / "bad"))
    with pytest.raises(UsageError, match="cannot read"):
        read_token(str(tmp_path / "missing"))


@run_async
async def test_served_monitor_writes_only_under_the_export_dir(tmp_path: Path) -> None:
    log = write_log(tmp_path / "access.log", normal_lines(20))
    exports = tmp_path / "exports"
    exports.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (exports / "link").symlink_to(tmp_path / "elsewhere")
    app = make_app([log], detection=RuleDetection(), geo=None, from_start=True, export_dir=exports,
                   confine_writes=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines == 20)
        for outside in (tmp_path / "out.csv", exports / ".." / "up.csv", exports / "link" / "through.csv"):
            app.do_export(ExportRequest("all", "csv", outside))
            await pilot.pause()
            assert not outside.exists()
            assert any("writes only under" in str(n.message) for n in app._notifications)
        app.do_export(ExportRequest("all", "csv", exports / "inside.csv"))
        await pilot.pause()
        assert (exports / "inside.csv").exists()
        app.add_allowlist("192.0.2.9")
        await pilot.pause()
        assert not list(tmp_path.glob("**/config.toml"))  # the config file is never written
        assert any("does not write the config" in str(n.message) for n in app._notifications)


def test_websocket_origin_must_be_the_host_the_page_came_from() -> None:
    assert same_origin("http://127.0.0.1:8321", "127.0.0.1:8321")
    assert same_origin("https://Monitor.example", "monitor.example")  # TLS ends at a reverse proxy
    for origin in ("http://attacker.example", "http://127.0.0.1:8322", "null", "file://", "ws://127.0.0.1:8321",
                   "http://127.0.0.1:8321.attacker.example"):
        assert not same_origin(origin, "127.0.0.1:8321"), origin


def test_the_served_engine_watches_a_firewall_log_for_port_scans(tmp_path: Path) -> None:
    from threatlens.models.detection import Detection
    from threatlens.serve.engine import Engine
    from threatlens.tui.options import MonitorOptions

    lines = [f"2026-03-14T06:00:{i:02d}+00:00 web1 kernel: [UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.5 "
             f"DST=198.51.100.10 LEN=44 TTL=50 PROTO=TCP SPT=40000 DPT={port} WINDOW=1024 RES=0x00 SYN URGP=0"
             for i, port in enumerate(range(1, 40))]
    log = tmp_path / "ufw.log"
    log.write_text("\n".join(lines) + "\n")
    engine = Engine(MonitorOptions(paths=[str(log)], from_start=True), on_note=lambda text, level: None,
                    detection=Detection(None))
    engine.start()
    try:
        deadline = time.monotonic() + 30
        while engine.live.totals.lines < len(lines) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        engine.stop()
    assert engine.live.totals.packets == len(lines)
    assert {e.alert.kind for e in engine.live.stats.alerts()} == {"port_scan_vertical"}
