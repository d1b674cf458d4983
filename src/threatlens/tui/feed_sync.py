"""The alerts feed sent as what changed: the ingestion process encodes, the UI rebuilds the same list.

Between two snapshots the feed (up to 1000 rows, newest first) mostly gains rows at its top and loses
rows at its bottom; a campaign or burst raised again moves to the top; a filter, threshold or ``n``
changes every row. :class:`FeedEncoder` describes the new list against the one it sent last: each row
that is the same object or equal to a row of that list at the next place is a run (a ``range`` of
positions there), every other row goes whole. :func:`apply_feed` rebuilds the new list from the old
one. Both sides see every snapshot in the order sent (one pipe), so they always hold the same old list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["FeedDelta", "FeedEncoder", "apply_feed"]

#: Rows of the new feed, in order: an ``AlertRow`` sent whole, or a ``range`` of positions in the previous feed.
FeedDelta = list[Any]


class FeedEncoder:
    """Remembers the feed last sent and describes each new one against it (the ingestion process's side)."""

    __slots__ = ("_index", "_sent")

    def __init__(self) -> None:
        self._sent: Sequence[Any] = ()
        self._index: dict[str, int] = {}  # row key -> its position in _sent (keys are unique in one feed)

    def encode(self, rows: Sequence[Any]) -> FeedDelta:
        """The delta from the feed sent last to ``rows``; ``rows`` is what was sent from now on."""
        old = self._sent
        index = self._index
        delta: FeedDelta = []
        run_start = run_end = -1  # the run of old positions being extended
        for row in rows:
            at = index.get(row.key)
            if at is not None and (old[at] is row or old[at] == row):
                if at == run_end:
                    run_end += 1
                    continue
                if run_start >= 0:
                    delta.append(range(run_start, run_end))
                run_start, run_end = at, at + 1
                continue
            if run_start >= 0:
                delta.append(range(run_start, run_end))
                run_start = run_end = -1
            delta.append(row)
        if run_start >= 0:
            delta.append(range(run_start, run_end))
        self._sent = rows
        self._index = {row.key: i for i, row in enumerate(rows)}
        return delta


def apply_feed(old: Sequence[Any], delta: FeedDelta) -> list[Any]:
    """The feed ``delta`` describes against ``old`` (the UI's side)."""
    rows: list[Any] = []
    for part in delta:
        if type(part) is range:
            rows += old[part.start:part.stop]
        else:
            rows.append(part)
    return rows
