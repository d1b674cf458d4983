"""``HeaderBar``: files, format, model, rate, totals, geo source, filter and PAUSED, as plain text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from threatlens.tui import format as fmt
from threatlens.tui.live import DashboardData

__all__ = ["HeaderBar", "HeaderInfo"]

#: The files in the header get at least this many cells, however narrow the terminal.
MIN_FILES_WIDTH = 16


@dataclass
class HeaderInfo:
    """The parts of the header that are not counters."""

    files: tuple[str, ...] = ()
    log_format: str = "auto"
    model: str = "none"
    #: the model named by ``model`` is not in use (refused or failed): drawn as an alert
    model_problem: bool = False
    geo: str = ""
    hint: str = ""
    progress: str = ""
    filter: str = ""
    paused: bool = False
    nuisance_hidden: bool = False


class HeaderBar(Static):
    """Two lines of status; each log-derived string is inserted as literal text."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"header--label", "header--alert", "header--paused", "header--hint"}

    def show(self, info: HeaderInfo, data: DashboardData | None) -> None:
        """Redraw from a snapshot (``data`` may be None before the first refresh)."""
        label = self.get_component_rich_style("header--label", partial=True)
        alert = self.get_component_rich_style("header--alert", partial=True)
        paused = self.get_component_rich_style("header--paused", partial=True)
        hint = self.get_component_rich_style("header--hint", partial=True)
        self._last_shown = (info, data)
        start = Text(no_wrap=True, overflow="ellipsis", end="")
        if info.paused:
            start.append(" PAUSED ", paused)
            start.append(" ")
        start.append("ThreatLens ", label)
        rest = Text(no_wrap=True, overflow="ellipsis", end="")  # after the files: model and threshold first
        rest.append("  model ", label)
        rest.append(fmt.safe(info.model, alert if info.model_problem else ""))
        if data is not None:
            rest.append("  threshold ", label)
            rest.append(f"{data.threshold:.2f}")
        rest.append("  format ", label)
        rest.append(fmt.safe(info.log_format))
        rest.append("  geo ", label)
        rest.append(fmt.safe(info.geo))
        # The files are shortened in the middle so that model and threshold stay in view (the rest may be cut,
        # ending in an ellipsis).
        keep = start.cell_len + rest.plain.index("  format")
        full = self._content_width()
        room = max(MIN_FILES_WIDTH, full - keep - 2) if full else 1 << 16
        line1 = Text.assemble(start, fmt.paths(info.files, room), rest, no_wrap=True, overflow="ellipsis", end="")
        line2 = Text(no_wrap=True, overflow="ellipsis", end="")
        if data is not None:  # the widest form that fits: the flagged, alerts and succeeded? counts always show
            forms = (_counts(data, level, label, alert) for level in range(len(_SHORT) + 1))
            width = full or 1 << 16
            line2 = next((f for f in forms if f.cell_len <= width), None) or _counts(data, len(_SHORT), label, alert)
        line3 = Text(no_wrap=True, overflow="ellipsis", end="")
        if info.progress:  # first on its line: the counts above would push it out at 120 columns
            line3.append(fmt.safe(info.progress, hint))
            line3.append("  ")
        if info.nuisance_hidden:
            line3.append("nuisance tier hidden", label)
            line3.append(" (n shows it)  ")
        # the filter asked for, and whether the panels show it yet (the ingestion process applies it)
        shown = data.filter if data is not None else info.filter
        if info.filter or shown:
            line3.append("filter ", label)
            line3.append(fmt.safe(info.filter) if info.filter else "off")
            if shown != info.filter:
                line3.append("  (applying…)", hint)
            elif data is not None and data.matching is not None:
                line3.append(f"  ({data.matching} retained requests match; Esc clears)")
            line3.append("  ")
        if info.hint:
            line3.append(fmt.safe(info.hint, hint))
        self.set_class(info.paused, "-paused")
        self.set_class(bool(data and data.alerts), "-alerting")
        parts = [line1, line2]
        if line3.plain:
            parts.append(line3)
        text = Text("\n", end="").join(parts)
        text.no_wrap = True
        text.overflow = "ellipsis"
        lines = len(parts)
        self.update(text, layout=lines != getattr(self, "_lines", 0))  # relayout only when the height changes
        self._lines = lines

    def _content_width(self) -> int:
        """Cells for the text: the laid-out width, or before the first layout (the first frame) the screen's."""
        if self.size.width:
            return self.size.width
        return max(0, self.app.size.width - self.styles.gutter.width) if self.is_attached else 0

    def on_resize(self) -> None:
        """Fit the file names to the new width."""
        shown = getattr(self, "_last_shown", None)
        if shown is not None:
            self.show(*shown)


#: Shorter labels, a step at a time, for narrow terminals (80 columns): applied from level 3 on.
_SHORT = (
    {},  # 1: compact numbers (100k)
    {},  # 2: no parsed count (lines = parsed + unparsed)
    {"lines/s": "/s", "unparsed": "unpars.", "packets": "pkts", "succeeded?": "succ?"},
    {"lines/s": "/s", "unparsed": "unp.", "packets": "pkts", "flagged": "flag", "alerts": "alert",
     "succeeded?": "succ?", "lines": "ln"},
)


def _counts(data: DashboardData, level: int, label: Style | str, alert: Style | str) -> Text:
    """The header's counts line at ``level`` (0: everything in full; each level is narrower)."""
    short = _SHORT[level - 1] if level else {}
    num = fmt.count if level >= 1 else str
    gap = " " if level >= len(_SHORT) else "  "

    def name(word: str) -> str:
        return short.get(word, word)

    line = Text(no_wrap=True, overflow="ellipsis", end="")
    line.append(f"{fmt.count(data.rate_now)} {name('lines/s')}".replace(" /s", "/s"), label)
    line.append(f"{gap}{name('lines')} {num(data.lines)}")
    if level < 2:
        line.append(f"{gap}parsed {num(data.parsed)}")
    if level < 2 or data.unparsed:
        line.append(f"{gap}{name('unparsed')} {num(data.unparsed)}")
    if data.packets:
        line.append(f"{gap}{name('packets')} {num(data.packets)}")
    line.append(f"{gap}{name('flagged')} ")
    line.append(str(data.flagged), alert if data.flagged else "")
    line.append(f"{gap}{name('alerts')} ")
    line.append(str(data.alerts), alert if data.alerts else "")
    if data.possibly:
        line.append(f"{gap}{name('succeeded?')} {data.possibly}", alert)
    if data.held:
        line.append(f"{gap}detecting format ({data.held} lines waiting)" if level < 2
                    else f"{gap}detecting ({data.held} waiting)")
    return line
