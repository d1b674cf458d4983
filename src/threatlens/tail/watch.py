"""Wake the follower when the file system reports a change near a followed path (watchdog)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileAttribEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from threatlens.tail.lines import Notify

_EVENTS = [
    FileModifiedEvent,
    FileAttribEvent,
    FileCreatedEvent,
    FileMovedEvent,
    FileDeletedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]


class _Waker(FileSystemEventHandler):
    """Calls ``wake`` for events that touch one of the interesting paths."""

    def __init__(self, wake: Callable[[], None]) -> None:
        super().__init__()
        self.wake = wake
        self.paths: frozenset[str] = frozenset()
        self.any_event = True

    def dispatch(self, event: FileSystemEvent) -> None:
        paths = self.paths
        if self.any_event or event.is_directory or event.src_path in paths or event.dest_path in paths:
            self.wake()


class DirWatcher:
    """Watches the directories holding the followed files; only says *that* something changed.

    Watching the parent directory (not the file) also reports the file being created,
    renamed or deleted. All methods are called from the follower's reader thread.
    """

    def __init__(self, wake: Callable[[], None], notify: Notify) -> None:
        self._notify = notify
        self._handler = _Waker(wake)
        self._observer: BaseObserver | None = None
        self._watches: dict[str, tuple[ObservedWatch, tuple[int, int]]] = {}
        self._lock = threading.Lock()
        self.failed = False

    def start(self) -> None:
        """Start the observer thread; on failure remember it so the caller can poll instead."""
        try:
            observer = Observer()
            observer.daemon = True
            observer.start()
        except (OSError, RuntimeError) as exc:
            self.failed = True
            self._notify("warning", f"file change notification unavailable ({exc}); polling instead")
            return
        self._observer = observer

    def set_filter(self, files: Iterable[str], *, any_event: bool) -> None:
        """Wake only for events naming one of ``files`` (or any event, with ``any_event``)."""
        self._handler.paths = frozenset(files)
        self._handler.any_event = any_event

    def update(self, dirs: Iterable[str]) -> bool:
        """Watch exactly ``dirs``, re-adding any directory replaced since the last call.

        Returns False when some directory could not be watched (it is retried on the
        next call); the caller then relies on its periodic check for those paths.
        """
        observer = self._observer
        if observer is None:
            return False
        wanted = set(dirs)
        ok = True
        with self._lock:
            for d in list(self._watches):
                watch, ident = self._watches[d]
                if d not in wanted or _identity(d) != ident:
                    self._unschedule(observer, watch)
                    del self._watches[d]
            for d in wanted - self._watches.keys():
                found = _identity(d)
                if found is None:
                    ok = False
                    continue
                try:
                    watch = observer.schedule(self._handler, d, recursive=False, event_filter=_EVENTS)
                except OSError as exc:
                    ok = False
                    if not self.failed:
                        self.failed = True
                        self._notify("warning", f"cannot watch {d} ({exc}); checking it periodically instead")
                    continue
                self._watches[d] = (watch, found)
        return ok

    def stop(self) -> None:
        """Stop and join the observer thread."""
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)

    @staticmethod
    def _unschedule(observer: BaseObserver, watch: ObservedWatch) -> None:
        with contextlib.suppress(KeyError, OSError):
            observer.unschedule(watch)


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)
