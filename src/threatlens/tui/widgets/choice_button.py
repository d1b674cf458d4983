"""``ChoiceButton``: a radio button whose state shows in its glyph, not only in its colour."""

from __future__ import annotations

from textual.widgets import RadioButton

__all__ = ["ChoiceButton"]


class ChoiceButton(RadioButton):
    """A ``RadioButton`` drawn ``●`` when chosen and ``○`` otherwise (readable on NO_COLOR terminals)."""

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]
        """The glyph inside the button, following ``value``."""
        return "●" if self.value else "○"
