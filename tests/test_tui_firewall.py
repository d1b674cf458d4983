"""Pilot tests of the monitor following an access log and a firewall log together."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from threatlens.tui.app import make_app
from threatlens.tui.screens import BlocklistDialog, IpDetailScreen
from threatlens.tui.widgets import AlertsFeed, HeaderBar, TopPortsTable
from tui_support import (
    ATTACKER,
    BASE,
    FIXED_NOW,
    RuleDetection,
    attack_lines,
    normal_lines,
    run_async,
    screen_text,
    wait_for,
    write_log,
)

SIZE = (140, 40)
SWEEPER = "192.0.2.99"  # scans ports, never visits the web server


def ufw(src: str, port: int, seconds: float, flags: str = "SYN", action: str = "BLOCK") -> str:
    when = (BASE + timedelta(seconds=seconds)).isoformat()
    return (f"{when} web1 kernel: [UFW {action}] IN=eth0 OUT= MAC=52:54:00:12:34:56:fe:54:00:65:43:21:08:00 "
            f"SRC={src} DST=198.51.100.10 LEN=44 TOS=0x00 PREC=0x00 TTL=50 ID=1 PROTO=TCP SPT=40000 DPT={port} "
            f"WINDOW=1024 RES=0x00 {flags} URGP=0")


def firewall_lines() -> list[str]:
    out = [ufw(f"203.0.113.{i}", 22, i) for i in range(1, 30)]  # knocks on ssh
    out += [ufw(ATTACKER, p, 20 + p * 0.05) for p in range(1, 41)]  # the attacker's scan before its requests
    out += [ufw(SWEEPER, p, 25 + p * 0.05, flags="FIN") for p in range(100, 110)]
    out += [ufw("81.2.69.142", 443, 1, action="ALLOW")]
    return out


@run_async
async def test_ports_panel_ip_screen_alerts_and_blocklist_from_both_logs(tmp_path: Path) -> None:
    access = write_log(tmp_path / "access.log", normal_lines(30) + attack_lines(8, start=40))
    firewall = write_log(tmp_path / "ufw.log", firewall_lines())
    total = 38 + len(firewall_lines())
    app = make_app([access, firewall], detection=RuleDetection(), geo=None, clock=lambda: FIXED_NOW,
                   export_dir=tmp_path / "exports", from_start=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= total)
        app.refresh_dashboard(force=True)
        await pilot.pause()
        header = str(app.dashboard.query_one(HeaderBar).render())
        assert f"packets {len(firewall_lines())}" in header and "parsed 38" in header
        ports = app.dashboard.query_one(TopPortsTable)
        assert ports.border_title == "Ports (firewall)"
        first = ports.get_row_at(0)
        assert [str(c) for c in first[:3]] == ["22", "ssh", "30"]  # 29 knocks and the scan
        text = screen_text(app)
        assert "port_scan_then_web" in text or "port_scan_vertical" in text
        kinds = [e.alert.kind for e in app.live.stats.alerts()]
        assert {"port_scan_vertical", "port_scan_stealth", "port_scan_then_web"} <= set(kinds)
        then_web = next(e.alert for e in app.live.stats.alerts() if e.alert.kind == "port_scan_then_web")
        assert then_web.ip == ATTACKER and "then 8 probes" in then_web.reasons[0]

        app.dashboard.query_one(AlertsFeed).focus()
        app.open_ip(ATTACKER)
        await pilot.pause()
        assert isinstance(app.screen, IpDetailScreen)
        text = screen_text(app)
        assert "Firewall" in text and "40 packets" in text and "firewall packets/min" in text
        assert "requests 8" in text
        await pilot.press("escape")

        app.open_ip(SWEEPER)  # only in the firewall log
        await pilot.pause()
        text = screen_text(app)
        assert "10 packets" in text and "port_scan_stealth" in text
        await pilot.press("escape")

        target = tmp_path / "block.txt"
        await pilot.press("b")
        dialog = app.screen
        assert isinstance(dialog, BlocklistDialog)
        dialog.query_one("#blocklist-path").value = str(target)
        await pilot.click("#blocklist-ok")
        await wait_for(pilot, target.exists)
        blocked = target.read_text()
        assert ATTACKER in blocked and SWEEPER in blocked and "203.0.113.1\n" not in blocked
