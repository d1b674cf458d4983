"""A bounded ring that counts what it had to drop."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Ring(Generic[T]):
    """The newest ``maxlen`` items; older ones are dropped, but only after being counted.

    ``total`` counts every item ever appended, ``dropped`` those pushed out, so
    ``total == len(ring) + dropped`` always holds. With ``decode``, items are stored as given to
    ``append_raw`` and decoded when read (the aggregates store plain tuples, which the garbage
    collector stops tracking, and hand out named tuples).
    """

    __slots__ = ("_decode", "_items", "total")

    def __init__(self, maxlen: int, decode: Callable[[Any], T] | None = None) -> None:
        if maxlen < 1:
            raise ValueError("maxlen must be at least 1")
        self._items: deque[Any] = deque(maxlen=maxlen)
        self._decode = decode
        self.total = 0

    @property
    def maxlen(self) -> int:
        """How many items the ring keeps."""
        return self._items.maxlen or 0

    @property
    def dropped(self) -> int:
        """How many items were pushed out by newer ones."""
        return self.total - len(self._items)

    def append(self, item: T) -> None:
        """Add one item, dropping the oldest if full."""
        self._items.append(item)
        self.total += 1

    def append_raw(self, item: Any) -> None:
        """Add one item in its stored form (what ``decode`` reads)."""
        self._items.append(item)
        self.total += 1

    def extend(self, items: Iterable[T]) -> None:
        """Add items in order, dropping the oldest as needed."""
        items = items if isinstance(items, list | tuple) else list(items)
        self._items.extend(items)
        self.total += len(items)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        """Oldest first."""
        return iter(self._items) if self._decode is None else map(self._decode, self._items)

    def newest(self, n: int | None = None) -> list[T]:
        """Up to ``n`` items (all if None), newest first."""
        items = self._items
        if n is None or n >= len(items):
            out = list(reversed(items))
        else:
            out = []
            for i, item in enumerate(reversed(items)):
                if i >= n:
                    break
                out.append(item)
        return out if self._decode is None else list(map(self._decode, out))

    def raw(self) -> Sequence[Any]:
        """The stored items, oldest first, undecoded."""
        return self._items

    def clear(self) -> None:
        """Empty the ring (counters included)."""
        self._items.clear()
        self.total = 0
