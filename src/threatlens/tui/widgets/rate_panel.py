"""``RatePanel``: sparklines of requests/s and alerts+flagged/s over the last two minutes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Sparkline

from threatlens.tui import format as fmt
from threatlens.tui.live import DashboardData

__all__ = ["RatePanel"]


class RatePanel(Vertical):
    """Request and alert rates (per second, oldest left)."""

    BORDER_TITLE = "Rates (last 2 min)"

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        yield Label("requests/s", id="rate-req-label")
        yield Sparkline([], id="rate-req")
        yield Label("flagged+alerts/s", id="rate-alert-label")
        yield Sparkline([], id="rate-alert")

    def show(self, data: DashboardData) -> None:
        """Redraw from a snapshot."""
        req = data.requests_series or [0]
        bad = [a + f for a, f in zip(data.alerts_series, data.flagged_series, strict=False)] or [0]
        self.query_one("#rate-req", Sparkline).data = req
        self.query_one("#rate-alert", Sparkline).data = bad
        self.query_one("#rate-req-label", Label).update(
            f"requests/s  now {fmt.count(data.rate_now)}  max {max(req)}", layout=False)
        self.query_one("#rate-alert-label", Label).update(f"flagged+alerts/s  max {max(bad)}", layout=False)
