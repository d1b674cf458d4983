"""``TopCountriesTable``: requests, flagged requests and distinct IPs per country."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.message import Message

from threatlens.stats.countries import country_name
from threatlens.tui import format as fmt
from threatlens.tui.live import CountryCells, TableRow
from threatlens.tui.widgets.keyed_table import KeyedTable

__all__ = ["TopCountriesTable"]


class TopCountriesTable(KeyedTable):
    """Top countries; Enter posts ``CountrySelected`` (the screen filters to it)."""

    BORDER_TITLE = "Countries"
    COLUMNS = (
        ("cc", "CC", 4),
        ("name", "Country", None),
        ("req", "Req", 6),
        ("flag", "Flag", 4),
        ("ips", "IPs", 4),
    )
    FOLD = ("ips", "name", "flag")
    FLEX = {"name": (8, 1)}

    @dataclass
    class CountrySelected(Message):
        """The user chose a country (Enter)."""

        code: str

    def show(self, rows: Sequence[TableRow[CountryCells]]) -> None:
        """Display the rows of a dashboard snapshot."""
        self.sync([
            (r.key, (fmt.country(r.key), country_name(c.country), fmt.count(c.requests), fmt.count(c.flagged),
                       fmt.count(c.distinct_ips)))
            for r in rows
            for c in (r.cells,)
        ])

    def on_keyed_table_row_selected(self, event: KeyedTable.RowSelected) -> None:
        event.stop()
        self.post_message(self.CountrySelected(event.key))
