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

__all__ = ["ShownAgain", "app_look", "render_ahead"]

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


def render_ahead(screen: Any) -> int:
    """Render the changed lines of a hidden screen's widgets now, as its compositor would when it is shown.

    Each widget keeps its rendered lines until it changes: a screen updated while hidden (the IP screen drawing
    the selected row's IP ahead of Enter) then shows with its lines ready, and showing it only composes the
    frame. Uses the regions of the screen's last layout (the compositor's map, Textual 8); without one, nothing
    is done. Returns the number of widgets rendered.
    """
    from textual.geometry import Region

    try:
        widgets = screen._compositor.visible_widgets
    except AttributeError:  # another Textual: showing the screen renders them, as before
        return 0
    for widget, (region, clip) in widgets.items():
        x, y, width, height = Region.intersection(region, clip)
        if width and height:
            widget.render_lines(Region(x - region.x, y - region.y, width, height))
    return len(widgets)
