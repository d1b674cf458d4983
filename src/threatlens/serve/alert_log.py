"""``AlertLog``: the live alerts with stable, increasing IDs, for pollers that must not miss or repeat one."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from threatlens.models.verdict import SEVERITIES, Alert, at_least

__all__ = ["SEVERITIES", "AlertLog", "Entry", "Page"]


@dataclass(frozen=True)
class Entry:
    """One logged alert: its ID, the alert and the client's country."""

    id: int
    alert: Alert
    country: str | None


@dataclass(frozen=True)
class Page:
    """One answer to a poll: ``entries`` after ``since``; poll again with ``since=next_since``.

    ``missed`` counts alerts after ``since`` that were dropped from memory before this poll (the
    log keeps the newest ``keep``); it is 0 for a poller that keeps up.
    """

    entries: list[Entry]
    next_since: int
    newest_id: int
    oldest_id: int
    missed: int


class AlertLog:
    """Append-only (bounded) list of alerts numbered 1, 2, 3... in the order the engine raised them."""

    def __init__(self, keep: int = 50_000) -> None:
        self.keep = keep
        self._lock = threading.Lock()
        self._entries: list[Entry] = []
        self._next_id = 1

    def add(self, alerts: Sequence[Alert], country: Callable[[str | None], str | None]) -> None:
        """Number and keep new alerts (ingest thread)."""
        if not alerts:
            return
        rows = [(a, country(a.ip)) for a in alerts]
        with self._lock:
            for alert, cc in rows:
                self._entries.append(Entry(self._next_id, alert, cc))
                self._next_id += 1
            if len(self._entries) > 2 * self.keep:  # trim in bulk: amortised O(1) per alert
                del self._entries[: len(self._entries) - self.keep]

    @property
    def newest_id(self) -> int:
        """The ID of the newest alert (0 before the first)."""
        return self._next_id - 1

    def page(self, since: int, *, min_severity: str | None = None, limit: int = 100) -> Page:
        """Alerts with ID greater than ``since``, oldest first, at most ``limit`` of them.

        ``min_severity`` (one of ``SEVERITIES``) keeps alerts of that severity or more serious.
        """
        with self._lock:
            entries = self._entries
            newest = self._next_id - 1
            oldest = entries[0].id if entries else self._next_id
            start = max(0, since + 1 - oldest)
            missed = max(0, oldest - 1 - since)
            found: list[Entry] = []
            next_since = max(since, newest) if since <= newest else since
            for entry in entries[start:]:
                if min_severity and not at_least(entry.alert.severity, min_severity):
                    continue
                found.append(entry)
                if len(found) == limit:
                    next_since = entry.id
                    break
        return Page(found, next_since, newest, oldest, missed)
