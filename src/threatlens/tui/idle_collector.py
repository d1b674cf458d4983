"""``IdleCollector``: the UI process's garbage collections run between frames, not in the middle of one.

Python collects when allocations cross a threshold, which in the monitor is while a snapshot is applied or a
frame drawn (that is where the allocations are), or on the thread that unpickles the next snapshot: a key
pressed then waited for the collection too. Over 30 s at 10k lines/s the automatic collector paused the UI
313 times for young collections (p50 0.7 ms, max 15 ms) and 27 times for the middle generation (p50 17 ms,
max 72 ms), 4 % of the time, and a middle collection was inside many of the slowest keys.

Here automatic collection is off after the first frame; a check runs when a frame has been drawn and ten times a
second, and collects (with the thresholds of :mod:`threatlens.collector`) only when the app has no message
waiting, so a key that is already queued goes first (a check deferred ``MAX_DEFERRED`` times in a row collects
anyway: a loop that is never idle does not grow without bound). The generations are collected in the same proportions as
Python would (the middle one after ``middle`` young collections, the oldest after ``full`` middle ones).
"""

from __future__ import annotations

import gc
from typing import Any

from threatlens.collector import GC_YOUNG_UI

__all__ = ["CHECK_PERIOD", "MAX_DEFERRED", "IdleCollector"]

#: Seconds between checks while no frame is drawn (the IP screen, the help, a paused dashboard).
CHECK_PERIOD = 0.1
#: Checks in a row that may find a message waiting before one collects anyway.
MAX_DEFERRED = 10


class IdleCollector:
    """Collect garbage in the app's idle moments (see the module docstring)."""

    def __init__(self, app: Any, young: int = GC_YOUNG_UI, middle: int = 10, full: int = 100) -> None:
        self.app = app
        self.young = young
        self.middle = middle
        self.full = full
        self.collections = [0, 0, 0]  #: collections run, by generation
        self.deferred = 0  #: checks that found garbage due but a message waiting
        self._in_a_row = 0

    def start(self) -> None:
        """From now on collections happen only in :meth:`check` (start-up's objects frozen out of them)."""
        gc.collect()
        gc.freeze()
        gc.disable()
        self.app.set_interval(CHECK_PERIOD, self.check)

    def stop(self) -> None:
        """Automatic collection again, of everything (the app has ended; tests run many apps in one process)."""
        gc.unfreeze()
        gc.enable()

    def check(self) -> None:
        """Collect if enough was allocated since the last collection and nothing waits to be handled."""
        young, young_runs, middle_runs = gc.get_count()
        if young < self.young:
            return
        if self._in_a_row < MAX_DEFERRED and (self.app.message_queue_size or self.app.screen.message_queue_size):
            self.deferred += 1
            self._in_a_row += 1
            return
        self._in_a_row = 0
        generation = 2 if middle_runs >= self.full else 1 if young_runs >= self.middle else 0
        gc.collect(generation)
        self.collections[generation] += 1
