"""``KeysFooter``: the key bar, fitted to the terminal.

``? Help`` always shows, at the right; the keys that do not fit go (the screen's ``FOOTER_DROP`` first, then
from the right), never cut in the middle of a word.

Each restyle of a widget costs Textual a pass of the stylesheet over it, and the footer is recomposed on
every resize and bindings change: it keeps its keys when they would come out the same, and each new key is
born in the footer's style (``FooterKey`` starts compact and was restyled twice on mounting, 44 times before
the dashboard's first frame).
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.compose import compose
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

__all__ = ["KeysFooter"]

#: The action of the help key (the app's binding).
HELP_ACTION = "help"


class KeysFooter(Footer):
    """A ``Footer`` that never hides the help key and drops whole keys, least needed first, when narrow."""

    def __init__(self) -> None:
        super().__init__(show_command_palette=False)
        self._fitted_width = 0
        self._shown: tuple[object, ...] | None = None

    async def recompose(self) -> None:
        """Compose the keys again, unless they come out as those on the screen."""
        if not self.is_attached or self._pruning:
            return
        keys = compose(self)
        shown = (self.compact, *(_identity(k) for k in keys))
        if shown == self._shown:
            return
        self._shown = shown
        async with self.batch():
            await self.query_children("*").exclude(".-textual-system").remove()
            if self.is_attached:
                await self.mount_all(keys)

    def compose(self) -> ComposeResult:
        """The footer's keys that fit in the width, help last (docked right)."""
        keys = list(super().compose())
        width = self.size.width or self.app.size.width
        yield from fit_keys(keys, width, getattr(self.screen, "FOOTER_DROP", ()), self)

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._fitted_width:
            self._fitted_width = event.size.width
            self.refresh(recompose=True)


def _identity(widget: Widget) -> object:
    """What the footer shows of one key: equal identities draw the same."""
    if isinstance(widget, FooterKey):
        return (widget.key, widget.key_display, widget.description, widget.action, widget.disabled,
                widget.tooltip, tuple(sorted(widget.classes)))
    return widget


def _width(key: FooterKey, compact: bool) -> int:
    """Cells one key takes (see ``FooterKey``'s default CSS: padding and margins)."""
    return cell_len(key.key_display) + cell_len(key.description) + (2 if compact else 3)


def fit_keys(keys: list[Widget], width: int, drop: tuple[tuple[str, ...], ...], footer: Footer) -> Iterable[Widget]:
    """The keys that fit ``width``.

    All of them in the full style if they fit, else compact, leaving out the groups of actions in ``drop`` (in
    order), then keys from the right; the help key stays.
    """
    plain = [k for k in keys if isinstance(k, FooterKey)]
    groups = [[k for k in plain if k.action in actions] for actions in drop]
    groups += [[k] for k in reversed(plain) if k.action != HELP_ACTION and not any(k in g for g in groups)]
    shown = list(plain)
    for compact in (False, True):
        shown = list(plain)
        order = list(groups)
        while sum(_width(k, compact) for k in shown) > width and order:
            for k in order.pop(0):
                shown.remove(k)
        if sum(_width(k, compact) for k in shown) <= width and (compact or len(shown) == len(plain)):
            footer.compact = compact
            break
    for key in keys:
        if not isinstance(key, FooterKey) or key in shown:
            if isinstance(key, FooterKey):
                if key.action == HELP_ACTION:
                    key.add_class("-help")
                # In the footer's style from the start: its binding to ``Footer.compact`` then changes nothing.
                key.set_reactive(FooterKey.compact, footer.compact)
                key.set_class(footer.compact, "-compact", update=False)
            yield key
