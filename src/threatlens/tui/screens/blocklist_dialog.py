"""``BlocklistDialog``: block-list format, least serious tier and file for the flagged IPs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, RadioSet, Static

from threatlens.export import BLOCKLIST_EXTENSIONS, BLOCKLIST_FORMATS, default_export_name
from threatlens.models.verdict import SEVERITIES
from threatlens.tui.exporting import TIER_CHOICES, TIER_WORDS, BlocklistRequest
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

    def __init__(self, export_dir: Path, when: datetime, counts: dict[str, int], min_severity: str = "attack",
                 fmt: str = "plain", path: Path | None = None) -> None:
        """``counts``: how many IPs the list holds for each least serious tier (``SEVERITIES``)."""
        super().__init__(path)
        self.export_dir = export_dir
        self.when = when
        self.counts = counts
        self._fmt = fmt
        self._tier = min_severity if min_severity in SEVERITIES else "attack"

    def _title(self) -> str:
        return f"Block list of {self.counts.get(self._tier, 0)} IPs flagged or alerted ({TIER_WORDS[self._tier]})"

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        with Vertical(classes="dialog", id="blocklist-dialog"):
            yield Static(self._title(), classes="dialog-title", id="blocklist-title", markup=False)
            with Horizontal(id="blocklist-choices"):
                with RadioSet(id="blocklist-format"):
                    for key in BLOCKLIST_FORMATS:
                        yield ChoiceButton(LABELS.get(key, key), value=key == self._fmt, name=key, id=f"bl-{key}")
                with RadioSet(id="blocklist-tier"):
                    for key in SEVERITIES:
                        label = f"{TIER_CHOICES[key]} ({self.counts.get(key, 0)})"
                        yield ChoiceButton(label, value=key == self._tier, name=key, id=f"tier-{key}")
            yield Input(str(self._start_path()), id=self.PATH_ID)
            with Horizontal(classes="buttons"):
                yield Button("Write", id=self.OK_ID, variant="primary")
                yield Button("Cancel", id="blocklist-cancel")

    def _default_path(self) -> Path:
        return self.export_dir / default_export_name("blocklist", BLOCKLIST_EXTENSIONS[self._fmt], self.when)

    def _result(self, path: Path) -> BlocklistRequest:
        return BlocklistRequest(self._fmt, path, self._tier)

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        """A format or a tier was chosen."""
        if event.radio_set.id == "blocklist-tier":
            self._tier = event.pressed.name or "attack"
            self.query_one("#blocklist-title", Static).update(self._title())
            return
        self._fmt = event.pressed.name or "plain"
        self._choices_changed()
