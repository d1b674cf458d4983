"""The IP screen is built once and shown again for the next IP (issue #10: opening it must be quick): each time
it shows that IP's requests only, from the top, and Enter opens that IP's request."""

from __future__ import annotations

from pathlib import Path

from threatlens.tui.app import ThreatLensApp, make_app
from threatlens.tui.screens import DashboardScreen, IpDetailScreen, RequestDetailScreen
from threatlens.tui.screens.ip_detail import IpRequestsTable
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


def _app(tmp_path: Path) -> tuple[ThreatLensApp, int]:
    """The monitor on 40 normal requests and 30 attacks from ``ATTACKER``; the app and the line count."""
    lines = normal_lines(40) + attack_lines(30, start=40)
    log = write_log(tmp_path / "access.log", lines)
    app = make_app([log], from_start=True, detection=RuleDetection(), geo=None, clock=lambda: FIXED_NOW,
                   export_dir=tmp_path / "exports")
    return app, len(lines)


@run_async
async def test_the_ip_screen_shown_again_shows_the_new_ip_only(tmp_path: Path) -> None:
    app, count = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= count, timeout=30)
        app.open_ip(ATTACKER)
        await wait_for(pilot, lambda: isinstance(app.screen, IpDetailScreen))
        first = app.screen
        table = first.query_one(IpRequestsTable)
        await wait_for(pilot, lambda: table.row_count == 30)
        await pilot.press("pagedown")
        assert table.cursor_row > 0
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))

        app.open_ip(NORMAL_IPS[1])
        await wait_for(pilot, lambda: isinstance(app.screen, IpDetailScreen))
        await pilot.pause()
        assert app.screen is first  # the same screen, not a new one
        assert table.row_count == 10 and table.cursor_row == 0 and table.scroll_y == 0 and app.focused is table
        text = screen_text(app)
        assert f"IP {NORMAL_IPS[1]}" in text and f"IP {ATTACKER}" not in text and "union select" not in text
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RequestDetailScreen))
        assert NORMAL_IPS[1] in screen_text(app)


@run_async
async def test_the_ip_screen_shown_again_is_restyled_only_when_the_look_changed(tmp_path: Path) -> None:
    """Shown again with the app's look unchanged, the IP screen keeps its widgets' styles (restyling them all
    was most of an Enter's time); after a theme change its widgets take the new theme's colours."""
    app, count = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= count, timeout=30)
        applied: list[object] = []
        original = app.stylesheet.apply

        def counting(node, *args, **kwargs):  # type: ignore[no-untyped-def]
            applied.append(node)
            return original(node, *args, **kwargs)

        app.stylesheet.apply = counting  # type: ignore[method-assign]
        app.open_ip(ATTACKER)
        await wait_for(pilot, lambda: isinstance(app.screen, IpDetailScreen))
        screen = app.screen
        table = screen.query_one(IpRequestsTable)
        await wait_for(pilot, lambda: table.row_count == 30)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))

        applied.clear()
        app.open_ip(NORMAL_IPS[1])
        await wait_for(pilot, lambda: app.screen is screen and table.row_count == 10)
        await pilot.pause()
        restyled = [n for n in applied if n is table]
        assert not restyled, f"the requests table was styled again {len(restyled)} times"
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))

        before = screen.query_one("#ip-summary").styles.background
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        applied.clear()
        app.open_ip(ATTACKER)
        await wait_for(pilot, lambda: app.screen is screen and table.row_count == 30)
        await pilot.pause()
        assert any(n is table for n in applied)
        assert screen.query_one("#ip-summary").styles.background != before
