"""``Feed``: flagged requests and alerts in the order they arrived, each numbered once for good.

The monitor's alerts feed reads it. Entry ``n`` is the ``n``-th flagged request or alert ever
counted (1-based), so a number never moves to another entry, and newest first is simply the
reverse of arrival: within a batch its flagged requests in line order, then the alerts the batch
raised. Only the newest ``maxlen`` entries are kept; ``dropped`` counts the older ones.

Each entry also has a ``label``, the number the monitor prints: an alert raised again for the same
thing (``alert_key``: a burst that grew, a port scan whose tier rose) takes the label of the one
before it, and every other entry the next label, so the printed numbers have no holes.

Entries hold the same stored tuples as ``Stats.flagged_ring`` and ``Stats.alert_ring`` (no copy).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from threatlens.stats.filter import RecordFilter
from threatlens.stats.results import AlertEntry, FlaggedRequest
from threatlens.stats.ring import Ring

__all__ = ["Feed", "FeedItem", "alert_key"]


def alert_key(alert: Any) -> str:
    """What an alert is about: alerts with the same key are one thing raised again (a campaign that grew)."""
    if alert.kind == "campaign" and len(alert.reasons) >= 2:
        return f"c{alert.file}:{alert.first_line}:{alert.reasons[0]}"
    return f"a{alert.ip}:{alert.file}:{alert.first_line}:{alert.kind}"


class FeedItem(NamedTuple):
    """One feed entry: its ``number``, what is stored (an ``AlertEntry``, else a request) and its ``label``."""

    number: int
    stored: Any
    label: int = 0

    @property
    def alert(self) -> AlertEntry | None:
        """The alert, if the entry is one."""
        return self.stored if isinstance(self.stored, AlertEntry) else None


class Feed:
    """The newest ``maxlen`` flagged requests and alerts, in arrival order (see the module docstring).

    ``decode`` turns a stored flagged request (the flagged ring's plain tuple) into a ``FlaggedRequest``;
    ``score_of`` reads its score without decoding it (entries below a raised threshold are skipped cheaply).
    """

    __slots__ = ("_country_of", "_decode", "_key_labels", "_labels", "_labels_given", "_match_filter", "_matches",
                 "_ring", "_score_of")

    def __init__(self, maxlen: int, decode: Callable[[Any], FlaggedRequest], score_of: Callable[[Any], float],
                 country_of: Callable[[str], str | None] | None = None) -> None:
        self._ring: Ring[Any] = Ring(maxlen)
        self._decode = decode
        self._score_of = score_of
        self._country_of = country_of  # a campaign member's country, for the filter
        self._match_filter: RecordFilter | None = None
        self._matches: dict[int, bool] = {}  # entry number -> passes _match_filter (each decided once)
        self._labels: dict[int, int] = {}  # entry number -> its label, for the entries held
        self._labels_given = 0
        self._key_labels: dict[str, int] = {}  # alert_key -> the label of the alerts with that key

    @property
    def total(self) -> int:
        """Entries ever added: the number of the newest one."""
        return self._ring.total

    @property
    def dropped(self) -> int:
        """Older entries pushed out by newer ones."""
        return self._ring.dropped

    def __len__(self) -> int:
        return len(self._ring)

    def add_request(self, stored: Any) -> None:
        """Append a flagged request in its stored form (``(record, verdict, country)`` plain tuples)."""
        self._ring.append_raw(stored)
        self._label(None)

    def add_alert(self, entry: AlertEntry) -> None:
        """Append an alert (labelled like the alert it raises again, if it does)."""
        self._ring.append_raw(entry)
        self._label(alert_key(entry.alert))

    def _label(self, key: str | None) -> None:
        label = self._key_labels.get(key) if key is not None else None
        if label is None:
            self._labels_given += 1
            label = self._labels_given
            if key is not None:
                self._key_labels[key] = label
        self._labels[self._ring.total] = label
        if len(self._labels) > 2 * self._ring.maxlen:  # forget entries (and keys) that left the ring
            oldest = self._ring.dropped
            self._labels = {n: lb for n, lb in self._labels.items() if n > oldest}
            first = min(self._labels.values())
            self._key_labels = {k: lb for k, lb in self._key_labels.items() if lb >= first}

    def request(self, stored: Any) -> FlaggedRequest:
        """A stored flagged request, decoded."""
        return self._decode(stored)

    def newest(self, threshold: float | None = None, record_filter: RecordFilter | None = None) -> Iterator[FeedItem]:
        """Entries newest first: requests scored below ``threshold`` left out, and what ``record_filter`` rejects.

        Nothing is decoded but what the filter must see; a filter's verdict on an entry is remembered
        (entries never change), so a view refreshed a few times a second decides each entry once.
        """
        if record_filter is not self._match_filter:
            self._match_filter = record_filter
            self._matches = {}
        matches = self._matches
        if len(matches) > 2 * self._ring.maxlen:  # forget entries that left the ring
            oldest = self._ring.dropped
            self._matches = matches = {k: v for k, v in matches.items() if k > oldest}
        number = self._ring.total + 1
        for stored in reversed(self._ring.raw()):
            number -= 1
            if isinstance(stored, AlertEntry):
                if record_filter is not None:
                    ok = matches.get(number)
                    if ok is None:
                        ok = matches[number] = record_filter.matches_alert(stored.alert, stored.country,
                                                                            self._country_of)
                    if not ok:
                        continue
                yield FeedItem(number, stored, self._labels.get(number, number))
                continue
            if threshold is not None and self._score_of(stored) < threshold:
                continue
            if record_filter is not None:
                ok = matches.get(number)
                if ok is None:
                    ok = matches[number] = record_filter.matches(*self._decode(stored))
                if not ok:
                    continue
            yield FeedItem(number, stored, self._labels.get(number, number))
