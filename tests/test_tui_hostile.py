"""Log content is data: markup and control characters pass through every panel and screen literally."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from threatlens.tui.app import make_app
from threatlens.tui.screens import DashboardScreen, ExportDialog, IpDetailScreen, RequestDetailScreen
from threatlens.tui.widgets import AlertsFeed
from tui_support import FIXED_NOW, RuleDetection, line, normal_lines, run_async, screen_text, wait_for, write_log

EVIL = "6.6.6.6"
MARKUP = ["[bold]", "[link=https://evil.example/]", "[@click=app.quit]", "[/]", "[red on white]"]
CONTROLS = {"\x1b": "\\x1b", "\x07": "\\x07", "\x7f": "\\x7f", "\x9b": "\\x9b", "\u202e": "\\u{202e}"}


def hostile_lines() -> list[str]:
    """Attacks (so they reach the alerts feed) whose path, agent and referer carry markup and controls."""
    out = []
    for i, tag in enumerate(MARKUP):
        ctrl = list(CONTROLS)[i % len(CONTROLS)]
        path = f"/{tag}{ctrl}/../../etc/passwd?n={i}"
        agent = f"evil-agent {tag} {ctrl}[31mred{i}"
        out.append(line(EVIL, path, agent=agent, referer=f"https://ref/{tag}"))
    return out


def _styles_of_evil(app) -> list[object]:
    console = Console(width=app.size.width, height=app.size.height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", legacy_windows=False)
    render = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    bad = []
    for seg in console.render(render):
        hostile = "evil" in seg.text or "passwd" in seg.text
        if hostile and seg.style is not None and (seg.style.link or (seg.style.meta and "@click" in seg.style.meta)):
            bad.append(seg)
    return bad


def _assert_literal(app, *, expect: list[str]) -> None:
    text = screen_text(app)
    for ch in CONTROLS:
        assert ch not in text, f"raw control {ch!r} reached the screen"
    for item in expect:
        assert item in text, f"{item!r} not shown literally"
    assert not _styles_of_evil(app)


@run_async
async def test_hostile_content_rendered_literally_everywhere(tmp_path: Path) -> None:
    log = write_log(tmp_path / "access.log", normal_lines(10) + hostile_lines())
    app = make_app([log], from_start=True, detection=RuleDetection(), geo=None, clock=lambda: FIXED_NOW,
                   export_dir=tmp_path)
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines == 15)
        app.refresh_dashboard(force=True)
        await pilot.pause()
        assert app.live.totals.unparsed == 0
        # dashboard: the alerts feed shows the hostile targets
        _assert_literal(app, expect=["[bold]", "[@click=app.quit]", "\\x1b", EVIL])
        app.dashboard.query_one(AlertsFeed).focus()
        await pilot.press("enter")
        assert isinstance(app.screen, IpDetailScreen)
        _assert_literal(app, expect=["[link=https://evil.example/]", "\\x07", "\\u{202e}", "[/]"])
        for _ in range(5):
            await pilot.press("enter")
            assert isinstance(app.screen, RequestDetailScreen)
            _assert_literal(app, expect=["evil-agent", "https://ref/["])
            await pilot.press("escape", "j")
        await pilot.press("e")
        assert isinstance(app.screen, ExportDialog)
        _assert_literal(app, expect=[EVIL])
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, DashboardScreen)
        # a hostile filter typed by the user is shown literally in the header too
        app.set_filter('path:"[@click=app.quit]"')
        await pilot.pause()
        _assert_literal(app, expect=["filter path:[@click=app.quit]"])
        await pilot.click("HeaderBar")
        await pilot.pause()
        assert app.is_running
