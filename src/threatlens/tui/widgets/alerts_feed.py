"""``AlertsFeed``: behaviour alerts and flagged requests, newest first, ``possibly_succeeded`` marked.

The whole feed the monitor holds is in the table (scroll it with the cursor keys), numbered in
arrival order: a number stays with its entry. The border says how many older entries were dropped.
A campaign (many IPs acting as one) is one row, its newest alert; Enter on it lists its IPs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.message import Message

from threatlens.models.verdict import Alert
from threatlens.tui import format as fmt
from threatlens.tui.live import AlertRow
from threatlens.tui.widgets.keyed_table import KeyedTable

__all__ = ["AlertsFeed"]


def _columns(digits: int) -> tuple[tuple[str, str, int | None], ...]:
    """The feed's columns, ``#`` wide enough for numbers of ``digits`` digits."""
    return (
        ("id", "#", max(3, digits)),
        ("time", "Time", 8),
        ("ip", "IP", 15),  # a whole IPv4 address
        ("score", "Score", 9),
        ("tier", "Tier", 8),
        ("what", "Request / behaviour", None),
        ("cc", "CC", 4),
        ("cats", "Why", None),
    )


class AlertsFeed(KeyedTable):
    """The alerts feed; Enter posts ``IpSelected`` for the row's client (``CampaignSelected`` on a campaign)."""

    BORDER_TITLE = "Alerts"
    FOLLOW_TOP = True  # newest first: unless the user moved down, keep showing the newest
    COLUMNS = _columns(3)
    #: #, time, IP, tier (the score in words), what and why stay; the country, then the score, fold away.
    FOLD = ("cc", "score")
    FLEX = {"what": (16, 3), "cats": (8, 1)}
    WIDEN = {"ip": 39}  # an IPv6 address whole when there is room, else cut in its middle

    @dataclass
    class IpSelected(Message):
        """The user chose the IP of an alert (Enter)."""

        ip: str

    @dataclass
    class CampaignSelected(Message):
        """The user chose a campaign row (Enter)."""

        alert: Alert

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._ips: dict[str, str] = {}
        self._campaigns: dict[str, Alert] = {}

    def show(self, rows: Sequence[AlertRow], dropped: int = 0, filtered: bool = False) -> None:
        """Display the feed of a dashboard snapshot (newest first); ``dropped`` older entries are gone.

        A filter searches the entries the feed holds (the newest 1000): ``filtered`` says the dropped ones were not.
        """
        # the widest number, not the top row's: an alert raised again moves up with its older number
        digits = len(str(max(row.number for row in rows))) if rows else 0
        if digits > self.COLUMNS[0][2]:  # type: ignore[operator]
            self.set_columns(_columns(digits))
        self.set_note((f"{dropped:,} older dropped, not searched by the filter" if filtered
                       else f"{dropped:,} older dropped") if dropped else "")
        self._ips = {row.key: row.ip for row in rows}
        self._campaigns = {row.key: row.alert for row in rows if row.alert is not None and row.alert.kind == "campaign"}
        self.sync_rows(((row.key, row) for row in rows), self._cells_of)

    def _cells_of(self, row: AlertRow) -> tuple[Text | str, ...]:
        what = fmt.safe(row.what)
        if row.possibly_succeeded:
            what = Text.assemble(("SUCCEEDED? ", self.get_component_rich_style("cell--succeeded")), what, end="")
        return (
            str(row.number),
            fmt.when(row.time),
            fmt.safe(row.ip),
            Text(fmt.score_text(row.score, row.band), style=self.band_style(row.band), end=""),
            Text(fmt.tier(row.severity), style=self.tier_style(row.severity), end=""),
            what,
            fmt.country(row.country),
            fmt.safe(", ".join(row.categories)),
        )

    def ip_of(self, key: str | None) -> str | None:
        """The client IP of a feed row."""
        return self._ips.get(key) if key is not None else None

    def on_keyed_table_row_selected(self, event: KeyedTable.RowSelected) -> None:
        event.stop()
        campaign = self._campaigns.get(event.key)
        if campaign is not None:
            self.post_message(self.CampaignSelected(campaign))
            return
        ip = self.ip_of(event.key)
        if ip is not None:
            self.post_message(self.IpSelected(ip))
