"""``StatusMix``: share of 2xx/3xx/4xx/5xx responses as a bar with numbers.

The bar is exactly as wide as the panel (largest remainders, so rounding never adds a cell that
would wrap), and the legend picks the most detailed form that fits on its line: counts and
shares, then shares alone (an ellipsis ends what still does not fit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.widgets import Static

__all__ = ["StatusMix", "bar_cells"]


def bar_cells(counts: Sequence[int], width: int) -> list[int]:
    """Cells per class for a bar of ``width``: proportional, summing to ``width`` (largest remainders)."""
    total = sum(counts)
    if total <= 0 or width <= 0:
        return [0] * len(counts)
    exact = [width * n / total for n in counts]
    cells = [int(x) for x in exact]
    by_remainder = sorted(range(len(counts)), key=lambda i: exact[i] - cells[i], reverse=True)
    for i in by_remainder[: width - sum(cells)]:
        cells[i] += 1
    return cells


def _legends(status: Sequence[tuple[str, int]], total: int) -> list[list[tuple[str, str]]]:
    """The legend's forms, most detailed first: ``(class label, numbers)`` per class."""
    pct = [f"{100 * n / total:.0f}%" for _cls, n in status]
    return [
        [(cls, f" {n} ({p})  ") for (cls, n), p in zip(status, pct, strict=True)],
        [(cls, f" {p}  ") for (cls, _n), p in zip(status, pct, strict=True)],
        [(cls, f" {p} ") for (cls, _n), p in zip(status, pct, strict=True)],
    ]


class StatusMix(Static):
    """Status classes; colours from ``status--Nxx`` component classes, numbers always shown."""

    BORDER_TITLE = "Status"
    COMPONENT_CLASSES: ClassVar[set[str]] = {f"status--{c}" for c in ("1xx", "2xx", "3xx", "4xx", "5xx", "other")}
    _shown: Text | None = None  # the text shown

    def show(self, status: Sequence[tuple[str, int]]) -> None:
        """Redraw from ``[("2xx", n), ...]``."""
        if not status:
            self._update(Text("no requests yet", end=""))
            return
        total = sum(n for _, n in status) or 1
        width = max(10, self.content_size.width or 30)
        styles = [self.get_component_rich_style(f"status--{cls}", partial=True) for cls, _n in status]
        bar = Text(no_wrap=True, end="")
        for style, cells in zip(styles, bar_cells([n for _cls, n in status], width), strict=True):
            bar.append("█" * cells, style)
        forms = _legends(status, total)
        parts = next((f for f in forms if len("".join(a + b for a, b in f).rstrip()) <= width), forms[-1])
        legend = Text(no_wrap=True, overflow="ellipsis", end="")
        for style, (label, numbers) in zip(styles, parts, strict=True):
            legend.append(label, style)
            legend.append(numbers)
        legend.rstrip()
        text = Text("\n", no_wrap=True, overflow="ellipsis", end="").join([bar, legend])
        self._update(text)

    def _update(self, text: Text) -> None:
        """Show ``text`` unless it is what is shown (``==`` compares the characters and styled spans)."""
        if text != self._shown:
            self._shown = text
            self.update(text, layout=False)  # fixed height (threatlens.tcss)
