"""``BlocklistDialog``: block-list format and file for the flagged IPs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, RadioSet, Static

from threatlens.export import BLOCKLIST_EXTENSIONS, BLOCKLIST_FORMATS, default_export_name
from threatlens.tui.exporting import BlocklistRequest
from threatlens.tui.screens.file_dialog import FileDialog
from threatlens.tui.widgets.choice_button import ChoiceButton

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


class BlocklistDialog(FileDialog[BlocklistRequest]):
    """Dismisses with a ``BlocklistRequest`` or None."""

    PATH_ID = "blocklist-path"
    OK_ID = "blocklist-ok"

    def __init__(self, export_dir: Path, when: datetime, count: int) -> None:
        super().__init__()
        self.export_dir = export_dir
        self.when = when
        self.count = count
        self._fmt = "plain"

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        with Vertical(classes="dialog", id="blocklist-dialog"):
            yield Static(f"Block list of {self.count} flagged IPs", classes="dialog-title")
            with RadioSet(id="blocklist-format"):
                for key in BLOCKLIST_FORMATS:
                    yield ChoiceButton(LABELS.get(key, key), value=key == self._fmt, name=key, id=f"bl-{key}")
            yield Input(str(self._default_path()), id=self.PATH_ID)
            with Horizontal(classes="buttons"):
                yield Button("Write", id=self.OK_ID, variant="primary")
                yield Button("Cancel", id="blocklist-cancel")

    def _default_path(self) -> Path:
        return self.export_dir / default_export_name("blocklist", BLOCKLIST_EXTENSIONS[self._fmt], self.when)

    def _result(self, path: Path) -> BlocklistRequest:
        return BlocklistRequest(self._fmt, path)

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        """A format was chosen."""
        self._fmt = event.pressed.name or "plain"
        self._choices_changed()
