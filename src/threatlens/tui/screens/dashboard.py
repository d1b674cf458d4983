"""``DashboardScreen``: header, top IPs, countries, ports, alerts feed, rates and status mix."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen

from threatlens.tui.live import DashboardData
from threatlens.tui.widgets.alerts_feed import AlertsFeed
from threatlens.tui.widgets.header_bar import HeaderBar, HeaderInfo
from threatlens.tui.widgets.keys_footer import KeysFooter
from threatlens.tui.widgets.rate_panel import RatePanel
from threatlens.tui.widgets.status_mix import StatusMix
from threatlens.tui.widgets.top_countries_table import TopCountriesTable
from threatlens.tui.widgets.top_ips_table import TopIpsTable
from threatlens.tui.widgets.top_ports_table import TopPortsTable

if TYPE_CHECKING:
    from threatlens.tui.app import ThreatLensApp

__all__ = ["DashboardScreen"]

#: Below this width the side panels stack under the main ones.
NARROW = 120


class DashboardScreen(Screen[None]):
    """The main screen; keys act on the focused panel's selected row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "app.quit", "Quit"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("p", "pause", "Pause"),
        Binding("t", "threshold(1)", "Thr+"),
        Binding("T", "threshold(-1)", "Thr-", key_display="T"),
        Binding("s", "sort", "Sort IPs"),
        Binding("a", "allowlist", "Allow"),
        Binding("u", "undo_allowlist", "Undo allow", show=False),
        Binding("e", "export", "Export"),
        Binding("b", "blocklist", "Blocklist"),
        Binding("n", "nuisance", "Nuisance"),
        Binding("j", "cursor(1)", "Down", show=False),
        Binding("k", "cursor(-1)", "Up", show=False),
    ]

    #: Keys the footer leaves out first when the terminal is narrow (all are in the help screen, ?).
    FOOTER_DROP: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("nuisance",), ("threshold(1)", "threshold(-1)"), ("sort",), ("pause",), ("allowlist",))

    @property
    def tl(self) -> ThreatLensApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        yield HeaderBar(id="header")
        with Horizontal(id="upper"):
            yield TopIpsTable(id="top-ips", classes="panel")
            with Vertical(id="side"):
                yield TopCountriesTable(id="countries", classes="panel")
                yield TopPortsTable(id="ports", classes="panel")
        with Horizontal(id="lower"):
            yield AlertsFeed(id="alerts", classes="panel")
            with Vertical(id="charts"):
                yield RatePanel(id="rates", classes="panel")
                yield StatusMix(id="status", classes="panel")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(TopIpsTable).focus()
        self.tl.show_first_header()  # in the first frame; the counts follow once the screen has its size
        self.call_after_refresh(self.tl.refresh_dashboard, True)

    def on_resize(self) -> None:
        """Switch layout with the terminal width."""
        self.set_class(self.size.width < NARROW, "-narrow")

    def show_steps(self, info: HeaderInfo, data: DashboardData) -> list[Callable[[], None]]:
        """Redrawing every panel from one snapshot, in steps of similar cost: the header and the top IPs first.

        The app draws the screen between steps, so a key pressed meanwhile waits for one step, not for all.
        """
        def first() -> None:
            self.query_one(HeaderBar).show(info, data)
            self._last = data
            self.query_one(TopIpsTable).show(data.top_ips)

        def rest() -> None:
            self.query_one(TopCountriesTable).show(data.top_countries)
            self.query_one(TopPortsTable).show(data.top_ports, data.ports_seen, data.firewall_ports)
            self.query_one(RatePanel).show(data)
            self.query_one(StatusMix).show(data.status)
            self.set_class(bool(data.alerts or data.flagged), "-alerting")
            self.set_class(data.matching is not None, "-filtered")

        return [first, lambda: self.query_one(AlertsFeed).show(data.feed, data.feed_dropped, bool(data.filter)), rest]

    @property
    def shown(self) -> DashboardData | None:
        """The snapshot on screen (``None`` before the first)."""
        return getattr(self, "_last", None)

    def show_top_ips(self, data: DashboardData) -> None:
        """Redraw the top IPs alone from ``data`` (the snapshot on screen in another order: key ``s``)."""
        self._last = data
        self.query_one(TopIpsTable).show(data.top_ips)

    def rows_wanted(self) -> int:
        """How many rows the tables can show (no point sending more to the screen)."""
        heights = [self.query_one(TopIpsTable).size.height, self.query_one(AlertsFeed).size.height]
        return max(10, min(200, max(heights)))

    def show_header(self, info: HeaderInfo) -> None:
        """Redraw the header alone (pause keeps the tables frozen)."""
        self.query_one(HeaderBar).show(info, self.shown)

    # -- selection ----------------------------------------------------------------------------

    def selected_ip(self, fallback: bool = True) -> str | None:
        """The IP of the focused panel's selected row (top IPs or the alerts feed; else the top IPs')."""
        focused = self.focused
        if isinstance(focused, AlertsFeed):
            return focused.ip_of(focused.selected_key())
        if isinstance(focused, TopIpsTable):
            return focused.selected_key()
        return self.query_one(TopIpsTable).selected_key() if fallback else None

    def on_top_ips_table_ip_selected(self, event: TopIpsTable.IpSelected) -> None:
        self.tl.open_ip(event.ip)

    def on_alerts_feed_ip_selected(self, event: AlertsFeed.IpSelected) -> None:
        self.tl.open_ip(event.ip)

    def on_alerts_feed_campaign_selected(self, event: AlertsFeed.CampaignSelected) -> None:
        """Enter on a campaign: list its IPs."""
        self.tl.open_campaign(event.alert)

    def on_top_countries_table_country_selected(self, event: TopCountriesTable.CountrySelected) -> None:
        self.tl.set_filter(f"country:{event.code}")

    # -- actions -------------------------------------------------------------------------------

    def action_filter(self) -> None:
        from threatlens.tui.screens.filter_prompt import FilterPrompt

        def done(text: str | None) -> None:
            if text is not None:
                self.tl.set_filter(text)

        self.app.push_screen(FilterPrompt(self.tl.header_info.filter), done)

    def action_clear_filter(self) -> None:
        if self.tl.header_info.filter:
            self.tl.set_filter("")

    def action_sort(self) -> None:
        self.tl.toggle_sort()

    def action_nuisance(self) -> None:
        self.tl.toggle_nuisance()

    def action_pause(self) -> None:
        self.tl.toggle_pause()

    def action_threshold(self, direction: int) -> None:
        from threatlens.tui.app import THRESHOLD_STEP

        self.tl.change_threshold(direction * THRESHOLD_STEP)

    def action_allowlist(self) -> None:
        ip = self.selected_ip()
        if ip is None:
            self.notify("select an IP or an alert first", severity="warning")
            return
        self.tl.ask_allowlist(ip)

    def action_undo_allowlist(self) -> None:
        self.tl.undo_allowlist()

    def action_export(self) -> None:
        self.tl.ask_export(ip=self.selected_ip())

    def action_blocklist(self) -> None:
        self.tl.ask_blocklist()

    def action_cursor(self, delta: int) -> None:
        focused: Any = self.focused
        if focused is not None and hasattr(focused, "move_cursor") and hasattr(focused, "cursor_row"):
            focused.move_cursor(row=max(0, focused.cursor_row + delta))
