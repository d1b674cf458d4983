"""``FilterPrompt``: edit the ``/`` filter; a bad term is explained and the prompt stays open."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from threatlens.stats.filter import FilterError, RecordFilter
from threatlens.textsafe import visible

__all__ = ["FilterPrompt"]

#: Longest filter accepted; a longer paste is refused (a bell) instead of freezing the prompt.
MAX_FILTER = 1000
HINT = ("ip:1.2.3.0/24  path:/wp-  country:CN  cat:sqli  status:4xx  score>=0.8  method:POST  ua:curl  "
        "-term negates; empty clears")


class FilterPrompt(ModalScreen[str | None]):
    """Dismisses with the validated filter text ("" clears), or None on Escape."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: str = "") -> None:
        super().__init__()
        self.current = current
        #: characters typed before the input existed or had focus (typed in the same instant as ``/``)
        self._typeahead: list[str] = []

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        with Vertical(classes="dialog", id="filter-dialog"):
            yield Static("Filter every panel", classes="dialog-title")
            yield Input(self.current[:MAX_FILTER], placeholder="e.g. country:CN score>=0.8", id="filter-input",
                        max_length=MAX_FILTER)
            yield Static(HINT, classes="hint", markup=False)
            yield Static("", id="filter-error", classes="error", markup=False)

    def on_mount(self) -> None:
        if self.app.is_headless:  # steady frames for snapshot tests
            for field in self.query(Input):
                field.cursor_blink = False
        self._flush_typeahead()

    def on_key(self, event: events.Key) -> None:
        """Keep keys that reach the screen instead of the input (it was not mounted or focused yet)."""
        if event.is_printable and event.character:
            event.stop()
            event.prevent_default()
            self.type_ahead(event.character)

    def type_ahead(self, text: str) -> None:
        """Add text typed before the input could take it (the app passes on keys typed right after ``/``)."""
        self._typeahead.append(text)
        self._flush_typeahead()

    def _flush_typeahead(self) -> None:
        try:
            field = self.query_one("#filter-input", Input)
        except NoMatches:
            return
        if self._typeahead:
            text, self._typeahead = "".join(self._typeahead), []
            field.insert_text_at_cursor(text[:max(0, MAX_FILTER - len(field.value))])
        field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        try:
            RecordFilter.parse(text)
        except (FilterError, ValueError) as exc:
            self.query_one("#filter-error", Static).update(visible(str(exc)))
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
