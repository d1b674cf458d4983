"""``TopIpsTable``: the busiest client IPs with flags, top score, severity tier, country, last seen, categories."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.message import Message

from threatlens.stats.results import count_text
from threatlens.tui import format as fmt
from threatlens.tui.live import IpCells, TableRow
from threatlens.tui.widgets.keyed_table import KeyedTable

__all__ = ["TopIpsTable"]


class TopIpsTable(KeyedTable):
    """Top client IPs; Enter posts ``IpSelected``."""

    BORDER_TITLE = "Top IPs by requests (s)"
    COLUMNS = (
        ("ip", "IP", 15),  # a whole IPv4 address
        ("req", "Req", 6),
        ("flag", "Flag", 4),
        ("score", "Max score", 9),
        ("tier", "Tier", 8),
        ("cc", "CC", 4),
        ("seen", "Last seen", 8),
        ("cats", "Alerts, categories", None),
    )
    #: What decides (IP, score in words, tier, what it did) stays; the rest folds away on a narrow panel.
    FOLD = ("seen", "cc", "flag", "req")
    FLEX = {"cats": (16, 1, 22)}  # at 120 columns the country folds before the categories shrink
    WIDEN = {"ip": 39}  # an IPv6 address whole when there is room, else cut in its middle

    @dataclass
    class IpSelected(Message):
        """The user chose an IP (Enter)."""

        ip: str

    def show(self, rows: Sequence[TableRow[IpCells]]) -> None:
        """Display the rows of a dashboard snapshot."""
        self.sync_rows(((row.key, row) for row in rows), self._cells_of)

    def _cells_of(self, row: TableRow[IpCells]) -> tuple[Text | str, ...]:
        c = row.cells
        style = self.band_style(row.band)
        cat_text = fmt.safe(c.categories)
        if c.alerts:
            cat_text = Text.assemble(f"{c.alerts} alert{'s' if c.alerts > 1 else ''} ", cat_text, end="")
        if c.allowlisted:
            cat_text = Text.assemble(("allowlisted ", self.get_component_rich_style("cell--allowlisted")),
                                     cat_text, end="")
        return (
            fmt.safe(c.ip, style=style),
            count_text(c.requests, c.requests_error, fmt.count),
            fmt.count(c.flagged),
            Text(fmt.score_text(c.max_score, row.band), style=style, end=""),
            Text(fmt.tier(c.severity), style=self.tier_style(c.severity), end=""),
            fmt.country(c.country),
            fmt.when(c.last_seen),
            cat_text,
        )

    def on_keyed_table_row_selected(self, event: KeyedTable.RowSelected) -> None:
        event.stop()
        self.post_message(self.IpSelected(event.key))
