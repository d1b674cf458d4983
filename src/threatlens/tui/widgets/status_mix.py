"""``StatusMix``: share of 2xx/3xx/4xx/5xx responses as a bar with numbers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.widgets import Static

__all__ = ["StatusMix"]


class StatusMix(Static):
    """Status classes; colours from ``status--Nxx`` component classes, numbers always shown."""

    BORDER_TITLE = "Status"
    COMPONENT_CLASSES: ClassVar[set[str]] = {f"status--{c}" for c in ("1xx", "2xx", "3xx", "4xx", "5xx", "other")}

    def show(self, status: Sequence[tuple[str, int]]) -> None:
        """Redraw from ``[("2xx", n), ...]``."""
        total = sum(n for _, n in status) or 1
        width = max(10, self.content_size.width or 30)
        bar = Text(no_wrap=True, end="")
        legend = Text(no_wrap=True, overflow="ellipsis", end="")
        for cls, n in status:
            style = self.get_component_rich_style(f"status--{cls}", partial=True)
            cells = round(width * n / total)
            if cells:
                bar.append("█" * cells, style)
            legend.append(f"{cls} ", style)
            legend.append(f"{n} ({100 * n / total:.0f}%)  ")
        self.update(Text("\n", end="").join([bar, legend]) if status else Text("no requests yet", end=""),
                    layout=False)  # fixed height (threatlens.tcss)
