"""Severity tiers in the monitor: the tier as a word (NO_COLOR), ``n`` hides the nuisance tier, block-list tiers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from threatlens.tui.app import make_app
from threatlens.tui.screens import BlocklistDialog, IpDetailScreen
from threatlens.tui.widgets import AlertsFeed, TopIpsTable
from tui_support import (
    ATTACKER,
    BASE,
    FIXED_NOW,
    NORMAL_IPS,
    RuleDetection,
    attack_lines,
    line,
    normal_lines,
    run_async,
    screen_text,
    wait_for,
    write_log,
)

SUSPECT, BOT = "192.0.2.88", "192.0.2.77"
SIZE = (120, 34)


@pytest.fixture
def tiers_log(tmp_path: Path) -> tuple[Path, int]:
    """Browsing, an attacker (attack), a PROPFIND (suspicious) and an 80legs bot (nuisance)."""
    lines = [line(BOT, f"/page{i}", agent="Mozilla/5.0 (compatible; 80legs/1.0)", when=BASE + timedelta(seconds=i))
             for i in range(4)]  # the busiest client
    lines += normal_lines(12, start=10) + attack_lines(4, start=30)
    lines.append(line(SUSPECT, "/", status=405, method="PROPFIND", when=BASE + timedelta(seconds=40)))
    return write_log(tmp_path / "access.log", lines), len(lines)


def _app(path: Path, tmp_path: Path, **kw: object):
    return make_app([path], from_start=True, detection=RuleDetection(), geo=None, clock=lambda: FIXED_NOW,
                    export_dir=tmp_path / "exports", **kw)


async def _settled(pilot, app, lines: int) -> None:
    await wait_for(pilot, lambda: app.live.totals.lines >= lines)
    app.refresh_dashboard(force=True)
    await pilot.pause()


def _row_text(table, key: str) -> str:
    return " ".join(str(cell) for cell in table.get_row(key))


@run_async
async def test_tiers_are_words_and_n_hides_the_nuisance_tier(tiers_log, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    log, n = tiers_log
    app = _app(log, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _settled(pilot, app, n)
        ips = app.dashboard.query_one(TopIpsTable)
        assert "nuisance" in _row_text(ips, BOT) and "attack" in _row_text(ips, ATTACKER)
        assert "suspic." in _row_text(ips, SUSPECT)
        assert ips.get_cell(NORMAL_IPS[0], "tier").plain == ""  # no tier for plain browsing
        text = screen_text(app)
        assert all(word in text for word in ("attack", "suspic.", "nuisance"))  # words, not only colour
        feed = app.dashboard.query_one(AlertsFeed)
        feed_tiers = {feed.get_cell(key, "tier").plain.strip() for key in feed.row_keys}
        assert feed_tiers == {"attack", "suspic.", "nuisance"}

        await pilot.press("n")
        await pilot.pause()
        assert BOT not in set(ips.row_keys) and ATTACKER in set(ips.row_keys)
        tiers = {feed.get_cell(key, "tier").plain.strip() for key in feed.row_keys}
        assert tiers == {"attack", "suspic."}
        assert "nuisance tier hidden (n shows it)" in screen_text(app)
        assert app.live.totals.lines == n  # hiding is a view: nothing was dropped

        app.open_ip(BOT)
        await pilot.pause()
        assert isinstance(app.screen, IpDetailScreen)
        shown = screen_text(app)
        assert "tier nuisance" in shown and "nuisance tier hidden" in shown and "/page1 " not in shown
        await pilot.press("n")  # the same key on the IP screen shows them again
        await pilot.pause()
        assert "/page1" in screen_text(app) and "nuisance" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert BOT in set(ips.row_keys)
        assert "nuisance tier hidden" not in screen_text(app)


@run_async
async def test_block_list_defaults_to_the_attack_tier_and_offers_the_others(tiers_log, tmp_path: Path) -> None:
    log, n = tiers_log
    app = _app(log, tmp_path)
    target = tmp_path / "block.txt"
    async with app.run_test(size=SIZE) as pilot:
        await _settled(pilot, app, n)
        await pilot.press("b")
        dialog = app.screen
        assert isinstance(dialog, BlocklistDialog)
        assert "Block list of 1 IPs" in screen_text(app) and "(attack tier)" in screen_text(app)
        dialog.query_one("#blocklist-path").value = str(target)
        await pilot.click("#blocklist-ok")
        await wait_for(pilot, target.exists)
        assert target.read_text().split() == [ATTACKER]

        await pilot.press("b")
        dialog = app.screen
        assert isinstance(dialog, BlocklistDialog)
        dialog.query_one("#tier-nuisance").value = True
        await pilot.pause()
        assert "Block list of 3 IPs" in screen_text(app)
        dialog.query_one("#blocklist-path").value = str(target)
        await pilot.click("#blocklist-ok")
        await pilot.pause()
        await pilot.press("y")  # the file exists: confirm the overwrite
        await wait_for(pilot, lambda: BOT in target.read_text())
        assert set(target.read_text().split()) == {ATTACKER, SUSPECT, BOT}


@run_async
async def test_min_severity_option_preselects_the_dialog(tiers_log, tmp_path: Path) -> None:
    log, n = tiers_log
    app = _app(log, tmp_path, min_severity="suspicious")
    async with app.run_test(size=SIZE) as pilot:
        await _settled(pilot, app, n)
        await pilot.press("b")
        dialog = app.screen
        assert isinstance(dialog, BlocklistDialog)
        assert dialog.query_one("#tier-suspicious").value and "Block list of 2 IPs" in screen_text(app)


@run_async
async def test_export_applies_the_tier_and_says_it(tiers_log, tmp_path: Path) -> None:
    import json

    from threatlens.tui.screens import ExportDialog

    log, n = tiers_log
    app = _app(log, tmp_path)
    target = tmp_path / "flagged.jsonl"
    async with app.run_test(size=SIZE) as pilot:
        await _settled(pilot, app, n)
        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        assert dialog.query_one("#etier-attack").value  # --min-severity's default, as for block lists
        dialog.query_one("#fmt-jsonl").value = True
        await pilot.pause()
        dialog.query_one("#export-path").value = str(target)
        await pilot.click("#export-ok")
        await wait_for(pilot, target.exists)
        rows = [json.loads(x) for x in target.read_text().splitlines()]
        assert len(rows) == 4 and {r["ip"] for r in rows} == {ATTACKER}
        toast = [m.message for m in app._notifications][-1]
        assert toast.startswith("exported 4 flagged requests (attack tier) to "), toast

        await pilot.press("e")
        dialog = app.screen
        dialog.query_one("#etier-nuisance").value = True
        dialog.query_one("#fmt-jsonl").value = True
        await pilot.pause()
        dialog.query_one("#export-path").value = str(target)
        await pilot.click("#export-ok")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: BOT in target.read_text())
        assert {json.loads(x)["ip"] for x in target.read_text().splitlines()} == {ATTACKER, SUSPECT, BOT}
        assert "flagged requests (any tier)" in [m.message for m in app._notifications][-1]

        await pilot.press("e")
        dialog = app.screen
        dialog.query_one("#what-filter").value = True
        await pilot.pause()
        assert dialog.query_one("#export-tier").disabled  # the filter's lines go out whole
