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


def test_the_feed_number_column_fits_the_widest_number_not_the_top_row() -> None:
    """An alert raised again moves to the top with its older (shorter) number; #1000 below must still fit."""
    from threatlens.tui.live import AlertRow
    from threatlens.tui.widgets import AlertsFeed

    def row(number: int) -> AlertRow:
        return AlertRow(key=f"k{number}", time=None, ip="203.0.113.9", country=None, score=0.9,
                        categories=("scanner",), what="GET /x", possibly_succeeded=False, band="high",
                        severity="attack", number=number)

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield AlertsFeed(id="feed")

    async def run() -> int:
        app = Host()
        async with app.run_test(size=(120, 20)) as pilot:
            feed = app.query_one(AlertsFeed)
            feed.show([row(999), row(10000), row(998)])
            await pilot.pause()
            return feed.layout[0][1]

    assert asyncio.run(run()) >= 5
