"""Pilot tests of the rate charts and the status mix (issue #11 items 6 and 7) at 120x34."""

from __future__ import annotations

from pathlib import Path

from threatlens.tui.app import make_app
from threatlens.tui.widgets import RatePanel, StatusMix
from threatlens.tui.widgets.rate_chart import BARS
from tui_support import (
    ATTACKER,
    BASE,
    FIXED_NOW,
    RuleDetection,
    attack_lines,
    line,
    normal_lines,
    run_async,
    screen_text,
    wait_for,
    write_log,
)

SIZE = (120, 34)


def _app(log: Path, tmp_path: Path):
    return make_app([log], from_start=True, detection=RuleDetection(), geo=None, clock=lambda: FIXED_NOW,
                    export_dir=tmp_path / "exports")


def _panel_lines(app, widget) -> list[str]:
    """The widget's rows as the terminal shows them."""
    region = widget.content_region
    rows = screen_text(app).splitlines()
    return [rows[y][region.x:region.right] for y in range(region.y, region.bottom)]


@run_async
async def test_rate_charts_start_at_zero_and_describe_one_series(tmp_path: Path) -> None:
    empty = write_log(tmp_path / "empty.log", [])
    app = _app(empty, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.refresh_dashboard(force=True)
        await pilot.pause()
        chart = "".join(_panel_lines(app, app.dashboard.query_one("#rate-req")))
        assert not set(chart) & set(BARS)  # nothing counted: no bars (a solid block before)

    log = write_log(tmp_path / "access.log", normal_lines(100) + attack_lines(9, start=100))
    app = _app(log, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= 109)
        app.set_filter(f"ip:{ATTACKER}")
        app.refresh_dashboard(force=True)
        await pilot.pause()
        label = "".join(_panel_lines(app, app.dashboard.query_one("#rate-req-label")))
        # the 9 held matches count in the tables, not as arrivals now (they showed as 9/s however old they were)
        assert label.startswith("matching req") and label.split()[-4:] == ["now", "0", "max", "0"], label
        write_log(log, attack_lines(9, start=200), mode="a")  # 9 matches arrive (the clock stands still)
        await wait_for(pilot, lambda: app.live.totals.lines >= 118)
        app.refresh_dashboard(force=True)
        await pilot.pause()
        label = "".join(_panel_lines(app, app.dashboard.query_one("#rate-req-label")))
        # now and max of the same, filtered series (now showed all 118 lines' rate beside the filtered max)
        assert label.startswith("matching req") and label.split()[-4:] == ["now", "9", "max", "9"], label
        panel = app.dashboard.query_one(RatePanel)
        assert panel.query_one("#rate-req").data[-1] == 9


@run_async
async def test_status_legend_stays_on_its_line_whatever_the_shares(tmp_path: Path) -> None:
    # three equal classes: 1/3 of the bar each, which rounded up to one cell too many and wrapped
    lines = [line(f"192.0.2.{i % 7 + 1}", f"/p{i}", status=(200, 404, 500)[i % 3], when=BASE) for i in range(30)]
    log = write_log(tmp_path / "access.log", lines)
    app = _app(log, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= 30)
        for flt in ("", "status:4xx", "-status:4xx"):
            app.set_filter(flt)
            app.refresh_dashboard(force=True)
            await pilot.pause()
            mix = app.dashboard.query_one(StatusMix)
            bar, legend = _panel_lines(app, mix)
            assert set(bar) == {"█"}, (flt, bar)
            expected = {"": ("2xx", "4xx", "5xx"), "status:4xx": ("4xx",), "-status:4xx": ("2xx", "5xx")}[flt]
            assert all(cls in legend for cls in expected), (flt, legend)


@run_async
async def test_ip_screen_timeline_of_one_busy_minute_is_one_bar(tmp_path: Path) -> None:
    log = write_log(tmp_path / "access.log", normal_lines(20) + attack_lines(9, start=20))  # all in one minute
    app = _app(log, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= 29)
        app.open_ip(ATTACKER)
        await wait_for(pilot, lambda: getattr(app.screen, "ip", None) == ATTACKER)
        await pilot.pause()
        chart = _panel_lines(app, app.screen.query_one("#ip-rate"))
        # one column of bars at the right (it was a solid block as wide as the panel)
        assert all(row.rstrip() and not row.rstrip()[:-1].strip() for row in chart), chart
