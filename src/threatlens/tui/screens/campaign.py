"""``CampaignScreen``: one campaign alert (many IPs acting as one) and its member IPs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from threatlens.models.verdict import Alert
from threatlens.tui import format as fmt
from threatlens.tui.live import MemberCells, TableRow
from threatlens.tui.widgets.keyed_table import KeyedTable
from threatlens.tui.widgets.keys_footer import KeysFooter

if TYPE_CHECKING:
    from threatlens.tui.app import ThreatLensApp

__all__ = ["CampaignMembersTable", "CampaignScreen"]


class CampaignMembersTable(KeyedTable):
    """The member IPs of a campaign, in the order they joined."""

    BORDER_TITLE = "Member IPs (Enter opens one)"
    COLUMNS = (
        ("ip", "IP", 20),
        ("req", "Req", 6),
        ("flag", "Flag", 5),
        ("alerts", "Alerts", 6),
        ("cc", "CC", 4),
        ("seen", "Last seen", None),
    )
    WIDEN = {"ip": 39}  # an IPv6 address whole when there is room, else cut in its middle

    def show(self, rows: Sequence[TableRow[MemberCells]]) -> None:
        """Display one row per member (counts are ``-`` for an IP no longer in the live tables)."""
        out = []
        for row in rows:
            c = row.cells
            out.append((row.key, (
                fmt.safe(c.ip, style=self.band_style(row.band)),
                "-" if c.requests is None else fmt.count(c.requests),
                "-" if c.flagged is None else str(c.flagged),
                "-" if c.alerts is None else str(c.alerts),
                fmt.country(c.country),
                fmt.when(c.last_seen),
            )))
        self.sync(out)


class CampaignScreen(Screen[None]):
    """Drill-down of a campaign: what its IPs share, and the IPs."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("q", "back", "Back", show=False),
        Binding("j", "cursor(1)", "Down", show=False),
        Binding("k", "cursor(-1)", "Up", show=False),
    ]

    def __init__(self, alert: Alert, members: Sequence[TableRow[MemberCells]]) -> None:
        super().__init__()
        self.alert = alert
        self.members = list(members)

    @property
    def tl(self) -> ThreatLensApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        yield Static(id="campaign-summary")
        yield CampaignMembersTable(id="campaign-members", classes="panel")
        yield KeysFooter()

    def on_mount(self) -> None:
        """Fill the summary and the member list."""
        a = self.alert
        head = Text(end="")
        head.append("Campaign ", style="bold")
        for i, reason in enumerate(a.reasons):
            head.append("\n" if i else "")
            head.append(fmt.safe(reason))
        severity = a.severity
        head.append(f"\nscore {a.score:.2f}{f'  severity {severity}' if severity else ''}  categories ")
        head.append(fmt.safe(",".join(a.categories)))
        head.append(f"  {a.events} requests  ")
        head.append(fmt.safe(a.file))
        head.append(f" lines {a.first_line}-{a.last_line}")
        self.query_one("#campaign-summary", Static).update(head)
        table = self.query_one(CampaignMembersTable)
        table.border_title = f"{len(self.members)} member IPs (Enter opens one)"
        table.show(self.members)
        table.focus()

    def on_keyed_table_row_selected(self, event: KeyedTable.RowSelected) -> None:
        """Enter on a member: its IP screen."""
        event.stop()
        self.tl.open_ip(event.key)

    def action_back(self) -> None:
        """Key action: back."""
        self.dismiss()

    def action_cursor(self, delta: int) -> None:
        """Key action: cursor."""
        table = self.query_one(CampaignMembersTable)
        table.move_cursor(row=max(0, table.cursor_row + delta))
