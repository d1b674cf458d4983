"""Pilot tests for what a new user and an adversarial run hit in the monitor (issue #11)."""

from __future__ import annotations

import io
import time
from pathlib import Path

from rich.console import Console
from textual import events
from textual.widgets import Input

from threatlens.tui.app import make_app
from threatlens.tui.screens import DashboardScreen, FilterPrompt
from threatlens.tui.screens.filter_prompt import MAX_FILTER
from tui_support import (
    ATTACKER,
    FIXED_NOW,
    RuleDetection,
    attack_lines,
    normal_lines,
    run_async,
    screen_text,
    wait_for,
    write_log,
)

SIZE = (120, 34)


def _app(path: Path, tmp_path: Path, **kw: object):
    kw.setdefault("from_start", True)
    return make_app([path], detection=kw.pop("detection", RuleDetection()), geo=None,
                    clock=lambda: FIXED_NOW, export_dir=tmp_path / "exports", **kw)


def _log(tmp_path: Path) -> Path:
    return write_log(tmp_path / "access.log", normal_lines(30) + attack_lines(6, start=30))


@run_async
async def test_filter_prompt_refuses_unicode_digits_and_huge_input_without_crashing(tmp_path: Path) -> None:
    app = _app(_log(tmp_path), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= 36)
        await pilot.press("slash")
        field = app.screen.query_one(Input)
        for text, message in (("status:²", "expected a code"), ("port:¹²³", "expected a number"),
                              ("status:٤٠٤", "expected a code"), ("port:" + "9" * 5000, "expected a number"),
                              ("status:" + "4" * 5000, "expected a code")):
            field.value = text
            await pilot.press("enter")
            assert isinstance(app.screen, FilterPrompt), text
            assert message in screen_text(app), text
        field.value = ""
        started = time.monotonic()
        field.post_message(events.Paste("path:/x " * 4000))  # a 32 KB paste
        await pilot.pause()
        await pilot.press("enter")
        assert time.monotonic() - started < 10
        assert len(field.value) <= MAX_FILTER
        assert isinstance(app.screen, DashboardScreen)
        assert app.is_running


@run_async
async def test_file_names_never_reach_the_terminal_as_escapes(tmp_path: Path) -> None:
    from threatlens.tui.screens import RequestDetailScreen

    log = write_log(tmp_path / "x\x1b]0;PWN\x07[b]bold\U000e0041.log", normal_lines(10) + attack_lines(3, start=10))
    app = _app(log, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= 13)
        app.notify(f"note about {log}")
        app.notify("[red]not markup[/red]", title=str(log))
        await pilot.pause()
        toasts = list(app._notifications)
        assert toasts and all("\x1b" not in t.message + t.title and "\x07" not in t.message for t in toasts)
        assert any("x\\x1b]0;PWN\\x07[b]bold\\u{e0041}.log" in t.message for t in toasts)
        assert not any(t.markup for t in toasts)
        app.push_screen(RequestDetailScreen(app.live.ip_snapshot(ATTACKER).rows[0]))
        await pilot.pause()
        shown = screen_text(app)
        assert "\x1b" not in shown and "x\\x1b]0;PWN\\x07[b]bold\\u{e0041}.log line" in shown


def _readme_keys() -> list[tuple[str, str, str]]:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    rows = readme.split("| where | key | what it does |", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    out = []
    for row in rows:
        where, key, what = (cell.strip() for cell in row.strip().strip("|").split(" | "))
        out.append((where, key.strip("`"), what))
    return out


@run_async
async def test_readme_key_table_is_the_help_screen(tmp_path: Path) -> None:
    from threatlens.tui.screens import HelpScreen
    from threatlens.tui.screens.help import KEYS

    assert _readme_keys() == list(KEYS)
    app = _app(_log(tmp_path), tmp_path)
    async with app.run_test(size=(140, 60)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = []
        for part in app.screen.query(".help-screen-name, .help-keys"):  # each as one unwrapped line a row
            console = Console(width=400, file=io.StringIO(), color_system=None)
            with console.capture() as capture:
                console.print(part.content)
            shown += [" ".join(line.split()) for line in capture.get().splitlines()]
        for where, key, what in KEYS:
            assert " ".join(f"{key} {what}".split()) in shown, (key, what)
            assert where in shown
        assert "ThreatLens keys" in screen_text(app)


@run_async
async def test_no_to_overwrite_goes_back_to_the_dialog_and_enter_on_a_choice_confirms(tmp_path: Path) -> None:
    from threatlens.tui.screens import ConfirmScreen, ExportDialog
    from threatlens.tui.widgets import TopCountriesTable

    app = _app(_log(tmp_path), tmp_path)
    target = tmp_path / "flagged.jsonl"
    target.write_text("keep me\n")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= 36)
        app.dashboard.query_one(TopCountriesTable).focus()
        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        dialog.query_one("#fmt-jsonl").value = True
        await pilot.pause()
        dialog.query_one("#export-path", Input).value = str(target)
        dialog.query_one("#export-format").focus()
        await pilot.press("enter")  # on the radio list: confirms (README: Enter confirms)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        again = app.screen
        assert isinstance(again, ExportDialog)  # back to the dialog, same choices and path
        assert again.query_one("#export-path", Input).value == str(target) and again._fmt == "jsonl"
        other = tmp_path / "other.jsonl"
        again.query_one("#export-path", Input).value = str(other)
        await pilot.press("enter")
        await wait_for(pilot, other.exists)
        assert target.read_text() == "keep me\n"
        assert other.read_text().count("\n") == 6


@run_async
async def test_keys_typed_right_after_slash_land_in_the_filter_prompt(tmp_path: Path) -> None:
    """A burst of keys (tmux send-keys -l '/cat:xss') reaches the app before the prompt's input has focus."""
    app = _app(_log(tmp_path), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= 36)
        threshold = app.live.threshold
        for key, char in [("slash", "/"), *((c, c) for c in "cat"), ("colon", ":"), *((c, c) for c in "xss")]:
            app.post_message(events.Key(key, char))  # all queued at once, as a fast paste or terminal would
        await wait_for(pilot, lambda: isinstance(app.screen, FilterPrompt)
                       and app.screen.query_one(Input).value == "cat:xss")
        assert app.live.threshold == threshold  # "t" went to the prompt, not to the threshold key
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        assert app.header_info.filter == "cat:xss"
