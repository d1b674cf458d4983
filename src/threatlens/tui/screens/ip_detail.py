"""``IpDetailScreen``: everything known about one client, from snapshots (no I/O here)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Label, Static

from threatlens.stats.results import count_text
from threatlens.tui import format as fmt
from threatlens.tui.live import IpSnapshot, RequestRow
from threatlens.tui.screens.shown_again import ShownAgain, render_ahead
from threatlens.tui.widgets.keyed_table import KeyedTable
from threatlens.tui.widgets.keys_footer import KeysFooter
from threatlens.tui.widgets.rate_chart import RateChart

if TYPE_CHECKING:
    from threatlens.tui.app import ThreatLensApp

__all__ = ["IpDetailScreen", "IpRequestsTable"]


class IpRequestsTable(KeyedTable):
    """The retained requests of one IP, newest first."""

    BORDER_TITLE = "Requests (newest first; Enter shows the raw line)"
    COLUMNS = (
        ("n", "Line", 7),
        ("time", "Time", 8),
        ("method", "Method", 6),
        ("status", "Status", 6),
        ("score", "Score", 9),
        ("tier", "Tier", 8),
        ("target", "Path?query", None),
        ("bytes", "Bytes", 6),
        ("cats", "Categories", 14),
        ("reasons", "Reasons", None),
    )
    #: Score, tier, what was asked and why stay; the rest folds away on a narrow screen (Enter shows it all).
    FOLD = ("bytes", "cats", "n", "method", "status", "time")
    FLEX = {"target": (20, 1), "reasons": (24, 1)}

    def show(self, snap: IpSnapshot) -> None:
        """Display the snapshot's rows (cells are built for the rows drawn)."""
        self.sync_rows(((row.key, row) for row in snap.rows), self._cells_of)

    def _cells_of(self, row: RequestRow) -> tuple[Text | str, ...]:
        r, v = row.record, row.verdict
        style = self.band_style(row.band)
        return (
            row.key.rsplit(":", 2)[-2] if row.key.count(":") >= 2 else row.key,
            fmt.when(r.time),
            fmt.safe(r.method),
            str(r.status) if r.status is not None else "-",
            Text(fmt.score_text(v.score if v else None, row.band), style=style, end=""),
            Text(fmt.tier(row.severity), style=self.tier_style(row.severity), end=""),
            fmt.safe(r.target),
            fmt.count(r.bytes or 0),
            fmt.safe(",".join(v.categories) if v else ""),
            fmt.safe("; ".join(v.reasons) if v else ""),
        )


class IpDetailScreen(ShownAgain, Screen[None]):
    """Drill-down for one IP; refreshes itself from ``source()`` once a second while open."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("q", "back", "Back", show=False),
        Binding("e", "export", "Export IP"),
        Binding("b", "block", "Block IP"),
        Binding("a", "allowlist", "Allow IP"),
        Binding("n", "nuisance", "Nuisance", show=False),
        Binding("j", "cursor(1)", "Down", show=False),
        Binding("k", "cursor(-1)", "Up", show=False),
    ]

    def __init__(self, ip: str, snapshot: IpSnapshot, source: Callable[[], IpSnapshot] | None = None) -> None:
        super().__init__()
        self.ip = ip
        self.snapshot = snapshot
        self.source = source

    @property
    def tl(self) -> ThreatLensApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        yield Static(id="ip-summary")
        with Horizontal(id="ip-panels"):
            with Vertical(id="ip-activity", classes="panel"):
                yield Label("", id="ip-rate-label")
                yield RateChart([], id="ip-rate")  # from zero: one busy minute is one bar, not a solid block
                yield Static(id="ip-status")
                yield Label("", id="ip-packets-label")
                yield RateChart([], id="ip-packets")
            yield Static(id="ip-agents", classes="panel")
            yield Static(id="ip-firewall", classes="panel")
            yield Static(id="ip-alerts", classes="panel")
        yield IpRequestsTable(id="ip-requests", classes="panel")
        yield KeysFooter()

    def open(self, ip: str, snapshot: IpSnapshot, source: Callable[[], IpSnapshot] | None = None) -> None:
        """Show another IP (the app shows this screen again rather than building a new one)."""
        self.source = source
        if not self.is_mounted:
            self.ip = ip
            self.snapshot = snapshot
            return
        if ip != self.ip or snapshot is not self.snapshot:  # (else drawn ahead while hidden: prepare)
            self.prepare(ip, snapshot)
        self.query_one(IpRequestsTable).focus()

    def prepare(self, ip: str, snapshot: IpSnapshot) -> None:
        """Show ``ip`` from its first request on (hidden, ahead of Enter, the rows are drawn then, not on Enter)."""
        self.ip = ip
        self.show(snapshot)
        table = self.query_one(IpRequestsTable)
        table.move_cursor(row=0)
        table.scroll_to(0, 0, animate=False)
        if not self.is_current:
            self.app.call_later(render_ahead, self)  # behind what waits in the app's queue

    def on_mount(self) -> None:
        self.set_interval(1.0, self.reload)
        try:
            self._first_show()
        except NoMatches:  # mounted while the app starts or stops (made ahead of Enter): its panels come later
            self.call_after_refresh(self._first_show_if_there)

    def _first_show(self) -> None:
        self.query_one("#ip-activity").border_title = "Activity"
        self.query_one("#ip-agents").border_title = "User agents"
        self.query_one("#ip-firewall").border_title = "Firewall"
        self.query_one("#ip-alerts").border_title = "Behaviour alerts"
        self.show(self.snapshot)
        self.query_one(IpRequestsTable).focus()

    def _first_show_if_there(self) -> None:
        with contextlib.suppress(NoMatches):  # (the app has stopped meanwhile: nothing to show)
            self._first_show()

    def show_newer(self, snap: IpSnapshot) -> None:
        """A newer snapshot of the IP shown (it may arrive before the screen's first mount completes)."""
        self.snapshot = snap
        if not self.is_mounted:
            return  # on_mount shows it
        try:
            self.show(snap)
        except NoMatches:  # its panels are still mounting
            self.call_after_refresh(self.show, snap)

    def reload(self) -> None:
        """Take a fresh snapshot (live update while open)."""
        if self.source is not None and self.app.screen is self:
            self.show(self.source())

    def show(self, snap: IpSnapshot) -> None:
        """Redraw from a snapshot (every text has a fixed size in the style sheet: no layout of the screen)."""
        self.snapshot = snap
        head = Text(no_wrap=True, overflow="ellipsis", end="")
        head.append("IP ")
        head.append(fmt.safe(snap.ip, style="bold"))
        head.append(f"  {fmt.country(snap.country, long=True)}")
        if snap.allowlisted:
            head.append("  ALLOWLISTED")
        # an IP that came in after the IP table dropped quieter ones: between the two (as in the top-IPs table)
        requests = count_text(snap.requests, snap.requests_error)
        if snap.requests_error:
            requests += " (estimate)"
        succeeded = f"  succeeded? {snap.possibly_succeeded}" if snap.possibly_succeeded else ""
        head.append(f"\nrequests {requests}  flagged {snap.flagged}{succeeded}  max score "
                    f"{fmt.score_text(snap.max_score, 'none')}  tier {snap.severity or 'none'}  "
                    f"distinct paths {snap.distinct_paths}")
        head.append(f"\nfirst seen {fmt.when(snap.first_seen, True)}  last seen {fmt.when(snap.last_seen, True)}")
        if snap.retained_dropped:
            head.append(f"  ({snap.retained_dropped} older requests not retained)")
        if snap.nuisance_hidden:
            head.append("  nuisance tier hidden (n shows it)")
        self.query_one("#ip-summary", Static).update(head, layout=False)
        per_min = snap.per_minute or [0]
        self.query_one("#ip-rate", RateChart).data = per_min
        self.query_one("#ip-rate-label", Label).update(
            f"requests/min (log time, {len(snap.per_minute)} min)  max {max(per_min)}", layout=False)
        status = Text(" ".join(f"{code}:{n}" for code, n in snap.status) or "no status", end="")
        self.query_one("#ip-status", Static).update(status, layout=False)
        agents = Text(end="")
        n_agents = len(snap.user_agents)
        agents.append(f"{n_agents} distinct{' (SWITCHING)' if n_agents > 2 else ''}\n")
        for ua, n in snap.user_agents[-8:]:
            agents.append(f"{n:>5} ")
            agents.append(fmt.safe(ua))
            agents.append("\n")
        self.query_one("#ip-agents", Static).update(agents, layout=False)
        self._show_firewall(snap)
        alerts = Text(end="")
        for a in snap.alerts[-8:]:
            alerts.append(f"{fmt.when(a.last_time)} {a.kind} {a.severity} x{a.events} score {a.score:.2f}\n")
            for reason in a.reasons[:2]:
                alerts.append("  ")
                alerts.append(fmt.safe(reason))
                alerts.append("\n")
        dropped = snap.alerts_counted - len(snap.alerts) - snap.alerts_hidden
        if dropped > 0:  # the table counts every alert; only the latest ones of the latest IPs to alert are kept
            alerts.append(f"{dropped} {'older ' if snap.alerts else ''}alert{'s' if dropped > 1 else ''} "
                          "counted, no longer held\n")
        if snap.alerts_hidden:
            alerts.append(f"{snap.alerts_hidden} nuisance alert{'s' if snap.alerts_hidden > 1 else ''} hidden "
                          "(n shows them)\n")
        self.query_one("#ip-alerts", Static).update(alerts if alerts.plain else Text("none", end=""), layout=False)
        self.query_one(IpRequestsTable).show(snap)

    def _show_firewall(self, snap: IpSnapshot) -> None:
        """The firewall's timeline of this IP: packets per minute beside the requests, ports, latest packets."""
        fw = snap.firewall
        for widget in ("#ip-packets-label", "#ip-packets", "#ip-firewall"):
            self.query_one(widget).display = fw is not None
        self.set_class(fw is not None, "-firewall")
        if fw is None:
            return
        per_min = fw.per_minute or [0]
        self.query_one("#ip-packets", RateChart).data = per_min
        self.query_one("#ip-packets-label", Label).update(
            f"firewall packets/min (log time, {len(fw.per_minute)} min)  max {max(per_min)}", layout=False)
        text = Text(end="")
        text.append(f"{fw.packets} packets  blocked {fw.blocked}  allowed {fw.allowed}\n")
        text.append(f"{fmt.when(fw.first_seen, True)} - {fmt.when(fw.last_seen)}\n")
        text.append(f"{fw.distinct_ports} ports: ")
        ports = sorted(fw.ports[:12])
        text.append(", ".join(f"{port}{'' if proto == 'tcp' else '/' + proto}" for port, proto, _n in ports))
        text.append(", …\n" if len(fw.ports) > 12 else "\n")
        for rec in fw.recent[:6]:
            flags = f" {rec.tcp_flags or 'NULL'}" if rec.tcp_flags is not None else ""
            text.append(f"{fmt.when(rec.time)} ")
            text.append(fmt.safe(rec.proto or "?"))
            text.append(f" {rec.dport if rec.dport is not None else '-'}{flags} {rec.action}\n")
        self.query_one("#ip-firewall", Static).update(text, layout=False)

    def on_keyed_table_row_selected(self, event: KeyedTable.RowSelected) -> None:
        from threatlens.tui.screens.request_detail import RequestDetailScreen

        event.stop()
        for row in self.snapshot.rows:
            if row.key == event.key:
                self.app.push_screen(RequestDetailScreen(row))
                return

    def action_back(self) -> None:
        self.dismiss()

    def action_export(self) -> None:
        self.tl.ask_export(ip=self.ip, what="ip")

    def action_block(self) -> None:
        self.tl.block_ip(self.ip)

    def action_allowlist(self) -> None:
        self.tl.ask_allowlist(self.ip)

    def action_nuisance(self) -> None:
        self.tl.toggle_nuisance()

    def action_cursor(self, delta: int) -> None:
        table = self.query_one(IpRequestsTable)
        table.move_cursor(row=max(0, table.cursor_row + delta))
