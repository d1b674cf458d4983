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
