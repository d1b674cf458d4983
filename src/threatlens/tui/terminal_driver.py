"""``PromptEscapeDriver``: Textual's Linux terminal driver, with the Esc key delivered when it is due.

A lone ``ESC`` byte is either the Esc key or the start of a key's escape sequence (arrows, function keys,
mouse reports); the parser waits ``ESCDELAY`` (see ``threatlens.tui.main``) for more bytes before it decides.
Textual's input thread checks that deadline only when its ``select`` returns, which it does every 100 ms
when no byte arrives: every Esc (closing a screen, clearing the filter) took 100-140 ms to act whatever
the delay. This input loop waits on ``select`` only until the parser's deadline while one is pending, and
for 100 ms otherwise, so an idle monitor does not wake more often than Textual's own loop.
"""

from __future__ import annotations

import contextlib
import os
import selectors
from codecs import getincrementaldecoder
from typing import Any

from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

__all__ = ["PromptEscapeDriver", "parse"]

#: Seconds the input thread waits for a byte when no escape sequence is pending (Textual's own interval).
IDLE_WAIT = 0.1


def _wait(parser: XTermParser) -> float:
    """Seconds until the parser's pending decision (an ``ESC`` awaiting more bytes), at most :data:`IDLE_WAIT`."""
    deadline = getattr(parser, "_timeout_time", None)
    if deadline is None:
        return IDLE_WAIT
    return min(IDLE_WAIT, max(0.0, deadline - get_time()))


def parse(parser: XTermParser, chunks: list[str]) -> list[Any]:
    """The events of what was read (``chunks``), a pending Esc first if its wait is over.

    That Esc is the Esc key whatever came since: this thread may get the GIL back only after the next key's bytes
    are there (the UI drawing a frame), and fed first they made one Alt+key of the two (Enter, Esc, Enter, Esc
    pressed 50 ms apart left the IP screen open).
    """
    events = list(parser.tick())
    for data in chunks:
        events.extend(parser.feed(data))
    events.extend(parser.tick())
    return events


class PromptEscapeDriver(LinuxDriver):
    """The Linux driver with an input loop that wakes up when a pending Esc is due."""

    def run_input_thread(self) -> None:
        """Read the terminal, parse keys and mouse events, and post them (as Textual's loop does)."""
        fileno = self.fileno
        selector = selectors.SelectSelector()
        selector.register(fileno, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode

        def process(ready: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            chunks = []
            for index, (_key, mask) in enumerate(ready):
                if mask & selectors.EVENT_READ:
                    data = decode(os.read(fileno, 4096), final=final and index == len(ready) - 1)
                    if not data:  # end of input (a hung-up terminal: TerminalGuard ends the monitor)
                        break
                    chunks.append(data)
            for event in parse(parser, chunks):
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process(selector.select(_wait(parser)))
            selector.unregister(fileno)
            process(selector.select(IDLE_WAIT), final=True)
        finally:
            selector.close()
            with contextlib.suppress(EOFError, ParseError):
                for _event in parser.feed(""):
                    pass
