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
    line,
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


@run_async
async def test_the_request_window_says_when_a_request_has_no_reasons(tmp_path: Path) -> None:
    """A request nothing stood out in says so in words (it showed ``reasons`` over a lone ``- -``)."""
    app, count = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= count, timeout=30)
        for ip, said in ((NORMAL_IPS[1], "    reasons  none: nothing in this request stood out"),
                         (ATTACKER, "  - matched ")):
            app.open_ip(ip)
            await wait_for(pilot, lambda ip=ip: isinstance(app.screen, IpDetailScreen)
                           and f"IP {ip}" in screen_text(app))
            table = app.screen.query_one(IpRequestsTable)
            await wait_for(pilot, lambda table=table: table.row_count > 0)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, RequestDetailScreen))
            text = screen_text(app)
            assert said in text and "  - -" not in text
            await pilot.press("escape", "escape")
            await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))


@run_async
async def test_an_estimated_request_count_says_so_on_the_ip_screen(tmp_path: Path) -> None:
    """An IP that came in after the IP table dropped quieter ones shows its requests as a range, said to be an
    estimate (it showed ``requests ≤6``)."""
    late = "198.51.100.200"
    lines = [line(f"10.{i // 250}.{i % 250}.1", "/") for i in range(8000)]  # more IPs than the table keeps
    lines += [line(late, f"/p{i}") for i in range(5)]
    log = write_log(tmp_path / "access.log", lines)
    app = make_app([log], from_start=True, detection=None, geo=None, clock=lambda: FIXED_NOW,
                   export_dir=tmp_path / "exports")
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= len(lines), timeout=60)
        row = app.live.stats.ip_row(late)
        assert row is not None and row.error > 0
        app.open_ip(late)
        await wait_for(pilot, lambda: isinstance(app.screen, IpDetailScreen) and f"IP {late}" in screen_text(app))
        assert f"requests {row.requests - row.error}-{row.requests} (estimate)  flagged" in screen_text(app)
