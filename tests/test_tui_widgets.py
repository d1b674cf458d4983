"""Widgets whose meaning must survive a monochrome (NO_COLOR) terminal."""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult
from textual.widgets import RadioSet

from threatlens.tui.widgets import ChoiceButton


class _Choices(App[None]):
    def compose(self) -> ComposeResult:
        with RadioSet():
            yield ChoiceButton("raw", value=True)
            yield ChoiceButton("jsonl")


def test_choice_button_shows_its_state_in_the_glyph() -> None:
    async def scenario() -> None:
        app = _Choices()
        async with app.run_test() as pilot:
            raw, jsonl = app.query(ChoiceButton)
            assert "●" in raw.render().plain and "○" in jsonl.render().plain
            app.query_one(RadioSet).focus()
            await pilot.press("down", "enter")
            assert "○" in raw.render().plain and "●" in jsonl.render().plain

    asyncio.run(scenario())
