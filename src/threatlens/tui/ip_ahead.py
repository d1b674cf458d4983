"""``IpAhead``: the selected row's IP snapshot, asked of the ingestion process before Enter needs it.

Enter used to ask the ingestion process for the IP's snapshot and wait (5-30 ms, up to 100 ms on a busy machine)
before the IP screen could even start drawing. The app asks ahead for the row under the cursor (after each drawn
snapshot and each key, at most every ``EVERY`` seconds for the same IP); the answer also lets the hidden IP screen
draw that IP ahead of Enter. Enter then opens from an answer at most ``FRESH`` seconds old and shows the current
one when it arrives.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["EVERY", "FRESH", "WAIT", "IpAhead"]

#: Seconds after which the same IP is asked again.
EVERY = 0.5
#: Enter opens the IP screen from an answer asked at most this long ago.
FRESH = 1.0
#: Enter waits at most this long for an answer already on its way (else it asks again).
WAIT = 0.5


class IpAhead:
    """What was asked ahead, and for which IP (``answered`` runs on the reader thread with each answer)."""

    def __init__(self, remote: Any, answered: Callable[[str, Any], None]) -> None:
        self.remote = remote
        self.answered = answered
        #: the latest answer: (ip, when asked, snapshot)
        self.have: tuple[str, float, Any] | None = None
        self._asking: tuple[str, threading.Event] | None = None  # the IP asked, its event set once answered

    def ask(self, ip: str) -> None:
        """Ask for ``ip``'s snapshot unless a recent answer or a question for it is there already."""
        have, asking = self.have, self._asking
        now = time.monotonic()
        if have is not None and have[0] == ip and now - have[1] < EVERY:
            return
        if asking is not None and asking[0] == ip and not asking[1].is_set():
            return
        done = threading.Event()

        def keep(snapshot: Any) -> None:  # (the reader thread)
            self.have = (ip, now, snapshot)
            done.set()
            self.answered(ip, snapshot)

        self._asking = (ip, done)
        self.remote.call_soon("ip_snapshot", ip, on_reply=keep, slot=f"ahead {ip}")

    def take(self, ip: str) -> Any:
        """``ip``'s snapshot if one was asked at most ``FRESH`` s ago (waiting for it if it is on its way), or None."""
        asking = self._asking
        if asking is not None and asking[0] == ip:  # its answer is on the way: sooner than a new question's
            asking[1].wait(WAIT)
        have = self.have
        if have is not None and have[0] == ip and time.monotonic() - have[1] <= FRESH:
            return have[2]
        return None
