"""``RateChart``: a bar chart of counts per second whose scale starts at zero.

Textual's ``Sparkline`` scales from the smallest value to the largest, so a series of zeros or a
single value fills the whole chart. Here the bottom is zero: no data and all zeros draw nothing,
any count above zero shows at least the lowest bar, and the newest second is at the right.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Sparkline

__all__ = ["RateChart", "chart_lines"]

BARS = "▁▂▃▄▅▆▇█"


def _columns(values: Sequence[float], width: int) -> list[float]:
    """One value per column, newest right: one second per column while they fit, else each column's busiest second."""
    n = len(values)
    if n <= width:
        return [0.0] * (width - n) + [float(v) for v in values]
    return [float(max(values[i * n // width:(i + 1) * n // width])) for i in range(width)]


def chart_lines(values: Sequence[float], width: int, height: int) -> list[str]:
    """The chart as ``height`` lines of ``width`` characters, top line first."""
    if width <= 0 or height <= 0:
        return []
    cols = _columns(values, width)
    top = max(cols, default=0.0)
    steps = len(BARS) * height
    filled = [0 if v <= 0 or top <= 0 else max(1, round(steps * v / top)) for v in cols]
    lines = []
    for row in reversed(range(height)):
        low = row * len(BARS)
        lines.append("".join(" " if f <= low else BARS[min(f - low, len(BARS)) - 1] for f in filled))
    return lines


class RateChart(Sparkline):
    """Counts per second as bars from zero (``data``, oldest first); colour from ``sparkline--max-color``."""

    def render(self) -> Text:
        """Draw the bars."""
        style = self.get_component_rich_style("sparkline--max-color", partial=True)
        lines = chart_lines(self.data or [], self.size.width, self.size.height)
        return Text("\n".join(lines), style=style, no_wrap=True, end="")
