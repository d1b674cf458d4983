"""``ExportDialog``: what (flagged, alerts, filter, IP), which format, which file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from threatlens.export import default_export_name
from threatlens.tui.exporting import EXPORT_WHAT, EXTENSIONS, FORMAT_LABELS, ExportRequest

__all__ = ["ExportDialog"]


class ExportDialog(ModalScreen[ExportRequest | None]):
    """Dismisses with an ``ExportRequest`` (the app writes it) or None (Escape / Cancel)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, export_dir: Path, when: datetime, ip: str | None = None, what: str = "flagged") -> None:
        super().__init__()
        self.export_dir = export_dir
        self.when = when
        self.ip = ip
        self._what = what if what != "ip" or ip else "flagged"
        self._fmt = "raw"
        self._edited = False

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        with Vertical(classes="dialog", id="export-dialog"):
            yield Static("Export", classes="dialog-title")
            with Horizontal(id="export-choices"):
                with RadioSet(id="export-what"):
                    for key, label in EXPORT_WHAT.items():
                        text = f"{label} ({self.ip})" if key == "ip" and self.ip else label
                        yield RadioButton(text, value=key == self._what, name=key, id=f"what-{key}",
                                          disabled=key == "ip" and not self.ip)
                with RadioSet(id="export-format"):
                    for key, label in FORMAT_LABELS.items():
                        yield RadioButton(label, value=key == self._fmt, name=key, id=f"fmt-{key}")
            yield Input(str(self._default_path()), id="export-path")
            yield Static("Written atomically; an existing file is never replaced without asking.",
                         classes="hint", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Export", id="export-ok", variant="primary")
                yield Button("Cancel", id="export-cancel")

    def _default_path(self) -> Path:
        kind = f"ip-{self.ip}" if self._what == "ip" and self.ip else self._what
        return self.export_dir / default_export_name(kind, EXTENSIONS[self._fmt], self.when)

    def on_mount(self) -> None:
        """Finish setting up once mounted."""
        if self.app.is_headless:  # steady frames for snapshot tests
            for field in self.query(Input):
                field.cursor_blink = False
        self.query_one("#export-what", RadioSet).focus()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        """Handle radio set changed."""
        name = event.pressed.name or ""
        if event.radio_set.id == "export-what":
            self._what = name
        else:
            self._fmt = name
        if not self._edited:
            self.query_one("#export-path", Input).value = str(self._default_path())

    def on_input_changed(self, event: Input.Changed) -> None:
        """Handle input changed."""
        if event.value != str(self._default_path()):
            self._edited = True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Handle input submitted."""
        self._finish()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Handle button pressed."""
        if event.button.id == "export-ok":
            self._finish()
        else:
            self.dismiss(None)

    def _finish(self) -> None:
        text = self.query_one("#export-path", Input).value.strip()
        if not text:
            self.notify("give a file name", severity="error")
            return
        path = Path(text).expanduser()
        self.dismiss(ExportRequest(self._what, self._fmt, path, self.ip))

    def action_cancel(self) -> None:
        """Key action: cancel."""
        self.dismiss(None)
