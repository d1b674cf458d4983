"""``ShownAgain``: for a screen the app makes once and shows again (the IP screen, the help).

Textual styles every widget of a screen again each time it is pushed (``ScreenResume.refresh_styles``), in
case the app's look changed while it was hidden: for the IP screen that was 15-28 ms of each Enter, more than
drawing it. Nothing a hidden screen shows changes its styles but the app's theme, colour mode and terminal
focus (a class the screen itself adds or removes restyles its widgets at once), so it is styled again only
when one of those differs from the last time it was styled.
"""

from __future__ import annotations

from typing import Any

from textual import events

__all__ = ["ShownAgain", "app_look"]

#: The app attributes whose change restyles every widget (read with getattr: not every Textual version has all).
LOOK = ("theme", "ansi_color", "dark", "app_focus")


def app_look(app: Any) -> tuple[Any, ...]:
    """What, of the app's state, the screen's styles depend on besides its own classes."""
    return tuple(getattr(app, name, None) for name in LOOK)


class ShownAgain:
    """Mixin (before ``Screen`` in the bases): skip the restyle on resume when the app's look is unchanged."""

    _styled_as: tuple[Any, ...] | None = None

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        """Runs before ``Screen``'s own handler, which restyles only if ``refresh_styles`` is still true."""
        look = app_look(self.app)  # type: ignore[attr-defined]
        if look == self._styled_as:
            event.refresh_styles = False
        self._styled_as = look
