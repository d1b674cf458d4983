"""``BlocklistDialog``: block-list format and file for the flagged IPs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from threatlens.export import BLOCKLIST_EXTENSIONS, BLOCKLIST_FORMATS, default_export_name
from threatlens.tui.exporting import BlocklistRequest

__all__ = ["BlocklistDialog"]

LABELS = {
    "plain": "plain list (one IP a line)",
    "nftables": "nftables set (nft -f)",
    "ipset": "ipset restore",
    "nginx": "nginx deny lines",
    "apache": "Apache Require not ip",
    "fail2ban": "fail2ban-client banip script",
    "crowdsec": "CrowdSec decisions CSV",
}


class BlocklistDialog(ModalScreen[BlocklistRequest | None]):
    """Dismisses with a ``BlocklistRequest`` or None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, export_dir: Path, when: datetime, count: int) -> None:
        super().__init__()
        self.export_dir = export_dir
        self.when = when
        self.count = count
        self._fmt = "plain"
        self._edited = False

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        with Vertical(classes="dialog", id="blocklist-dialog"):
            yield Static(f"Block list of {self.count} flagged IPs", classes="dialog-title")
            with RadioSet(id="blocklist-format"):
                for key in BLOCKLIST_FORMATS:
                    yield RadioButton(LABELS.get(key, key), value=key == self._fmt, name=key, id=f"bl-{key}")
            yield Input(str(self._default_path()), id="blocklist-path")
            with Horizontal(classes="buttons"):
                yield Button("Write", id="blocklist-ok", variant="primary")
                yield Button("Cancel", id="blocklist-cancel")

    def _default_path(self) -> Path:
        return self.export_dir / default_export_name("blocklist", BLOCKLIST_EXTENSIONS[self._fmt], self.when)

    def on_mount(self) -> None:
        """Finish setting up once mounted."""
        if self.app.is_headless:  # steady frames for snapshot tests
            for field in self.query(Input):
                field.cursor_blink = False
        self.query_one(RadioSet).focus()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        """Handle radio set changed."""
        self._fmt = event.pressed.name or "plain"
        if not self._edited:
            self.query_one(Input).value = str(self._default_path())

    def on_input_changed(self, event: Input.Changed) -> None:
        """Handle input changed."""
        if event.value != str(self._default_path()):
            self._edited = True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Handle input submitted."""
        self._finish()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Handle button pressed."""
        if event.button.id == "blocklist-ok":
            self._finish()
        else:
            self.dismiss(None)

    def _finish(self) -> None:
        text = self.query_one(Input).value.strip()
        if text:
            self.dismiss(BlocklistRequest(self._fmt, Path(text).expanduser()))

    def action_cancel(self) -> None:
        """Key action: cancel."""
        self.dismiss(None)
