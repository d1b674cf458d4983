"""What the monitor's table widget guarantees (issue #10, "the monitor never stutters"), in a real Textual app.

``KeyedTable`` draws only the rows on screen and keeps a row's drawn line until its cells, the cursor or
the layout change, so a redraw costs the rows that changed, not the whole table. It keeps the cursor on its
row's key, measures text in terminal cells (wide characters take two), scrolls sideways when its columns
do not fit, and reports Enter and a click on the chosen row as ``RowSelected``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.app import App, ComposeResult

from threatlens.tui.widgets.keyed_table import SIDEWAYS_HINT, KeyedTable


class Words(KeyedTable):
    COLUMNS = (("n", "N", 5), ("word", "Word", 8), ("note", "Note", None))
    FLEX = {"note": (6, 1)}


class Feed(Words):
    FOLLOW_TOP = True


class Wide(KeyedTable):
    COLUMNS = tuple((f"c{i}", f"Col{i}", 10) for i in range(12))


def rows(n: int, start: int = 0, prefix: str = "r") -> list[tuple[str, Sequence[Text | str]]]:
    return [(f"{prefix}{i}", (str(i), f"w{i}", f"note {i}")) for i in range(start, start + n)]


class Host(App[None]):
    def __init__(self, table: KeyedTable) -> None:
        super().__init__()
        self.table = table
        self.picked: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.table

    def on_mount(self) -> None:
        self.table.styles.height = "1fr"
        self.table.focus()

    def on_keyed_table_row_selected(self, event: KeyedTable.RowSelected) -> None:
        self.picked.append(event.key)


def screen_lines(app: App[None]) -> list[str]:
    return ["".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips()]


def run(scenario) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(scenario())


def test_only_the_rows_on_screen_are_drawn_and_unchanged_rows_are_not_drawn_again() -> None:
    async def scenario() -> None:
        table = Words()
        app = Host(table)
        async with app.run_test(size=(60, 12)) as pilot:
            table.sync(rows(5000))
            await pilot.pause()
            visible = table.scrollable_content_region.height - 1  # the header takes a line
            assert table.row_count == 5000
            assert 0 < table.rows_drawn <= visible, table.rows_drawn
            assert "w0" in screen_lines(app)[1] and not any("w100" in line for line in screen_lines(app))

            # the same rows again, as new but equal cells objects, one of them changed: one row is drawn
            drawn = table.rows_drawn
            again = rows(5000)
            again[3] = ("r3", ("3", "changed", "note 3"))
            table.sync(again)
            await pilot.pause()
            assert table.rows_drawn == drawn + 1
            assert "changed" in screen_lines(app)[4]

            # a change far below the screen draws nothing until it is scrolled to
            drawn = table.rows_drawn
            again[4000] = ("r4000", ("4000", "far", "away"))
            table.sync(again)
            await pilot.pause()
            assert table.rows_drawn == drawn

            # the cursor moving one row redraws the row it left and the row it reached
            drawn = table.rows_drawn
            await pilot.press("down")
            assert table.rows_drawn == drawn + 2 and table.cursor_row == 1

    run(scenario)


def test_the_cursor_stays_on_its_row_as_rows_arrive_above_it() -> None:
    async def scenario() -> None:
        table = Words()
        app = Host(table)
        async with app.run_test(size=(60, 12)) as pilot:
            table.sync(rows(20, start=10))
            await pilot.pause()
            await pilot.press("down", "down")
            assert table.selected_key() == "r12"
            table.sync(rows(5, start=0) + rows(20, start=10))  # five rows above it
            await pilot.pause()
            assert table.selected_key() == "r12" and table.cursor_row == 7
            table.sync([row for row in rows(20, start=10) if row[0] != "r12"])  # its row went: the cursor stays put
            assert table.cursor_row == 7 and table.row_count == 19

    run(scenario)


def test_a_newest_first_feed_keeps_the_newest_under_a_cursor_left_on_top() -> None:
    async def scenario() -> None:
        table = Feed()
        app = Host(table)
        async with app.run_test(size=(60, 12)) as pilot:
            table.sync(rows(10, start=10))
            await pilot.pause()
            table.sync(rows(3, start=0, prefix="new") + rows(10, start=10))
            await pilot.pause()
            assert table.cursor_row == 0 and table.selected_key() == "new0"
            await pilot.press("down")
            table.sync(rows(2, start=5, prefix="newer") + rows(3, start=0, prefix="new") + rows(10, start=10))
            assert table.selected_key() == "new1"  # the user moved: their row stays chosen

    run(scenario)


def test_wide_characters_take_two_cells_and_columns_stay_aligned() -> None:
    async def scenario() -> None:
        table = Words()
        app = Host(table)
        async with app.run_test(size=(40, 8)) as pilot:
            long_note = "表示する文字列がとても長い"  # 13 wide characters: 26 cells
            table.sync([("a", ("1", "日本語日本語", long_note)), ("b", ("2", "😀😀", "y")), ("c", ("3", "plain", "z"))])
            await pilot.pause()
            lines = screen_lines(app)[1:4]
            starts = [cell_len(line[:line.index(note)]) for line, note in zip(lines, ("表", "y", "z"), strict=True)]
            assert len(set(starts)) == 1, (starts, lines)  # the notes line up whatever came before them
            assert "日本語日 " in lines[0] and "日本語日本" not in lines[0]  # a fixed column of 8 cells: 4 characters
            note_width = dict(table.layout)["note"]
            shown = lines[0][lines[0].index("表"):].rstrip()
            assert shown.endswith("…") and cell_len(shown) <= note_width < 26  # a flexible column ends in …
            assert all(cell_len(line) == 40 for line in screen_lines(app)[:4])

    run(scenario)


def test_a_table_wider_than_its_panel_scrolls_sideways_with_the_keys() -> None:
    async def scenario() -> None:
        table = Wide()
        app = Host(table)
        async with app.run_test(size=(60, 10)) as pilot:
            table.sync([(f"k{i}", tuple(f"v{i}.{c}" for c in range(12))) for i in range(3)])
            await pilot.pause()
            assert table.border_subtitle == SIDEWAYS_HINT and table.max_scroll_x > 0
            assert "Col11" not in screen_lines(app)[0]
            await pilot.press("end")
            assert table.scroll_x == table.max_scroll_x
            assert "Col11" in screen_lines(app)[0] and "v0.11" in screen_lines(app)[1]
            await pilot.press("home")
            assert table.scroll_x == 0 and "Col0" in screen_lines(app)[0]
            await pilot.press("right")  # to the next column's start (one cell a press before)
            assert table.scroll_x == 12 and screen_lines(app)[0].startswith(" Col1 ")
            await pilot.press("right", "left")
            assert table.scroll_x == 12
            await pilot.press("left")
            assert table.scroll_x == 0

    run(scenario)


class Scored(KeyedTable):
    COLUMNS = (("ip", "IP", 15), ("score", "Max score", 9), ("tier", "Tier", 8))


def test_a_column_is_shown_whole_or_not_at_all_at_the_left_edge() -> None:
    """Right and End stop at a column's start although the table ends sooner (room is left after its last
    column); scrolled elsewhere (a mouse), what is left of a column cut at the left edge is blank."""
    async def scenario() -> None:
        table = Scored()
        app = Host(table)
        async with app.run_test(size=(30, 8)) as pilot:  # 38 cells of table: the furthest scroll was 8, in the IP
            table.sync([(f"k{i}", (f"203.0.113.{100 + i}", "0.95 HIGH", "attack")) for i in range(3)])
            await pilot.pause()
            await pilot.press("right")
            assert table.scroll_x == 17 and screen_lines(app)[0].startswith(" Max score ")
            assert screen_lines(app)[1].startswith(" 0.95 HIGH ") and ".10" not in screen_lines(app)[1]
            await pilot.press("end")
            assert table.scroll_x == 17
            await pilot.press("home")
            table.scroll_to(x=8, animate=False)
            await pilot.pause()
            assert all(line.startswith(" " * 9 + " 0.95 HIGH ") for line in screen_lines(app)[1:4])
            assert screen_lines(app)[0].startswith(" " * 9 + " Max score ")

    run(scenario)


def test_enter_and_a_click_on_the_chosen_row_select_it_and_cells_are_never_markup() -> None:
    async def scenario() -> None:
        table = Words()
        app = Host(table)
        async with app.run_test(size=(60, 12)) as pilot:
            table.sync([*rows(5), ("m", ("9", "[bold]x", Text("[red]y[/red]")))])
            await pilot.pause()
            await pilot.press("enter")
            assert app.picked == ["r0"]
            await pilot.click(Words, offset=(3, 3))  # the header, then rows 0, 1, 2: moves the cursor there
            await pilot.pause()
            assert table.cursor_row == 2 and app.picked == ["r0"]
            await pilot.click(Words, offset=(3, 3))  # a click on the chosen row picks it
            await pilot.pause()
            assert app.picked == ["r0", "r2"]
            last = screen_lines(app)[6]
            assert "[bold]x" in last and "[red]y[/red]" in last

    run(scenario)


def test_a_chosen_row_stays_on_screen_while_rows_arrive_above_it() -> None:
    """The walk of 27 Nov: in a flooding feed the row the user moved to slid off the panel within a second."""

    async def scenario() -> None:
        for table in (Words(), Feed()):
            app = Host(table)
            async with app.run_test(size=(60, 12)) as pilot:
                table.sync(rows(20, start=100))
                await pilot.pause()
                await pilot.press("down", "down")
                assert table.selected_key() == "r102"
                for batch in range(5):  # 15 rows arrive above it, more than a screenful
                    table.sync(rows(3 * (batch + 1), start=0, prefix="new") + rows(20, start=100))
                    await pilot.pause()
                assert table.selected_key() == "r102"
                shown = screen_lines(app)
                assert any("w102" in line for line in shown), shown

    run(scenario)


class Short(Words):
    """A Countries-like panel: four rows on screen."""

    DEFAULT_CSS = "Short { height: 5; }"


def test_a_chosen_row_sorted_below_a_short_panel_is_scrolled_into_view() -> None:
    """Countries after a filter: the cursor's row went below the four rows shown; the view follows it."""

    async def scenario() -> None:
        table = Short()
        app = Host(table)
        async with app.run_test(size=(60, 12)) as pilot:
            table.styles.height = 5  # the header and four rows
            table.sync(rows(10))
            await pilot.pause()
            await pilot.press("down", "down")
            assert table.selected_key() == "r2"
            table.sync(list(reversed(rows(10))))  # re-sorted: r2 is now the 8th row
            await pilot.pause()
            assert table.selected_key() == "r2" and table.cursor_row == 7
            shown = screen_lines(app)
            assert any(" w2 " in line for line in shown), shown
            # and the row keeps its place on the panel (third row), as before the re-sort
            assert " w2 " in shown[3], shown

    run(scenario)


class Addresses(KeyedTable):
    COLUMNS = (("ip", "Address", 15), ("req", "Request", None))
    WIDEN = {"ip": 39}


def test_a_widened_column_fits_the_longest_value_on_screen_and_headers_end_in_an_ellipsis() -> None:
    """An IPv6 address far down the table does not widen the column while short addresses are shown."""

    async def scenario() -> None:
        table = Addresses()
        app = Host(table)
        long_ip = "2001:db8:85a3:1234:5678:8a2e:370:7334"
        async with app.run_test(size=(70, 12)) as pilot:
            data = [(f"r{i}", (f"10.0.0.{i}", f"GET /{i}")) for i in range(200)]
            data.append(("v6", (long_ip, "GET /six")))
            table.sync(data)
            await pilot.pause()
            assert dict(table.layout)["ip"] == 15
            await pilot.press("ctrl+end")
            await pilot.pause()
            assert dict(table.layout)["ip"] == len(long_ip)
            assert any(long_ip in line for line in screen_lines(app))
            await pilot.press("ctrl+home")
            await pilot.pause()
            assert dict(table.layout)["ip"] == 15

            table.set_columns((("ip", "Address of the client", 8), ("req", "Request", None)))
            table.sync(data)
            await pilot.pause()
            assert "Address…" in screen_lines(app)[0]

    run(scenario)


def test_new_rows_in_a_fixed_size_panel_do_not_lay_the_screen_out_and_the_scrollbar_follows() -> None:
    """A feed that grows by a few rows per snapshot changes the table's virtual size each time; in a panel whose
    size the stylesheet fixes that moves no other widget, so the screen is not laid out again (a full layout
    redraws every widget) — unless a scrollbar appears, which is laid out and shown."""
    async def scenario() -> None:
        table = Words()
        app = Host(table)
        async with app.run_test(size=(60, 12)) as pilot:
            table.sync(rows(3))
            await pilot.pause()
            screen = app.screen
            layouts = [0]
            original = screen._refresh_layout

            def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
                layouts[0] += 1
                return original(*args, **kwargs)

            screen._refresh_layout = counting  # type: ignore[method-assign]
            for n in (4, 5, 6):  # still fits the panel: no scrollbar
                table.sync(rows(n))
                await pilot.pause()
            assert layouts[0] == 0
            assert not table.show_vertical_scrollbar
            assert "w5" in "\n".join(screen_lines(app))
            table.sync(rows(40))  # more rows than lines: the scrollbar appears
            await pilot.pause()
            assert table.show_vertical_scrollbar and layouts[0] >= 1
            before = layouts[0]
            table.sync(rows(60))
            await pilot.pause()
            assert layouts[0] == before
            assert table.virtual_size.height == 61
            await pilot.press("ctrl+end")  # the last row, scrolled into view over the new virtual size
            await pilot.pause()
            assert table.scroll_y == table.max_scroll_y > 0
            assert "w59" in "\n".join(screen_lines(app))
    run(scenario)
