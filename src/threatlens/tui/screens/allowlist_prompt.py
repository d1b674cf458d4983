"""``AllowlistPrompt``: confirm or edit the allowlist entry (IP, CIDR, ``path:`` or ``agent:`` glob)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from threatlens.errors import AllowlistError
from threatlens.models.allowlist import Allowlist
from threatlens.textsafe import visible

__all__ = ["AllowlistPrompt"]


class AllowlistPrompt(ModalScreen[str | None]):
    """Dismisses with a valid entry, or None on Escape."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, suggestion: str) -> None:
        super().__init__()
        self.suggestion = suggestion

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        with Vertical(classes="dialog", id="allow-dialog"):
            yield Static("Allowlist (trusted from now on; saved in the config file)", classes="dialog-title")
            yield Input(self.suggestion, id="allow-input")
            yield Static("1.2.3.4, 10.0.0.0/8, path:/health*, agent:*UptimeRobot*  Enter saves, Esc cancels",
                         classes="hint", markup=False)
            yield Static("", id="allow-error", classes="error", markup=False)

    def on_mount(self) -> None:
        if self.app.is_headless:  # steady frames for snapshot tests
            for field in self.query(Input):
                field.cursor_blink = False

    def on_input_submitted(self, event: Input.Submitted) -> None:
        entry = event.value.strip()
        try:
            Allowlist().add(entry)
        except AllowlistError as exc:
            self.query_one("#allow-error", Static).update(visible(str(exc)))
            return
        self.dismiss(entry)

    def action_cancel(self) -> None:
        self.dismiss(None)
