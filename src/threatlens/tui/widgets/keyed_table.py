"""``KeyedTable``: a ``DataTable`` updated by keyed diff (no clearing, cursor stays on its row)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

__all__ = ["KeyedTable"]

BANDS = ("high", "flagged", "elevated", "low", "none")


class KeyedTable(DataTable[Any]):
    """A table whose rows are identified by a key; ``sync`` applies the difference only.

    Column 0 always holds the row's key text (used to restore the order). Score-band colours come
    from the component classes ``band--high`` etc., styled in ``threatlens.tcss``.
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
    #: A cursor on the first row stays on the first row (a newest-first feed keeps showing the newest);
    #: otherwise the cursor follows its row's key as rows are added above it.
    FOLLOW_TOP: ClassVar[bool] = False

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self._order: list[str] = []

    def on_mount(self) -> None:
        for key, label, width in self.COLUMNS:
            self.add_column(label, key=key, width=width)

    def band_style(self, band: str) -> Style:
        """The rich style of a score band (from the stylesheet)."""
        return self.get_component_rich_style(f"band--{band}", partial=True)

    def tier_style(self, severity: str) -> Style:
        """The rich style of a severity tier (the word is always printed too)."""
        if severity not in ("attack", "suspicious", "nuisance"):
            return Style()
        return self.get_component_rich_style(f"tier--{severity}", partial=True)

    def sync(self, rows: Sequence[tuple[str, Sequence[Text | str | int]]]) -> None:
        """Make the table show ``rows`` (``(key, cells)``) in this order, touching only what changed."""
        keep_key = None
        follow_top = self.FOLLOW_TOP and self.cursor_row == 0
        if self.row_count and 0 <= self.cursor_row < self.row_count and not follow_top:
            keep_key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
        wanted = {key for key, _ in rows}
        existing = {rk.value for rk in self.rows}
        for stale in existing - wanted:
            self.remove_row(stale)
        column_keys = [c for c, _, _ in self.COLUMNS]
        for key, cells in rows:
            if key in existing:
                current = self.get_row(key)
                for col, old, new in zip(column_keys, current, cells, strict=False):
                    if old != new:
                        self.update_cell(key, col, new)
            else:
                self.add_row(*cells, key=key)
        order = [key for key, _ in rows]
        if order != self._order and len(order) > 1:
            rank = {key: i for i, (key, _) in enumerate(rows)}
            first = column_keys[0]
            plain_rank = {_plain(cells[0]): rank[key] for key, cells in rows}
            self.sort(first, key=lambda v: plain_rank.get(_plain(v), len(rank)))
        self._order = order
        if keep_key is not None and keep_key in wanted:
            index = self.get_row_index(keep_key)
            if index != self.cursor_row:
                self.move_cursor(row=index, animate=False, scroll=False)
        elif follow_top and self.row_count:
            self.move_cursor(row=0, animate=False, scroll=False)
            self.scroll_to(y=0, animate=False)

    def selected_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self.row_count or not 0 <= self.cursor_row < self.row_count:
            return None
        return self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value


def _plain(value: object) -> str:
    return value.plain if isinstance(value, Text) else str(value)
