"""``FileDialog``: the shared part of the export and block-list dialogs (choices + a file path)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Generic, TypeVar

from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Button, Input

__all__ = ["FileDialog"]

ResultT = TypeVar("ResultT")


class FileDialog(ModalScreen[ResultT | None], Generic[ResultT]):
    """A modal with radio choices and a path that follows them until the user edits it.

    Subclasses compose the widgets (one ``Input`` with id ``PATH_ID``, a button with id ``OK_ID``)
    and give ``_default_path`` and ``_result``; Enter (anywhere but on the Cancel button) or the OK
    button dismisses with the result, Escape or Cancel with ``None``. Space picks a choice.
    ``path`` reopens the dialog on a path of the user's own (after "No" to overwriting it).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "confirm", "Confirm", priority=True),  # before a radio list takes Enter as "select"
    ]
    PATH_ID: ClassVar[str] = "path"
    OK_ID: ClassVar[str] = "ok"
    FIRST_FOCUS: ClassVar[str] = "RadioSet"

    def __init__(self, path: Path | None = None) -> None:
        super().__init__()
        self._initial = path
        self._edited = path is not None

    def _start_path(self) -> Path:
        """The path shown first: the one given, else the suggestion."""
        return self._initial if self._initial is not None else self._default_path()

    def _default_path(self) -> Path:  # pragma: no cover - abstract
        raise NotImplementedError

    def _result(self, path: Path) -> ResultT:  # pragma: no cover - abstract
        raise NotImplementedError

    def _path_input(self) -> Input:
        return self.query_one(f"#{self.PATH_ID}", Input)

    def _choices_changed(self) -> None:
        """Call after a choice changes: the suggested path follows unless the user typed one."""
        if not self._edited:
            self._path_input().value = str(self._default_path())

    def on_mount(self) -> None:
        """Steady frames for snapshot tests; focus the first choice."""
        if self.app.is_headless:
            for field in self.query(Input):
                field.cursor_blink = False
        self.query(self.FIRST_FOCUS).first().focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Remember that the user typed a path of their own."""
        if event.value != str(self._default_path()):
            self._edited = True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the path field confirms."""
        self._finish()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """OK confirms, Cancel cancels."""
        if event.button.id == self.OK_ID:
            self._finish()
        else:
            self.dismiss(None)

    def _finish(self) -> None:
        text = self._path_input().value.strip()
        if not text:
            self.notify("give a file name", severity="error")
            return
        self.dismiss(self._result(Path(text).expanduser()))

    def action_confirm(self) -> None:
        """Enter: a focused button does what it says; anywhere else Enter confirms."""
        focused = self.focused
        if isinstance(focused, Button):
            focused.press()
        else:
            self._finish()

    def action_cancel(self) -> None:
        self.dismiss(None)
