"""``RequestDetailScreen``: one request's full raw line, fields and every reason."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from threatlens.tui import format as fmt
from threatlens.tui.live import RequestRow

__all__ = ["RequestDetailScreen"]


class RequestDetailScreen(ModalScreen[None]):
    """Shows a request; Escape or q closes."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close"), Binding("q", "close", "Close")]

    def __init__(self, row: RequestRow) -> None:
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        r, v = self.row.record, self.row.verdict
        text = Text(end="")
        text.append(fmt.safe(f"{r.file} line {r.line} (byte {r.offset})"))
        text.append("\n\n")
        text.append("raw line\n", style="bold")
        text.append(fmt.safe(r.raw.decode("utf-8", "backslashreplace")))
        text.append("\n\n")
        for label, value in (("time", fmt.when(r.time, True)), ("ip", r.ip), ("method", r.method),
                             ("target", r.target), ("protocol", r.protocol), ("status", r.status),
                             ("bytes", r.bytes), ("referer", r.referer), ("user agent", r.user_agent),
                             ("vhost", r.vhost), ("port", r.server_port)):
            text.append(f"{label:>11}  ")
            text.append(fmt.safe(value))
            text.append("\n")
        if v is not None:
            text.append(f"\n{'score':>11}  {fmt.score_text(v.score, self.row.band)}"
                        f"{'  POSSIBLY SUCCEEDED' if v.possibly_succeeded else ''}\n")
            text.append(f"{'categories':>11}  ")
            text.append(fmt.safe(", ".join(v.categories) or "-"))
            if v.reasons:
                text.append("\n     reasons\n")
                for reason in v.reasons:
                    text.append("  - ")
                    text.append(fmt.safe(reason))
                    text.append("\n")
            else:
                text.append(f"\n{'reasons':>11}  none: nothing in this request stood out\n")
        with VerticalScroll(id="request-box"):
            yield Static(text, id="request-text", markup=False)

    def on_mount(self) -> None:
        self.query_one("#request-box").border_title = "Request (Esc closes)"

    def action_close(self) -> None:
        self.dismiss()
