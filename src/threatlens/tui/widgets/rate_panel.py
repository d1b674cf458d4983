"""``RatePanel``: bar charts of requests/s and flagged+alerts/s over the last two minutes.

"now" (the mean of the last 10 complete seconds) and "max" both read the series the chart draws:
under a filter, the matching requests.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

from threatlens.tui import format as fmt
from threatlens.tui.live import DashboardData
from threatlens.tui.widgets.rate_chart import RateChart

__all__ = ["RatePanel", "recent_rate"]


def recent_rate(series: list[int], seconds: int = 10) -> float:
    """Mean per second over the last ``seconds`` complete seconds of ``series``.

    Its last item is the second under way: alone, it is the rate until a second is complete.
    """
    complete = series[:-1][-seconds:]
    if not complete:
        return float(series[-1]) if series else 0.0
    return sum(complete) / len(complete)


class RatePanel(Vertical):
    """Request and alert rates (per second, oldest left)."""

    BORDER_TITLE = "Rates (last 2 min)"
    _labels: tuple[Text, Text] | None = None  # the labels shown

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        yield Label("requests/s", id="rate-req-label")
        yield RateChart([], id="rate-req")
        yield Label("flagged+alerts/s", id="rate-alert-label")
        yield RateChart([], id="rate-alert")

    def show(self, data: DashboardData) -> None:
        """Redraw from a snapshot."""
        req = data.requests_series
        bad = [a + f for a, f in zip(data.alerts_series, data.flagged_series, strict=False)]
        self.query_one("#rate-req", RateChart).data = req
        self.query_one("#rate-alert", RateChart).data = bad
        width = self.query_one("#rate-req-label", Label).content_size.width
        filtered = data.matching is not None
        names = ("matching requests/s", "matching req/s") if filtered else ("requests/s", "req/s")
        labels = (_label(names, req, width), _label(("flagged+alerts/s", "flag+alert/s"), bad, width))
        if labels != self._labels:  # drawn again only when a number changed
            self._labels = labels
            self.query_one("#rate-req-label", Label).update(labels[0], layout=False)
            self.query_one("#rate-alert-label", Label).update(labels[1], layout=False)


def _label(names: tuple[str, str], series: list[int], width: int) -> Text:
    """``name  now X  max Y``, tightened (then the short name) until it fits ``width``."""
    now, top = fmt.count(recent_rate(series)), fmt.count(max(series, default=0))
    forms = [f"{name}{gap}now {now}{gap}max {top}" for name in names for gap in ("  ", " ")]
    text = next((f for f in forms if len(f) <= width), forms[-1]) if width else forms[0]
    return Text(text, no_wrap=True, overflow="ellipsis", end="")
