"""Pilot test: a campaign is one row of the alerts feed; Enter lists its IPs, Enter on one opens its IP screen."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from rich.text import Text

from threatlens.models.detection import Detection
from threatlens.tui.app import make_app
from threatlens.tui.screens import CampaignScreen, DashboardScreen, IpDetailScreen
from threatlens.tui.screens.campaign import CampaignMembersTable
from threatlens.tui.widgets import AlertsFeed
from tui_support import BASE, FIXED_NOW, line, normal_lines, run_async, screen_text, wait_for, write_log

AGENT = "Mozilla/5.0 [bold]zgrab-ish[/bold] (compatible)"  # markup in log content must stay literal
PROBES = ("/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/cgi-bin/luci/;stok=/locale",
          "/solr/admin/info/system")
PROBERS = [f"192.0.2.{i}" for i in range(10, 22)]


def campaign_log(path: Path) -> Path:
    lines = normal_lines(40)
    for n, ip in enumerate(PROBERS):  # 12 IPs, the same three probes each, a minute apart
        when = BASE + timedelta(seconds=60 + 60 * n)
        lines += [line(ip, p, 404, when=when + timedelta(seconds=j), agent=AGENT) for j, p in enumerate(PROBES)]
    lines += normal_lines(20, start=2000)
    return write_log(path, lines)


def _plain(cell: object) -> str:
    return (cell.plain if isinstance(cell, Text) else str(cell)).strip()  # feed cells start with their gap


@run_async
async def test_campaign_is_one_feed_row_and_enter_lists_its_ips(tmp_path: Path) -> None:
    log = campaign_log(tmp_path / "access.log")
    # the real detectors; no request scorer: 404 probes need none, and loading the model costs seconds
    app = make_app([log], from_start=True, detection=Detection(None), geo=None, clock=lambda: FIXED_NOW,
                   export_dir=tmp_path / "exports")
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= 96, timeout=20)
        app.refresh_dashboard(force=True)
        await pilot.pause()
        feed = app.dashboard.query_one(AlertsFeed)
        rows = {key: {column: _plain(feed.get_cell(key, column)) for column, _width in feed.layout}
                for key in feed.row_keys}
        campaigns = {k: r for k, r in rows.items() if r["what"].startswith("campaign:")}
        assert len(campaigns) == 1  # alerted at 5 and again at 10 IPs: still one row, showing the latest
        key, cells = next(iter(campaigns.items()))
        assert cells["tier"] == "attack"  # a probe campaign is an attack, in words
        assert cells["what"].startswith("campaign: 10 IPs, same probes (GET …/")
        assert cells["ip"] == PROBERS[0] and "scanner" in cells["cats"]
        feed.focus()
        feed.move_cursor(row=feed.get_row_index(key))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CampaignScreen), timeout=20)
        members = app.screen.query_one(CampaignMembersTable)
        assert members.row_keys == PROBERS[:10]
        text = screen_text(app)
        assert "10 member IPs" in text and "[bold]zgrab-ish[/bold]" in text and "within 24 h" in text
        assert "severity attack" in text
        await pilot.press("j", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, IpDetailScreen), timeout=20)
        assert app.screen.ip == PROBERS[1]
        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), timeout=20)


SENSITIVE = ("/.env", "/.git/config", "/wp-login.php", "/phpmyadmin/", "/admin/", "/.aws/credentials", "/backup.zip")


@run_async
async def test_a_members_alert_count_and_its_ip_screen_agree_after_many_ips_alerted(tmp_path: Path) -> None:
    """A campaign member listed with 4 alerts said "Behaviour alerts: none" on its IP screen once 2000 other IPs
    had alerted (alerts are kept for the latest IPs to alert; the tables count them all): it now says how many
    were counted and are no longer held."""
    log = campaign_log(tmp_path / "access.log")
    after = BASE + timedelta(hours=1)
    flood = [line(f"11.{k // 250}.{k % 250}.9", path, 404, when=after + timedelta(seconds=k), agent="Mozilla/5.0")
             for k in range(2100) for path in SENSITIVE]
    write_log(log, flood, mode="a")
    total = 96 + len(flood)
    app = make_app([log], from_start=True, detection=Detection(None), geo=None, clock=lambda: FIXED_NOW,
                   export_dir=tmp_path / "exports")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= total, timeout=60)
        counts = {r.key: r.cells.alerts for r in app.live.member_rows(PROBERS[:2])}  # the campaign screen's column
        assert counts[PROBERS[0]] == 4  # its own two alerts and the campaign's, raised at 5 and at 10 IPs
        for ip in PROBERS[:2]:
            app.open_ip(ip)
            await wait_for(pilot, lambda ip=ip: isinstance(app.screen, IpDetailScreen)
                           and f"IP {ip}" in screen_text(app))
            await pilot.pause()
            text = screen_text(app)
            assert f"{counts[ip]} alerts counted, no longer held" in text, text
            await pilot.press("escape")
