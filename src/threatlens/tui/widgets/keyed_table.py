"""``KeyedTable``: a ``DataTable`` updated by keyed diff whose columns fit the panel.

No clearing on update (the cursor stays on its row); low-value columns fold away when the panel is narrow,
flexible ones share what is left.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey

__all__ = ["SIDEWAYS_HINT", "KeyedTable", "middle_cut"]

BANDS = ("high", "flagged", "elevated", "low", "none")
#: Border subtitle of a table wider than its panel (Left/Right and Home/End scroll it).
SIDEWAYS_HINT = "←/→ Home/End: more columns"
#: The smallest width a flexible column (``None`` in ``COLUMNS``) is given unless ``FLEX`` says otherwise.
FLEX_MIN = 12

Cell = Text | str | int


class KeyedTable(DataTable[Any]):
    """A table whose rows are identified by a key; ``sync`` applies the difference only.

    ``COLUMNS`` lists ``(key, label, width)``; a width of ``None`` makes the column flexible: flexible
    columns share the width the others leave (at least their ``FLEX`` minimum, ``FLEX_MIN`` by default;
    text longer than a column ends in ``…``). When the panel cannot hold every column, the columns
    named in ``FOLD`` are left out, first named first, until the rest fits (flexible columns at the
    width they want); if it does not at their minimum, the table scrolls sideways and its border says so.
    Score-band colours come from the component classes ``band--high`` etc., styled in ``threatlens.tcss``.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *DataTable.COMPONENT_CLASSES,
        *(f"band--{b}" for b in BANDS),
        "cell--succeeded",
        "cell--allowlisted",
        "tier--attack",
        "tier--suspicious",
        "tier--nuisance",
    }
    COLUMNS: ClassVar[tuple[tuple[str, str, int | None], ...]] = ()
    #: Columns left out when the panel is too narrow, the least needed first.
    FOLD: ClassVar[tuple[str, ...]] = ()
    #: Flexible columns: key -> (minimum width, share of the spare width[, the width wanted before folding
    #: stops]): columns fold while the flexible ones would get less than they want, then take what is left.
    FLEX: ClassVar[dict[str, tuple[int, ...]]] = {}
    #: Columns that grow to their longest value: key -> the most cells they take (values longer than the
    #: column are cut in the middle, keeping both ends).
    WIDEN: ClassVar[dict[str, int]] = {}
    #: A cursor on the first row stays on the first row (a newest-first feed keeps showing the newest);
    #: otherwise the cursor follows its row's key as rows are added above it.
    FOLLOW_TOP: ClassVar[bool] = False

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self._order: list[str] = []
        self._rows: list[tuple[str, Sequence[Cell]]] = []
        self._layout: tuple[tuple[str, int], ...] = ()
        self._applied: dict[str, Sequence[Cell]] = {}  # key -> the cells object last applied to its row
        self._note = ""
        self._wanted: dict[str, int] = {}  # WIDEN column -> the length of its longest value

    def on_mount(self) -> None:
        self.fit_columns()

    def on_resize(self, _event: events.Resize) -> None:
        self.fit_columns()

    # -- columns -------------------------------------------------------------------------------

    def column_layout(self, width: int) -> tuple[tuple[str, int], ...]:
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
        keep = self.selected_key()
        self._layout = layout
        labels = {k: label for k, label, _w in self.COLUMNS}
        self.clear(columns=True)
        self._order = []
        for key, w in layout:
            self.add_column(labels[key], key=key, width=w)
        self._apply(self._rows, keep)
        used = sum(2 * self.cell_padding + w for _k, w in layout)
        self._sideways = used > width
        self._show_subtitle()

    def set_columns(self, columns: tuple[tuple[str, str, int | None], ...]) -> None:
        """Show other columns from now on (the rows go; the next ``sync`` brings rows for these columns)."""
        self.COLUMNS = columns  # type: ignore[misc]
        self._rows = []
        self.fit_columns(force=True)

    def set_note(self, note: str) -> None:
        """Text for the border subtitle (the sideways-scroll hint is added to it when the table is too wide)."""
        self._note = note
        self._show_subtitle()

    def _show_subtitle(self) -> None:
        parts = [self._note] if self._note else []
        if getattr(self, "_sideways", False):
            parts.append(SIDEWAYS_HINT)
        self.border_subtitle = "  ".join(parts)

    # -- rows ----------------------------------------------------------------------------------

    def band_style(self, band: str) -> Style:
        """The rich style of a score band (from the stylesheet)."""
        return self.get_component_rich_style(f"band--{band}", partial=True)

    def tier_style(self, severity: str) -> Style:
        """The rich style of a severity tier (the word is always printed too)."""
        if severity not in ("attack", "suspicious", "nuisance"):
            return Style()
        return self.get_component_rich_style(f"tier--{severity}", partial=True)

    def sync(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        """Make the table show ``rows`` (``(key, cells)``, cells in ``COLUMNS`` order) in this order.

        Only what changed is touched; cells of folded columns are kept for when the panel widens.
        """
        self._rows = list(rows)
        if self.WIDEN:
            index = {k: i for i, (k, _label, _w) in enumerate(self.COLUMNS)}
            wanted = {k: max((_length(cells[index[k]]) for _key, cells in self._rows if index[k] < len(cells)),
                             default=0) for k in self.WIDEN if k in index}
            if wanted != self._wanted:
                self._wanted = wanted
                layout = self._layout
                self.fit_columns()
                if self._layout != layout:
                    return  # fit_columns laid the rows out again
        if self._layout:
            self._apply(self._rows, None)

    def _apply(self, rows: Sequence[tuple[str, Sequence[Cell]]], keep_key: str | None) -> None:
        follow_top = self.FOLLOW_TOP and self.cursor_row == 0
        if keep_key is None and not follow_top:
            keep_key = self.selected_key()
        index = {k: i for i, (k, _label, _w) in enumerate(self.COLUMNS)}
        shown = [(k, index[k]) for k, _w in self._layout]
        widths = dict(self._layout)
        flexible = {k for k, _label, w in self.COLUMNS if w is None}
        wanted = {key for key, _ in rows}
        existing = {rk.value for rk in self.rows}
        self._remove_rows(existing - wanted)
        applied = self._applied if existing else {}
        self._applied = {}
        for key, cells in rows:
            self._applied[key] = cells
            if key in existing and applied.get(key) is cells:
                continue  # the very cells shown already (a subclass may hand the same object again)
            visible = [_cell(cells[i] if i < len(cells) else "", k in flexible, widths[k] if k in self.WIDEN else 0)
                       for k, i in shown]
            if key in existing:
                for (col, _i), old, new in zip(shown, self.get_row(key), visible, strict=False):
                    if not _same(old, new):
                        self.update_cell(key, col, new)
            else:
                self.add_row(*visible, key=key)
        order = [key for key, _ in rows]
        if order != self._order and len(order) > 1 and shown:
            # Order by the key: each row's first visible cell is its own Text object, found by identity.
            first = shown[0][0]
            rank = {id(self.get_cell(key, first)): i for i, key in enumerate(order)}
            self.sort(first, key=lambda cell: rank.get(id(cell), len(order)))
        self._order = order
        if keep_key is not None and keep_key in wanted:
            row = self.get_row_index(keep_key)
            if row != self.cursor_row:
                self.move_cursor(row=row, animate=False, scroll=False)
        elif (follow_top or (self.FOLLOW_TOP and keep_key is not None)) and self.row_count:
            # a newest-first table whose picked row went (a filter, the oldest dropped) goes back to the newest
            self.move_cursor(row=0, animate=False, scroll=False)
            self.scroll_to(y=0, animate=False)

    def _remove_rows(self, keys: set[str]) -> None:
        """Remove rows, several in one pass.

        ``DataTable.remove_row`` renumbers every row each time, and a full alerts feed drops its
        oldest rows on every refresh: this does what it does (with the table's own private
        bookkeeping) once for all of them, and falls back to it where that bookkeeping differs.
        """
        if len(keys) <= 1 or not hasattr(self, "_row_locations"):
            for key in keys:
                self.remove_row(key)
            return
        locations = self._row_locations
        kept = sorted((index, rk) for rk in locations if rk.value not in keys
                      if (index := locations.get(rk)) is not None)
        gone = [rk for rk in list(self.rows) if rk.value in keys]
        for rk in gone:
            for column_key in self._data.get(rk, {}):
                self._updated_cells.discard(CellKey(rk, column_key))
            del self.rows[rk]
            del self._data[rk]
        self._row_locations = type(locations)({rk: i for i, (_index, rk) in enumerate(kept)})
        self._require_update_dimensions = True
        self._update_count += 1
        self.cursor_coordinate = self.cursor_coordinate  # clamped to the rows left
        self.hover_coordinate = self.hover_coordinate
        self.refresh(layout=True)

    def selected_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self.row_count or not 0 <= self.cursor_row < self.row_count:
            return None
        return self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value


def _length(value: Cell) -> int:
    return value.cell_len if isinstance(value, Text) else len(str(value))


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


def _same(old: object, new: Text) -> bool:
    """Whether a cell would look the same (``Text ==`` compares the characters and spans, not the style)."""
    return isinstance(old, Text) and old.plain == new.plain and old.spans == new.spans and old.style == new.style
