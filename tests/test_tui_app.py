"""Pilot tests of the live monitor: every key and screen, on real log files written by the test."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from threatlens.tui.app import make_app
from threatlens.tui.screens import (
    AllowlistPrompt,
    BlocklistDialog,
    ConfirmScreen,
    DashboardScreen,
    ExportDialog,
    FilterPrompt,
    HelpScreen,
    IpDetailScreen,
    RequestDetailScreen,
)
from threatlens.tui.widgets import AlertsFeed, HeaderBar, TopCountriesTable, TopIpsTable
from tui_support import (
    ATTACKER,
    FIXED_NOW,
    NORMAL_IPS,
    RuleDetection,
    attack_lines,
    normal_lines,
    run_async,
    screen_text,
    wait_for,
    write_log,
)

SIZE = (140, 40)


def _app(path: Path, tmp_path: Path, **kw: object):
    kw.setdefault("from_start", True)
    return make_app([path], detection=kw.pop("detection", RuleDetection()), geo=None,
                    clock=lambda: FIXED_NOW, export_dir=tmp_path / "exports", **kw)


def _header(app) -> str:
    return str(app.dashboard.query_one(HeaderBar).render())


@contextlib.asynccontextmanager
async def _mixed_app(mixed_log: tuple[Path, list[str]], tmp_path: Path, **kw: object):
    """The monitor on the ``mixed_log`` fixture, running and settled on its 68 lines."""
    app = _app(mixed_log[0], tmp_path, **kw)
    async with app.run_test(size=SIZE) as pilot:
        await _settled(pilot, app, 68)
        yield app, pilot


async def _settled(pilot, app, lines: int) -> None:
    await wait_for(pilot, lambda: app.live.totals.lines >= lines)
    app.refresh_dashboard(force=True)
    await pilot.pause()


@pytest.fixture
def mixed_log(tmp_path: Path) -> tuple[Path, list[str]]:
    lines = normal_lines(40) + attack_lines(8, start=40) + normal_lines(20, start=50)
    return write_log(tmp_path / "access.log", lines), lines


@run_async
async def test_start_at_end_shows_hint_and_counts_only_new_lines(tmp_path: Path) -> None:
    log = write_log(tmp_path / "access.log", normal_lines(30))
    app = _app(log, tmp_path, from_start=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        assert "bytes already in the file are skipped" in _header(app)
        write_log(log, normal_lines(60, start=100), mode="a")
        await _settled(pilot, app, 60)
        assert app.live.totals.lines == 60
        assert "lines 60" in _header(app)


@run_async
async def test_from_start_counts_every_line_across_rotation(tmp_path: Path) -> None:
    log = write_log(tmp_path / "access.log", [*normal_lines(50), "garbage \x00 not a log line"])
    app = _app(log, tmp_path, follower_options={"rotate_grace": 0.2})
    async with app.run_test(size=SIZE) as pilot:
        await _settled(pilot, app, 51)
        os.rename(log, tmp_path / "access.log.1")
        write_log(tmp_path / "access.log.1", normal_lines(5, start=60), mode="a")
        write_log(log, [*normal_lines(20, start=80), "another bad line"])
        await _settled(pilot, app, 77)
        await pilot.pause(0.3)
        live = app.live.totals
        assert (live.lines, live.parsed, live.unparsed) == (77, 75, 2)
        assert "lines 77  parsed 75  unparsed 2" in _header(app)


@run_async
async def test_enter_opens_ip_screen_and_request_detail(tmp_path: Path, mixed_log) -> None:
    async with _mixed_app(mixed_log, tmp_path) as (app, pilot):
        table = app.dashboard.query_one(TopIpsTable)
        assert app.focused is table
        index = table.get_row_index(ATTACKER)
        table.move_cursor(row=index)
        await pilot.press("enter")
        assert isinstance(app.screen, IpDetailScreen)
        assert app.screen.ip == ATTACKER
        text = screen_text(app)
        assert ATTACKER in text and "requests 8" in text and "flagged 8" in text
        assert "sqlmap/1.7" in text and "/.env" in text
        await pilot.press("enter")
        assert isinstance(app.screen, RequestDetailScreen)
        text = screen_text(app)
        assert "raw line" in text and "matched" in text
        await pilot.press("escape")
        assert isinstance(app.screen, IpDetailScreen)
        await pilot.press("q")
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("q")
    assert app.return_code == 0


@run_async
async def test_ip_screen_updates_live(tmp_path: Path, mixed_log) -> None:
    log, _ = mixed_log
    app = _app(log, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _settled(pilot, app, 68)
        app.open_ip(ATTACKER)
        await pilot.pause()
        write_log(log, attack_lines(3, start=200), mode="a")
        await wait_for(pilot, lambda: "requests 11" in screen_text(app), timeout=5)


@run_async
async def test_enter_on_alert_opens_ip_and_country_enter_filters(tmp_path: Path, mixed_log) -> None:
    async with _mixed_app(mixed_log, tmp_path) as (app, pilot):
        feed = app.dashboard.query_one(AlertsFeed)
        assert feed.row_count >= 2
        feed.focus()
        await pilot.press("enter")
        assert isinstance(app.screen, IpDetailScreen) and app.screen.ip == ATTACKER
        await pilot.press("escape")
        countries = app.dashboard.query_one(TopCountriesTable)
        countries.focus()
        await pilot.press("enter")
        assert "filter country:unknown" in _header(app)


@run_async
async def test_tab_moves_between_panels_and_jk_within(tmp_path: Path, mixed_log) -> None:
    async with _mixed_app(mixed_log, tmp_path) as (app, pilot):
        seen = []
        for _ in range(4):
            seen.append(app.focused.id if app.focused else None)
            await pilot.press("tab")
        assert seen == ["top-ips", "countries", "ports", "alerts"]
        table = app.dashboard.query_one(TopIpsTable)
        assert app.focused is table  # wrapped around
        await pilot.press("shift+tab")
        assert app.focused.id == "alerts"
        await pilot.press("tab")
        assert app.focused is table
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1


@run_async
async def test_filter_applies_to_every_panel_and_escape_clears(tmp_path: Path, mixed_log) -> None:
    log, _ = mixed_log
    app = _app(log, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _settled(pilot, app, 68)
        await pilot.press("slash")
        assert isinstance(app.screen, FilterPrompt)
        await pilot.press(*"cat:nosuch", "enter")
        assert isinstance(app.screen, FilterPrompt)
        assert "unknown category" in screen_text(app)
        app.screen.query_one("Input").value = "ip:203.0.113.0/24"
        await pilot.press("enter")
        assert isinstance(app.screen, DashboardScreen)
        table = app.dashboard.query_one(TopIpsTable)
        assert table.row_keys == [ATTACKER]
        assert "filter ip:203.0.113.0/24" in _header(app) and "8 retained requests match" in _header(app)
        write_log(log, normal_lines(5, start=300) + attack_lines(2, start=310), mode="a")
        await _settled(pilot, app, 75)
        assert "10 retained requests match" in _header(app)
        await pilot.press("escape")
        assert "filter ip:" not in _header(app)
        assert table.row_count == len(NORMAL_IPS) + 1


@run_async
async def test_pause_freezes_screen_while_ingestion_continues(tmp_path: Path, mixed_log) -> None:
    log, _ = mixed_log
    app = _app(log, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _settled(pilot, app, 68)
        await pilot.press("p")
        assert "PAUSED" in _header(app) and "lines 68" in _header(app)
        write_log(log, normal_lines(10, start=400), mode="a")
        await wait_for(pilot, lambda: app.live.totals.lines == 78)
        await pilot.pause(0.7)  # at least one refresh tick
        assert "lines 68" in _header(app)
        await pilot.press("p")
        assert "PAUSED" not in _header(app) and "lines 78" in _header(app)
        await pilot.pause(0.3)  # unpausing draws the other panels in the next frames
        assert app.dashboard.shown.lines == 78


@run_async
async def test_pause_drops_the_steps_left_of_a_redraw_under_way(tmp_path: Path, mixed_log) -> None:
    """A snapshot is drawn in steps with frames between: once paused, the steps left never change a panel."""
    log, _ = mixed_log
    app = _app(log, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _settled(pilot, app, 68)
        from threatlens.tui.live import empty_dashboard

        feed = app.dashboard.query_one("#alerts")
        rows = feed.row_count
        assert rows > 0
        steps = app.dashboard.show_steps(app.header_info, empty_dashboard(0.5))  # a redraw that empties the feed
        app._steps_token += 1
        app._run_steps(app._steps_token, steps[:1], 0.0, steps[1:])  # the header and top IPs; the feed next
        app.toggle_pause()  # (p) before the next frame
        await pilot.pause(0.3)
        assert "PAUSED" in _header(app) and feed.row_count == rows, "the feed changed while paused"


@run_async
async def test_threshold_keys_reevaluate_counts(tmp_path: Path, mixed_log) -> None:
    log, _ = mixed_log
    lines = attack_lines(8) + [f'{NORMAL_IPS[0]} - - [14/Mar/2026:06:00:00 +0000] "GET /gone{i} HTTP/1.1" 404 9 "-" "x"'
                               for i in range(5)]
    write_log(log, lines)
    app = _app(log, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _settled(pilot, app, 13)
        assert "threshold 0.50" in _header(app) and "flagged 8 " in _header(app)
        for _ in range(5):
            await pilot.press("T")
        assert "threshold 0.25" in _header(app) and "flagged 13 " in _header(app)
        assert app.pipeline.detection.threshold == 0.25
        await pilot.press("t", "t", "t")
        assert "threshold 0.40" in _header(app) and "flagged 8 " in _header(app)
        await pilot.press(*"t" * 14)  # up to the highest, 0.99, and back down the same steps
        assert "threshold 0.99" in _header(app)
        await pilot.press("T")
        assert "threshold 0.95" in _header(app)  # not 0.94: t and T retrace each other
        await pilot.press(*"T" * 11)
        assert "threshold 0.40" in _header(app) and "flagged 8 " in _header(app)


def test_the_top_ips_show_three_categories_and_say_when_there_are_more() -> None:
    from threatlens.tui.live import _first_categories

    assert _first_categories(["sqli", "xss"]) == "sqli,xss"
    assert _first_categories(["scanner", "sqli", "other", "bad_bot", "dos"]) == "scanner,sqli,other,…"


@run_async
async def test_allowlist_with_undo(tmp_path: Path, mixed_log) -> None:
    log, _ = mixed_log
    app = _app(log, tmp_path, config_path=tmp_path / "config.toml")
    async with app.run_test(size=SIZE) as pilot:
        await _settled(pilot, app, 68)
        table = app.dashboard.query_one(TopIpsTable)
        table.move_cursor(row=table.get_row_index(ATTACKER))
        await pilot.press("a")
        assert isinstance(app.screen, AllowlistPrompt)
        assert app.screen.query_one("Input").value == ATTACKER
        await pilot.press("enter")
        assert app.allow_entries == [ATTACKER]
        assert f'"{ATTACKER}"' in (tmp_path / "config.toml").read_text()
        app.refresh_dashboard(force=True)
        assert "allowlisted" in table.get_row(ATTACKER)[-1].plain
        write_log(log, attack_lines(4, start=500), mode="a")
        await _settled(pilot, app, 72)
        assert app.live.dashboard().flagged == 8  # the new attacks are trusted now
        await pilot.press("u")
        assert app.allow_entries == []
        assert ATTACKER not in (tmp_path / "config.toml").read_text()
        write_log(log, attack_lines(4, start=600), mode="a")
        await _settled(pilot, app, 76)
        assert app.live.dashboard().flagged == 12


@run_async
async def test_export_flagged_raw_is_byte_exact_and_never_overwrites_silently(tmp_path: Path, mixed_log) -> None:
    log, lines = mixed_log
    app = _app(log, tmp_path)
    target = tmp_path / "flagged.log"
    async with app.run_test(size=SIZE) as pilot:
        await _settled(pilot, app, 68)
        app.dashboard.query_one(TopCountriesTable).focus()  # no IP selected: default is flagged requests
        await pilot.press("e")
        assert isinstance(app.screen, ExportDialog)
        app.screen.query_one("#export-path").value = str(target)
        await pilot.click("#export-ok")
        await wait_for(pilot, target.exists)
        expected = "".join(f"{x}\n" for x in lines if x.startswith(ATTACKER)).encode()
        assert target.read_bytes() == expected
        await pilot.press("e")
        app.screen.query_one("#export-path").value = str(target)
        await pilot.click("#export-ok")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert target.read_bytes() == expected


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@run_async
async def test_export_ip_from_ip_screen(tmp_path: Path, mixed_log, fmt: str) -> None:
    async with _mixed_app(mixed_log, tmp_path) as (app, pilot):
        app.open_ip(ATTACKER)
        await pilot.pause()
        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        dialog.query_one(f"#fmt-{fmt}").value = True
        await pilot.pause()
        path = Path(dialog.query_one("#export-path").value)
        assert path.parent == tmp_path / "exports" and path.name.startswith(f"threatlens-ip-{ATTACKER}-")
        assert path.suffix == f".{fmt}"
        path.parent.mkdir()
        await pilot.click("#export-ok")
        await wait_for(pilot, path.exists)
        text = path.read_text()
        assert text.count(ATTACKER) >= 8 and "0.95" in text
        assert isinstance(app.screen, IpDetailScreen)


@run_async
async def test_blocklist_from_dashboard_and_ip_screen(tmp_path: Path, mixed_log) -> None:
    log, _ = mixed_log
    app = _app(log, tmp_path)
    target = tmp_path / "block.nft"
    async with app.run_test(size=SIZE) as pilot:
        await _settled(pilot, app, 68)
        app.open_ip(NORMAL_IPS[1])
        await pilot.pause()
        await pilot.press("b")
        toast = [n.message for n in app._notifications][-1]
        assert f"{NORMAL_IPS[1]} added in this session's block list (1 IP added by hand)" in toast
        assert "No file written yet" in toast and str(tmp_path / "exports") in toast
        await pilot.press("escape")
        assert app.blocked == {NORMAL_IPS[1]}
        await pilot.press("b")
        dialog = app.screen
        assert isinstance(dialog, BlocklistDialog)
        dialog.query_one("#bl-nftables").value = True
        await pilot.pause()
        dialog.query_one("#blocklist-path").value = str(target)
        await pilot.click("#blocklist-ok")
        await wait_for(pilot, target.exists)
        text = target.read_text()
        assert ATTACKER in text and NORMAL_IPS[1] in text and NORMAL_IPS[0] not in text
        assert "add element inet filter" in text


@run_async
async def test_help_lists_every_key(tmp_path: Path, mixed_log) -> None:
    log, _ = mixed_log
    app = _app(log, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for key in ("Tab / Shift+Tab", "pause the screen", "t / T", "export", "block list", "allowlist"):
            assert key in text
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)
        footer = screen_text(app).splitlines()[-1]
        assert "Filter" in footer and "Export" in footer and "Help" in footer


@run_async
async def test_without_detection_shows_model_none(tmp_path: Path, mixed_log) -> None:
    async with _mixed_app(mixed_log, tmp_path, detection=None) as (app, _pilot):
        assert "model none" in _header(app) and "flagged 0 " in _header(app)
        assert app.dashboard.query_one(TopIpsTable).row_count == len(NORMAL_IPS) + 1


@run_async
async def test_alerts_feed_keeps_showing_the_newest_unless_the_user_moved(tmp_path: Path, mixed_log) -> None:
    log, _ = mixed_log
    app = _app(log, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _settled(pilot, app, 68)
        feed = app.dashboard.query_one(AlertsFeed)

        def top_key() -> str:
            return feed.key_at(0)

        assert feed.cursor_row == 0
        before = top_key()
        write_log(log, attack_lines(3, start=300, ip="198.51.100.99"), mode="a")
        await wait_for(pilot, lambda: app.live.totals.lines >= 71)
        app.refresh_dashboard(force=True)
        await pilot.pause()
        assert top_key() != before and feed.cursor_row == 0  # still on the newest
        feed.focus()
        await pilot.press("j")
        chosen = feed.selected_key()
        write_log(log, attack_lines(3, start=400, ip="198.51.100.98"), mode="a")
        await wait_for(pilot, lambda: app.live.totals.lines >= 74)
        app.refresh_dashboard(force=True)
        await pilot.pause()
        assert feed.selected_key() == chosen and feed.cursor_row > 1  # the row the user picked stays picked
