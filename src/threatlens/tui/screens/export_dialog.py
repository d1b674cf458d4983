"""``ExportDialog``: what (flagged, alerts, filter, IP), which format, which file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, RadioSet, Static

from threatlens.export import default_export_name
from threatlens.tui.exporting import EXPORT_WHAT, EXTENSIONS, FORMAT_LABELS, TIER_CHOICES, TIERED, ExportRequest
from threatlens.tui.screens.file_dialog import FileDialog
from threatlens.tui.widgets.choice_button import ChoiceButton

__all__ = ["ExportDialog"]


class ExportDialog(FileDialog[ExportRequest]):
    """Dismisses with an ``ExportRequest`` (the app writes it) or None (Escape / Cancel)."""

    PATH_ID = "export-path"
    OK_ID = "export-ok"
    FIRST_FOCUS = "#export-what"

    def __init__(self, export_dir: Path, when: datetime, ip: str | None = None, what: str = "flagged",
                 fmt: str = "raw", path: Path | None = None, min_severity: str = "attack") -> None:
        super().__init__(path)
        self.export_dir = export_dir
        self.when = when
        self.ip = ip
        self._what = what if what != "ip" or ip else "flagged"
        self._fmt = fmt
        self._tier = min_severity if min_severity in TIER_CHOICES else "attack"

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        with Vertical(classes="dialog", id="export-dialog"):
            yield Static("Export", classes="dialog-title")
            with Horizontal(id="export-choices"):
                with RadioSet(id="export-what"):
                    for key, label in EXPORT_WHAT.items():
                        text = f"{label} ({self.ip})" if key == "ip" and self.ip else label
                        yield ChoiceButton(text, value=key == self._what, name=key, id=f"what-{key}",
                                          disabled=key == "ip" and not self.ip)
                with RadioSet(id="export-format"):
                    for key, label in FORMAT_LABELS.items():
                        yield ChoiceButton(label, value=key == self._fmt, name=key, id=f"fmt-{key}")
            with RadioSet(id="export-tier", disabled=self._what not in TIERED):
                for key, label in TIER_CHOICES.items():
                    yield ChoiceButton(label, value=key == self._tier, name=key, id=f"etier-{key}")
            yield Input(str(self._start_path()), id=self.PATH_ID)
            yield Static("The tier applies to flagged requests and alerts. Written atomically; an existing file "
                         "is never replaced without asking.", classes="hint", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Export", id=self.OK_ID, variant="primary")
                yield Button("Cancel", id="export-cancel")

    def _default_path(self) -> Path:
        kind = f"ip-{self.ip}" if self._what == "ip" and self.ip else self._what
        return self.export_dir / default_export_name(kind, EXTENSIONS[self._fmt], self.when)

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        name = event.pressed.name or ""
        if event.radio_set.id == "export-tier":
            self._tier = name or "attack"
            return
        if event.radio_set.id == "export-what":
            self._what = name
            self.query_one("#export-tier", RadioSet).disabled = name not in TIERED
        else:
            self._fmt = name
        self._choices_changed()

    def _result(self, path: Path) -> ExportRequest:
        return ExportRequest(self._what, self._fmt, path, self.ip, self._tier)
