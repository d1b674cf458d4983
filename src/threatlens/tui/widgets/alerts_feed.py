"""``AlertsFeed``: newest behaviour alerts and flagged requests, ``possibly_succeeded`` marked.

A campaign (many IPs acting as one) is one row, updated as it grows; Enter on it lists its IPs.
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


class AlertsFeed(KeyedTable):
    """The alerts feed; Enter posts ``IpSelected`` for the row's client (``CampaignSelected`` on a campaign)."""

    BORDER_TITLE = "Alerts"
    FOLLOW_TOP = True  # newest first: unless the user moved down, keep showing the newest
    COLUMNS = (
        ("id", "#", 3),
        ("time", "Time", 8),
        ("ip", "IP", 16),
        ("score", "Score", 9),
        ("tier", "Tier", 8),
        ("what", "Request / behaviour", 48),
        ("cc", "CC", 4),
        ("cats", "Categories", None),
    )

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
        self._ids: dict[str, int] = {}

    def show(self, rows: Sequence[AlertRow]) -> None:
        """Display the feed of a dashboard snapshot (newest first)."""
        out = []
        self._ips = {}
        self._campaigns = {}
        for row in rows:
            if row.alert is not None and row.alert.kind == "campaign":
                self._campaigns[row.key] = row.alert
            style = self.band_style(row.band)
            what = fmt.safe(row.what)
            if row.possibly_succeeded:
                what = Text.assemble(("SUCCEEDED? ", self.get_component_rich_style("cell--succeeded")), what,
                                     end="")
            self._ips[row.key] = row.ip
            number = self._ids.setdefault(row.key, len(self._ids) + 1)
            out.append((row.key, (
                str(number),
                fmt.when(row.time),
                fmt.safe(row.ip),
                Text(fmt.score_text(row.score, row.band), style=style, end=""),
                Text(fmt.tier(row.severity), style=self.tier_style(row.severity), end=""),
                what,
                fmt.country(row.country),
                fmt.safe(",".join(row.categories)),
            )))
        if len(self._ids) > 10_000:
            self._ids = {k: v for k, v in self._ids.items() if k in self._ips}
        self.sync(out)

    def ip_of(self, key: str | None) -> str | None:
        """The client IP of a feed row."""
        return self._ips.get(key) if key is not None else None

    def on_data_table_row_selected(self, event: KeyedTable.RowSelected) -> None:
        event.stop()
        campaign = self._campaigns.get(event.row_key.value) if event.row_key.value is not None else None
        if campaign is not None:
            self.post_message(self.CampaignSelected(campaign))
            return
        ip = self.ip_of(event.row_key.value)
        if ip is not None:
            self.post_message(self.IpSelected(ip))
