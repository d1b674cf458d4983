"""End the monitor when its terminal goes away, instead of spinning on a dead terminal forever.

A monitor started through ``make`` or ``bash -c`` over ssh outlives a dropped connection: the
terminal hangs up, reads return end-of-file at once, and Textual's input loop spins a core. The
guard ends the app within a second on SIGHUP or SIGTERM, on a hung-up terminal (polled, so no
key is consumed), or when the parent process is gone. If the app does not finish in ``grace``
seconds (its shutdown writes to a terminal that no longer exists), the cleanup runs and the
process exits at once: there is nothing left on the screen to restore.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["TerminalGuard"]

#: Exit status after a hang-up (128 + SIGHUP), as a shell reports it.
HANGUP_STATUS = 128 + signal.SIGHUP
_DEAD = select.POLLHUP | select.POLLERR | select.POLLNVAL


class TerminalGuard:
    """Context manager around ``app.run()``; ``status`` is the exit status to return afterwards.

    ``app`` may be set later (``guard.app = app``): until then an ending runs ``cleanup`` and exits.
    """

    def __init__(self, app: Any, *, cleanup: Callable[[], None] | None = None, interval: float = 0.2,
                 grace: float = 0.5) -> None:
        self.app = app
        self.cleanup = cleanup
        self.interval = interval
        self.grace = grace
        self.status = 0
        self.reason = ""
        self._ppid = os.getppid()
        self._ttys = [fd for fd in (0, 1, 2) if _isatty(fd)]
        self._done = threading.Event()
        self._ending = threading.Lock()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> TerminalGuard:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGHUP, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._on_signal)
        threading.Thread(target=self._watch, name="threatlens-terminal-guard", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        for signum, handler in self._previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(signum, handler)

    def finish(self) -> int:
        """The exit status; after a hang-up or signal, exit now (after the caller's cleanup has run).

        Tearing down the interpreter (model, tables, threads) takes seconds on a busy machine, and
        nobody is waiting for it any more.
        """
        if self.reason:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(self.status)
        return self.status

    def gone(self) -> str:
        """Why the terminal is gone (``""`` while it is there)."""
        if self._ttys:
            poller = select.poll()
            for fd in self._ttys:
                poller.register(fd, 0)  # no events asked: only hang-up, error and closed are reported
            with contextlib.suppress(OSError):
                if any(mask & _DEAD for _fd, mask in poller.poll(0)):
                    return "the terminal hung up"
        if os.getppid() != self._ppid:
            return "the parent process ended"
        return ""

    def end(self, reason: str, status: int) -> None:
        """Ask the app to exit now; force the exit (after the cleanup) if it has not within ``grace``."""
        if not self._ending.acquire(blocking=False):
            return
        self.reason, self.status = reason, status
        if self.app is None:
            self._force()
        timer = threading.Timer(self.grace, self._force)
        timer.daemon = True
        timer.start()
        with contextlib.suppress(Exception):  # the app may be shutting down already
            self.app.call_from_thread(self.app.exit)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        # Signal handlers run on the main thread, where the app's event loop runs: hand over to a thread.
        threading.Thread(target=self.end, args=(f"{name} received", 128 + signum), daemon=True).start()

    def _watch(self) -> None:
        while not self._done.wait(self.interval):
            reason = self.gone()
            if reason:
                self.end(reason, HANGUP_STATUS)
                return

    def _force(self) -> None:
        if self._done.is_set():
            return
        if self.cleanup is not None:
            with contextlib.suppress(Exception):
                self.cleanup()
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os._exit(self.status)


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False
