"""``KeyedTable``: a Line-API table updated by keyed diff whose columns fit the panel.

Only the rows on screen are drawn, and each row's drawn line is kept until its cells, the column
layout, its cursor/hover state or the table's styles change: a redraw where ten feed rows changed
draws about ten rows. No clearing on update (the cursor stays on its row); low-value columns fold
away when the panel is narrow, flexible ones share what is left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

__all__ = ["SIDEWAYS_HINT", "KeyedTable", "middle_cut"]

BANDS = ("high", "flagged", "elevated", "low", "none")
#: Border subtitle of a table wider than its panel (Left/Right and Home/End scroll it).
SIDEWAYS_HINT = "←/→ Home/End: more columns"
#: The smallest width a flexible column (``None`` in ``COLUMNS``) is given unless ``FLEX`` says otherwise.
FLEX_MIN = 12
#: A ``WIDEN`` column narrows only when the longest value on screen is at least this many cells shorter.
WIDEN_SLACK = 4

Cell = Text | str | int
Layout = tuple[tuple[str, int], ...]
S = TypeVar("S")


class KeyedTable(ScrollView, can_focus=True):
    """A table whose rows are identified by a key; ``sync`` applies the difference only.

    ``COLUMNS`` lists ``(key, label, width)``; a width of ``None`` makes the column flexible: flexible
    columns share the width the others leave (at least their ``FLEX`` minimum, ``FLEX_MIN`` by default;
    text longer than a column ends in ``…``). When the panel cannot hold every column, the columns
    named in ``FOLD`` are left out, first named first, until the rest fits (flexible columns at the
    width they want); if it does not at their minimum, the table scrolls sideways and its border says so.
    Score-band colours come from the component classes ``band--high`` etc., the header, cursor and
    hover looks from ``keyed-table--header`` etc., styled in ``threatlens.tcss``.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("ctrl+home", "first_row", "First row", show=False),
        Binding("ctrl+end", "last_row", "Last row", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
        Binding("home", "scroll_home", "First column", show=False),
        Binding("end", "scroll_end", "Last column", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "keyed-table--header",
        "keyed-table--cursor",
        "keyed-table--hover",
        *(f"band--{b}" for b in BANDS),
        "cell--succeeded",
        "cell--allowlisted",
        "tier--attack",
        "tier--suspicious",
        "tier--nuisance",
    }
    # Size only, and a cursor that shows without a stylesheet; threatlens.tcss gives the monitor's look.
    DEFAULT_CSS = """
    KeyedTable {
        height: auto;
        max-height: 100%;
        & > .keyed-table--cursor { text-style: reverse; }
    }
    """
    COLUMNS: ClassVar[tuple[tuple[str, str, int | None], ...]] = ()
    #: Columns left out when the panel is too narrow, the least needed first.
    FOLD: ClassVar[tuple[str, ...]] = ()
    #: Flexible columns: key -> (minimum width, share of the spare width[, the width wanted before folding
    #: stops]): columns fold while the flexible ones would get less than they want, then take what is left.
    FLEX: ClassVar[dict[str, tuple[int, ...]]] = {}
    #: Columns that grow to their longest value on screen: key -> the most cells they take (values longer than the
    #: column are cut in the middle, keeping both ends).
    WIDEN: ClassVar[dict[str, int]] = {}
    #: A cursor on the first row stays on the first row (a newest-first feed keeps showing the newest);
    #: otherwise the cursor follows its row's key as rows are added above it.
    FOLLOW_TOP: ClassVar[bool] = False
    #: Blank cells on each side of every cell.
    cell_padding: ClassVar[int] = 1

    @dataclass
    class RowSelected(Message):
        """The user chose a row (Enter, or a click on the cursor row)."""

        table: KeyedTable
        key: str
        index: int

        @property
        def control(self) -> KeyedTable:
            """The table the row is in."""
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._rows: list[tuple[str, Sequence[Cell]]] = []
        self._where: dict[str, int] = {}  # key -> its row index
        self._layout: Layout = ()
        self._note = ""
        self._sideways = False
        self._wanted: dict[str, int] = {}  # WIDEN column -> the length of its longest value
        self._cursor = 0
        self._hover: int | None = None  # the row under the mouse (shown once the mouse moved)
        self._texts: dict[str, tuple[Sequence[Cell], tuple[Text, ...]]] = {}  # key -> (cells, shown cells)
        self._lines: dict[str, tuple[tuple[Text, ...], tuple[object, ...], Strip, Style]] = {}  # key -> drawn
        self._header: tuple[tuple[object, ...], Strip] | None = None
        self._plan_for: tuple[object, ...] = ()
        self._plan_cache: list[tuple[int, bool, int]] = []
        self._built: dict[str, tuple[Any, Sequence[Cell]]] = {}  # key -> (source, its cells), see sync_rows
        self._lengths: dict[str, tuple[Sequence[Cell], tuple[int, ...]]] = {}  # key -> (cells, WIDEN lengths)
        self._look: tuple[object, ...] = ()  # the resolved styles (empty: to resolve at the next pass)
        self._on_screen: list[Strip | None] = []  # per content line: the (uncropped) line drawn there
        #: Rows drawn since the table was made (each a row whose line was not kept): what tests count.
        self.rows_drawn = 0

    def on_mount(self) -> None:
        self.fit_columns()

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        """The columns fit the new width before the frame that shows it is drawn.

        The screen calls this while laying out, then draws, then sends ``Resize``: fitting only there drew
        one frame (100 ms or more for the whole dashboard) with the old columns cut or padded at the new width.
        """
        changed = super()._size_updated(size, virtual_size, container_size, layout)
        if changed:
            self.fit_columns()
        return changed

    def on_resize(self, _event: events.Resize) -> None:
        self._fit_widen()  # other rows may be on screen now
        self.fit_columns()
        self._scroll_to_cursor()

    # -- columns -------------------------------------------------------------------------------

    def column_layout(self, width: int) -> Layout:
        """The columns shown in ``width`` cells, with their widths (padding excluded)."""
        pad = 2 * self.cell_padding
        cols = list(self.COLUMNS)

        def least(cs: list[tuple[str, str, int | None]], want: bool = False) -> int:
            return sum(pad + (w if w is not None else self._flex(k)[2 if want else 0]) for k, _label, w in cs)

        for key in self.FOLD:  # fold until the flexible columns get the width they want (or nothing is left)
            if least(cols, want=True) <= width:
                break
            if len(cols) > 1:
                cols = [c for c in cols if c[0] != key]
        spare = max(0, width - least(cols))
        grown: dict[str, int] = {}
        for k, _label, w in cols:  # widened columns first: a whole IP before a wider description
            if k in self.WIDEN and w is not None:
                grow = min(spare, max(0, min(self.WIDEN[k], self._wanted.get(k, w)) - w))
                grown[k] = w + grow
                spare -= grow
        flexible = [k for k, _label, w in cols if w is None]
        shares = sum(self._flex(k)[1] for k in flexible) or 1
        extra = {k: spare * self._flex(k)[1] // shares for k in flexible}
        if flexible:  # the rounding remainder goes to the last flexible column
            extra[flexible[-1]] += spare - sum(extra.values())
        return tuple((k, grown.get(k, w) if w is not None else self._flex(k)[0] + extra[k]) for k, _label, w in cols)

    def _flex(self, key: str) -> tuple[int, int, int]:
        spec = self.FLEX.get(key, (FLEX_MIN, 1))
        return (spec[0], spec[1], spec[2] if len(spec) > 2 else spec[0])  # type: ignore[misc]

    @property
    def layout(self) -> Layout:
        """The columns shown, ``(key, width)`` in order (widths without padding)."""
        return self._layout

    def fit_columns(self, force: bool = False) -> None:
        """Choose the columns for the current width (after a resize, or ``force`` after ``COLUMNS`` changed)."""
        if not self.is_mounted:
            return
        width = self.size.width - self.styles.scrollbar_size_vertical  # room kept for the scrollbar
        if width <= 0:
            return
        layout = self.column_layout(width)
        if layout == self._layout and not force:
            return
        self._layout = layout
        self._texts.clear()
        self._lines.clear()
        self._sideways = self._table_width() > width
        self._show_subtitle()
        self._resize_content()
        self.refresh()

    def set_columns(self, columns: tuple[tuple[str, str, int | None], ...]) -> None:
        """Show other columns from now on (the rows go; the next ``sync`` brings rows for these columns)."""
        self.COLUMNS = columns  # type: ignore[misc]
        self._set_rows([])
        self.fit_columns(force=True)

    def set_note(self, note: str) -> None:
        """Text for the border subtitle (the sideways-scroll hint is added to it when the table is too wide)."""
        self._note = note
        self._show_subtitle()

    def _show_subtitle(self) -> None:
        parts = [self._note] if self._note else []
        if self._sideways:
            parts.append(SIDEWAYS_HINT)
        subtitle = "  ".join(parts)
        if subtitle != self.border_subtitle:
            self.border_subtitle = subtitle

    def _table_width(self) -> int:
        return sum(2 * self.cell_padding + w for _k, w in self._layout)

    def _scroll_width(self) -> int:
        """The table's width, and room after its last column when that makes the furthest scroll a column's start.

        ``End`` and ``Right`` then show whole columns at the left edge (``render_line`` blanks any column cut there).
        """
        table = self._table_width()
        view = self.scrollable_content_region.width
        if table <= view or view <= 0:
            return table
        edge = next((e for e in self._column_edges() if e >= table - view), None)
        return table if edge is None else edge + view

    def _resize_content(self) -> None:
        size = Size(self._scroll_width(), len(self._rows) + 1)  # + the header
        if size == self.virtual_size:
            return
        styles = self.styles
        if styles.height is None or styles.height.is_auto or styles.width is None or styles.width.is_auto:
            self.virtual_size = size  # our size follows the rows: the screen is laid out again
            return
        # A panel of fixed size: a new row count moves no other widget, but setting the reactive lays out the
        # whole screen and draws it all again (25-45 ms at 160x48, each snapshot while the feed grows). Only the
        # scrollbars follow (a scrollbar that appears or goes still lays the screen out), then our lines.
        self.set_reactive(ScrollView.virtual_size, size)
        self._scroll_update(size)
        self.refresh()

    # -- rows ----------------------------------------------------------------------------------

    def band_style(self, band: str) -> Style:
        """The rich style of a score band (from the stylesheet)."""
        return self.get_component_rich_style(f"band--{band}", partial=True)

    def tier_style(self, severity: str) -> Style:
        """The rich style of a severity tier (the word is always printed too)."""
        if severity not in ("attack", "suspicious", "nuisance"):
            return Style()
        return self.get_component_rich_style(f"tier--{severity}", partial=True)

    def sync_rows(self, rows: Iterable[tuple[str, S]], cells_of: Callable[[S], Sequence[Cell]]) -> None:
        """``sync`` rows given as ``(key, source)``, building cells only for sources that changed.

        A row's cells are built by ``cells_of(source)`` when its source differs (``!=``) from the one they
        were last built from, or the styles changed since; and only when the row is on screen (drawn or
        measured for a ``WIDEN`` column) or asked for.
        """
        known, self._built = self._built, {}
        out: list[tuple[str, Sequence[Cell]]] = []
        for key, source in rows:
            seen = known.get(key)
            if seen is None or (seen[0] is not source and seen[0] != source):
                seen = (source, _Later(source, cells_of))
            self._built[key] = seen
            out.append((key, seen[1]))
        self.sync(out)

    def notify_style_update(self) -> None:
        """The styles changed (CSS, focus, hover, theme): resolve them again and build the cells again.

        Cells carry band and tier styles from the stylesheet.
        """
        self._built = {}
        self._look = ()
        super().notify_style_update()

    def sync(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        """Make the table show ``rows`` (``(key, cells)``, cells in ``COLUMNS`` order) in this order.

        Rows whose cells look the same as before keep their drawn line; cells of folded columns are kept
        for when the panel widens. The cursor stays on its row's key (or on the first row, see ``FOLLOW_TOP``).
        """
        follow_top = self.FOLLOW_TOP and self._cursor == 0
        keep = None if follow_top else self.selected_key()
        was, top = self._cursor, round(self.scroll_y)
        in_view = top <= was < top + self._body_height()
        self._set_rows(rows)
        if keep is not None and keep in self._where:
            self._cursor = self._where[keep]
            if in_view and self._cursor != was:  # the view moves with the row: it stays where the user saw it
                self.scroll_to(y=max(0, top + self._cursor - was), animate=False)
                self._scroll_to_cursor()
        elif self.FOLLOW_TOP and (follow_top or keep is not None):
            # a newest-first table whose picked row went (a filter, the oldest dropped) goes back to the newest
            self._cursor = 0
            self.scroll_to(y=0, animate=False)
        self._cursor = max(0, min(self._cursor, len(self._rows) - 1))
        self._hover = None if self._hover is None or self._hover >= len(self._rows) else self._hover
        self._fit_widen()
        self._refresh_changed()

    def _fit_widen(self) -> None:
        """Widen ``WIDEN`` columns to the longest value on screen: at once to grow, by ``WIDEN_SLACK`` to shrink.

        The slack keeps a column from changing width at every line while scrolling through values of
        nearly the same length (IPv4 addresses of 11 to 15 characters).
        """
        if not self.WIDEN:
            return
        wanted = {k: v if not 0 <= self._wanted.get(k, -1) - v < WIDEN_SLACK else self._wanted[k]
                  for k, v in self._widen_lengths().items()}
        if wanted != self._wanted:
            self._wanted = wanted
            self.fit_columns()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self._fit_widen()

    def _widen_lengths(self) -> dict[str, int]:
        """The longest value on screen of each ``WIDEN`` column (lengths kept per row while its cells stay the same)."""
        columns = [(k, i) for i, (k, _label, _w) in enumerate(self.COLUMNS) if k in self.WIDEN]
        known, self._lengths = self._lengths, {}
        top = round(self.scroll_y)
        for key, cells in self._rows[top:top + self._body_height()]:
            seen = known.get(key)
            if seen is None or seen[0] is not cells:
                seen = (cells, tuple(_length(cells[i]) if i < len(cells) else 0 for _k, i in columns))
            self._lengths[key] = seen
        lengths = [seen[1] for seen in self._lengths.values()]
        return {k: max((row[j] for row in lengths), default=0) for j, (k, _i) in enumerate(columns)}

    def _set_rows(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        old = self._where
        self._rows = list(rows)
        self._where = {key: i for i, (key, _cells) in enumerate(self._rows)}
        if len(old) > len(self._where) or len(self._texts) > 2 * len(self._where) + 64:
            for key in [k for k in self._texts if k not in self._where]:  # rows gone: their lines go too
                del self._texts[key]
                self._lines.pop(key, None)
        self._resize_content()

    @property
    def row_count(self) -> int:
        """How many rows the table holds (on screen or not)."""
        return len(self._rows)

    @property
    def row_keys(self) -> list[str]:
        """The row keys, top to bottom."""
        return [key for key, _cells in self._rows]

    def key_at(self, row: int) -> str:
        """The key of the row at index ``row``."""
        return self._rows[row][0]

    def get_row_index(self, key: str) -> int:
        """The index of the row with ``key`` (``KeyError`` if there is none)."""
        return self._where[key]

    def get_row(self, key: str) -> list[Text]:
        """The shown cells of the row with ``key``, in the order of ``layout``."""
        return list(self._shown(key, self._rows[self._where[key]][1]))

    def get_row_at(self, row: int) -> list[Text]:
        """The shown cells of the row at index ``row``."""
        return self.get_row(self.key_at(row))

    def get_cell(self, key: str, column: str) -> Text:
        """The shown cell of row ``key`` in ``column`` (``KeyError`` for a folded column)."""
        at = next((i for i, (k, _w) in enumerate(self._layout) if k == column), None)
        if at is None:
            raise KeyError(column)
        return self.get_row(key)[at]

    def get_column(self, column: str) -> list[Text]:
        """The shown cells of ``column``, top to bottom."""
        return [self.get_cell(key, column) for key, _cells in self._rows]

    def selected_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not 0 <= self._cursor < len(self._rows):
            return None
        return self._rows[self._cursor][0]

    def _shown(self, key: str, cells: Sequence[Cell]) -> tuple[Text, ...]:
        """The cells of the shown columns as one-line ``Text`` (the same objects while they look the same)."""
        if isinstance(cells, _Later):
            cells = cells.cells()
        known = self._texts.get(key)
        if known is not None and known[0] is cells:
            return known[1]
        plan = self._plan()
        old = known[0] if known is not None else None
        if old is not None and all(i >= len(cells) or (i < len(old) and _same_value(old[i], cells[i]))
                                   for i, _flexible, _middle in plan):
            self._texts[key] = (cells, known[1])  # type: ignore[index]  # new cells that look the same
            return known[1]  # type: ignore[index]
        shown = tuple(_cell(cells[i] if i < len(cells) else "", flexible, middle) for i, flexible, middle in plan)
        self._texts[key] = (cells, shown)
        return shown

    def _plan(self) -> list[tuple[int, bool, int]]:
        """Per shown column: its index in ``COLUMNS``, whether it is flexible, its width if it is cut in the middle."""
        if self._plan_for != (self._layout, self.COLUMNS):
            index = {k: i for i, (k, _label, _w) in enumerate(self.COLUMNS)}
            flexible = {k for k, _label, w in self.COLUMNS if w is None}
            self._plan_cache = [(index[k], k in flexible, w if k in self.WIDEN else 0) for k, w in self._layout]
            self._plan_for = (self._layout, self.COLUMNS)
        return self._plan_cache

    # -- cursor --------------------------------------------------------------------------------

    @property
    def cursor_row(self) -> int:
        """The index of the row under the cursor."""
        return self._cursor

    def move_cursor(self, *, row: int | None = None, animate: bool = False, scroll: bool = True) -> None:
        """Put the cursor on row ``row`` (kept within the rows) and, with ``scroll``, scroll it into view."""
        del animate  # scrolling is never animated (a key's effect shows at once)
        if row is not None and self._rows:
            row = max(0, min(row, len(self._rows) - 1))
            if row != self._cursor:
                self._cursor = row
                self._refresh_changed()
        if scroll:
            self._scroll_to_cursor()

    def _body_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)  # the header stays on top

    def _scroll_to_cursor(self) -> None:
        top = round(self.scroll_y)
        height = self._body_height()
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False)
        elif self._cursor >= top + height:
            self.scroll_to(y=self._cursor - height + 1, animate=False)

    def action_cursor_up(self) -> None:
        self._hover_off()
        self.move_cursor(row=self._cursor - 1)

    def action_cursor_down(self) -> None:
        self._hover_off()
        self.move_cursor(row=self._cursor + 1)

    def action_page_up(self) -> None:
        self._hover_off()
        height = self._body_height()
        self.scroll_to(y=max(0, round(self.scroll_y) - height), animate=False)
        self.move_cursor(row=self._cursor - height)

    def action_page_down(self) -> None:
        self._hover_off()
        height = self._body_height()
        self.scroll_to(y=round(self.scroll_y) + height, animate=False)
        self.move_cursor(row=self._cursor + height)

    def action_first_row(self) -> None:
        self.move_cursor(row=0)

    def action_last_row(self) -> None:
        self.move_cursor(row=len(self._rows) - 1)

    def action_scroll_home(self) -> None:
        self.scroll_to(x=0, animate=False)

    def action_scroll_end(self) -> None:
        self.scroll_to(x=self.max_scroll_x, animate=False)

    def action_scroll_right(self) -> None:
        """Sideways to the next column: it starts at the panel's left edge (a panel width at most)."""
        if not self.allow_horizontal_scroll:
            raise SkipAction()
        x = round(self.scroll_x)
        width = max(1, self.scrollable_content_region.width)
        to = next((edge for edge in self._column_edges() if edge > x), self.max_scroll_x)
        self.scroll_to(x=min(to, x + width, self.max_scroll_x), animate=False)

    def action_scroll_left(self) -> None:
        """Sideways back to the previous column's start (a panel width at most)."""
        if not self.allow_horizontal_scroll:
            raise SkipAction()
        x = round(self.scroll_x)
        width = max(1, self.scrollable_content_region.width)
        to = max((edge for edge in self._column_edges() if edge < x), default=0)
        self.scroll_to(x=max(to, x - width, 0), animate=False)

    def _column_edges(self) -> list[int]:
        """Where each shown column starts, in cells from the table's left edge."""
        edges, at = [], 0
        for _key, width in self._layout:
            edges.append(at)
            at += 2 * self.cell_padding + width
        return edges

    def action_select_cursor(self) -> None:
        key = self.selected_key()
        if key is not None:
            self.post_message(self.RowSelected(self, key, self._cursor))

    # -- mouse ---------------------------------------------------------------------------------

    def _row_under(self, event: events.MouseEvent) -> int | None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:  # outside the rows, or the header
            return None
        row = round(self.scroll_y) + offset.y - 1
        return row if row < len(self._rows) else None

    def _on_click(self, event: events.Click) -> None:
        row = self._row_under(event)
        if row is None:
            return
        event.stop()
        if row == self._cursor:  # a click on the chosen row picks it, as Enter does
            self.action_select_cursor()
        else:
            self.move_cursor(row=row)

    def _on_mouse_move(self, event: events.MouseMove) -> None:
        row = self._row_under(event)
        if row != self._hover:
            self._hover = row
            self._refresh_changed()

    def _on_leave(self, _event: events.Leave) -> None:
        self._hover_off()

    def _hover_off(self) -> None:
        if self._hover is not None:
            self._hover = None
            self._refresh_changed()

    # -- drawing -------------------------------------------------------------------------------

    def _refresh_changed(self) -> None:
        """Have the lines redrawn whose row, cells, cursor or hover changed (everything before the first draw)."""
        height = self.scrollable_content_region.height
        if not self._look or len(self._on_screen) != height:
            self.refresh()
            return
        top = round(self.scroll_y)
        first = None
        for y in range(1, height + 1):  # one past the end closes the last run of changed lines
            row = top + y - 1
            line = self._row_line(row)[0] if y < height and row < len(self._rows) else None
            changed = y < height and self._on_screen[y] is not line
            if changed and first is None:
                first = y
            elif not changed and first is not None:
                self.refresh(Region(0, first, self.scrollable_content_region.width, y - first))
                first = None

    def render_lines(self, crop: Region) -> list[Strip]:
        """Resolve the styles when they changed (a drawn line is kept while they stay the same)."""
        height = self.scrollable_content_region.height
        if len(self._on_screen) != height:
            self._on_screen = [None] * height
        if not self._look:  # resolving them walks the ancestors' backgrounds: not on every pass
            self._look = (
                self.rich_style,
                self.get_component_rich_style("keyed-table--header"),
                self.get_component_rich_style("keyed-table--cursor"),
                self.get_component_rich_style("keyed-table--hover"),
            )
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the content: the header, then the rows from the scroll position."""
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base: Style = self._look[0]  # type: ignore[assignment]
        if y == 0:
            line, fill = self._header_line()
        else:
            row = scroll_y + y - 1
            if row >= len(self._rows):
                if y < len(self._on_screen):
                    self._on_screen[y] = None
                return Strip.blank(width, base)
            line, fill = self._row_line(row)
        if y < len(self._on_screen):
            self._on_screen[y] = line
        shown = line.crop_extend(scroll_x, scroll_x + width, fill)  # the row's look goes on to the panel's edge
        cut = self._cut_at(scroll_x)
        if cut:  # a column scrolled partly out at the left: blank the rest of it rather than show a piece
            shown = Strip.join([Strip.blank(min(cut, width), fill), shown.crop(cut, width)])
        return shown

    def _cut_at(self, scroll_x: int) -> int:
        """How many cells of a column partly scrolled out at the left edge are still in view (0: none)."""
        if not scroll_x:
            return 0
        edge = max(e for e in self._column_edges() if e <= scroll_x)
        at = self._column_edges().index(edge)
        end = edge + 2 * self.cell_padding + self._layout[at][1]
        return 0 if edge == scroll_x else end - scroll_x

    def _header_line(self) -> tuple[Strip, Style]:
        style: Style = self._look[1]  # type: ignore[assignment]
        token = (self._layout, self._look)
        if self._header is not None and self._header[0] == token:
            return self._header[1], style
        labels = {k: label for k, label, _w in self.COLUMNS}
        line = self._draw(tuple(Text(_label(labels[k], w), no_wrap=True, end="") for k, w in self._layout),
                          style, Style())
        self._header = (token, line)
        return line, style

    def _row_line(self, row: int) -> tuple[Strip, Style]:
        """Row ``row`` drawn (at the table's width) and the style that fills the panel beyond it."""
        key, cells = self._rows[row]
        shown = self._shown(key, cells)
        cursor, hover = row == self._cursor, row == self._hover
        token = (self._layout, self._look, cursor, hover)
        kept = self._lines.get(key)
        if kept is not None and kept[0] is shown and kept[1] == token:
            return kept[2], kept[3]
        base, _header, cursor_style, hover_style = self._look
        under: Style = base  # type: ignore[assignment]
        over = Style()
        if hover:
            under += hover_style  # type: ignore[operator]
        if cursor:
            under += cursor_style  # type: ignore[operator]
            over = Style.from_color(color=cursor_style.color)  # type: ignore[attr-defined]
        line = self._draw(shown, under, over)
        self._lines[key] = (shown, token, line, under)
        self.rows_drawn += 1
        return line, under

    def _draw(self, cells: tuple[Text, ...], under: Style, over: Style) -> Strip:
        """One line: each cell fitted to its column between the padding.

        ``under`` goes below the cells' own styles, ``over`` above them.
        """
        console = self.app.console
        pad = Segment(" " * self.cell_padding)
        segments: list[Segment] = []
        for text, (_key, width) in zip(cells, self._layout, strict=False):
            fitted = text
            length = text.cell_len
            if length > width:
                fitted = text.copy()
                fitted.truncate(width, overflow="ellipsis" if text.overflow == "ellipsis" else "crop")
                length = fitted.cell_len
            segments.append(pad)
            if fitted.spans:
                segments.extend(fitted.render(console))
            elif fitted.plain:
                segments.append(Segment(fitted.plain, console.get_style(fitted.style) if fitted.style else None))
            segments.append(Segment(" " * (width - length + self.cell_padding)))  # the blank is not the text's
        return Strip(Segment.apply_style(segments, under, over), self._table_width()).simplify()


class _Later(Sequence[Cell]):
    """A row's cells, built from its source the first time they are needed (the row is drawn or asked for)."""

    __slots__ = ("_build", "_cells", "_source")

    def __init__(self, source: Any, build: Callable[[Any], Sequence[Cell]]) -> None:
        self._source = source
        self._build = build
        self._cells: Sequence[Cell] | None = None

    def cells(self) -> Sequence[Cell]:
        """The cells (built once)."""
        if self._cells is None:
            self._cells = self._build(self._source)
        return self._cells

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        return self.cells()[index]

    def __len__(self) -> int:
        return len(self.cells())


def _length(value: Cell) -> int:
    return value.cell_len if isinstance(value, Text) else len(str(value))


def _label(label: str, width: int) -> str:
    """A column header in ``width`` cells: a longer one ends in ``…`` (with no blank before it), as cells do."""
    if cell_len(label) <= width:
        return label
    return set_cell_size(label, max(0, width - 1)).rstrip() + "…"


def middle_cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, cut in its middle with ``…`` (both ends kept) when longer."""
    if len(text) <= width:
        return text
    if width < 2:
        return "…"[:width]
    right = (width - 1) // 2
    return f"{text[:width - 1 - right]}…{text[len(text) - right:]}" if right else f"{text[:width - 1]}…"


def _cell(value: Cell, flexible: bool, middle: int = 0) -> Text:
    """A cell as a ``Text`` (never markup) on one line; text too long for a flexible column ends in ``…``.

    With ``middle`` (a ``WIDEN`` column's width) a longer value is cut in its middle instead.
    """
    if middle and _length(value) > middle:
        plain = value.plain if isinstance(value, Text) else str(value)
        return Text(middle_cut(plain, middle), style=value.style if isinstance(value, Text) else "",
                    no_wrap=True, end="")
    if not isinstance(value, Text):
        return Text(str(value), no_wrap=True, overflow="ellipsis" if flexible else None, end="")
    if value.no_wrap and (value.overflow == "ellipsis" or not flexible):
        return value
    text = value.copy()
    text.no_wrap = True
    if flexible:
        text.overflow = "ellipsis"
    return text


def _same_value(old: Cell, new: Cell) -> bool:
    """Whether a cell value would look the same (``Text ==`` compares the characters and spans, not the style)."""
    if old is new:
        return True
    if isinstance(old, Text) and isinstance(new, Text):
        return (old.plain == new.plain and old.spans == new.spans and old.style == new.style
                and old.overflow == new.overflow and old.no_wrap == new.no_wrap)
    return type(old) is type(new) and old == new
