"""Heavy hitters in bounded memory: a batched, vectorised Space-Saving sketch (``TopK``).

The sketch monitors at most ``capacity`` keys, plus a slack of not-yet-pruned newcomers. Every
monitored key has a ``count`` and an ``error``:

* ``count`` is an upper bound of the key's true weight since the sketch began;
* ``error`` is how much of it may be overestimated, so ``count - error <= true <= count``.

A new key enters with ``count = floor + weight`` and ``error = floor``, where ``floor`` is the
largest count ever evicted. When more than ``capacity + slack`` keys are monitored, the table is
pruned back to the ``capacity`` largest counts and ``floor`` rises to the largest evicted count.
This is Space-Saving with its minimum-finding done in batches (equivalently, Misra-Gries with
mergeable batch decrements, Agarwal et al. 2012), with the same guarantees:

* every key not monitored has true weight ``<= floor``;
* ``floor <= total / (capacity + 1)`` (``total`` = all weight ever added), so any key whose
  weight exceeds ``total / (capacity + 1)`` is always monitored;
* while no pruning has happened (at most ``capacity + slack`` distinct keys), ``floor`` is 0 and
  every count is exact.

Layout: each monitored key owns a *slot*, an index into numpy arrays (``counts``, ``errors`` and the
caller's per-slot ``col[name]`` columns), so a batch updates all its keys with a few vectorised
operations and the table holds no Python object per key besides the key itself. Reading the top
``n`` is an ``argpartition`` over the slots (tens of microseconds at the default sizes), whatever
the length of the stream. An evicted key's cells are reset (except ``lazy_columns``, which the
caller validates itself) and its slot reused. Slot 0 is a scratch slot that belongs to no key:
callers may point records without a key at it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from itertools import compress, repeat
from typing import Any, Generic, TypeVar

import numpy as np

K = TypeVar("K", bound=Hashable)

#: Per-slot column spec: ``name -> (dtype, cell shape)``; ``()`` for one value per slot.
ColumnSpec = Mapping[str, tuple[Any, tuple[int, ...]]]

_FREE = -1  # the count of a slot that belongs to no key (never among the top)


class TopK(Generic[K]):
    """Space-Saving top-k sketch with batch merging; see the module docstring for the bounds."""

    __slots__ = (
        "_floor",
        "_free",
        "_keys",
        "_lazy",
        "_limit",
        "_slot",
        "_spec",
        "_total",
        "capacity",
        "col",
        "counts",
        "errors",
    )

    def __init__(
        self,
        capacity: int,
        *,
        slack: int | None = None,
        columns: ColumnSpec | None = None,
        lazy_columns: Iterable[str] = (),
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._limit = capacity + (max(capacity, 16) if slack is None else max(slack, 1))
        self._slot: dict[K, int] = {}
        self._floor = 0
        self._total = 0
        self._spec: dict[str, tuple[Any, tuple[int, ...]]] = dict(columns or {})
        self._lazy = frozenset(lazy_columns)
        n = self._limit + 1
        self._keys = np.full(n, None, dtype=object)  # slot -> key
        self._free = list(range(n - 1, 0, -1))  # popped from the end: slot 1 first
        self.counts = np.full(n, _FREE, dtype=np.int64)
        self.errors = np.zeros(n, dtype=np.int64)
        self.col: dict[str, np.ndarray] = {name: self._new_column(name, n) for name in self._spec}

    def _new_column(self, name: str, slots: int) -> np.ndarray:
        dtype, cell = self._spec[name]
        shape = (slots, *cell)
        if np.dtype(dtype) == object:
            return np.full(shape, None, dtype=object)
        return np.zeros(shape, dtype=dtype)

    # -- writing -------------------------------------------------------------------------------

    def merge_keys(
        self, keys: Sequence[K], weights: Sequence[int] | np.ndarray, *, prune: bool = True
    ) -> tuple[np.ndarray, list[int]]:
        """Add ``weights[i]`` to distinct ``keys[i]``; returns their slots and new-key positions.

        The positions are those in ``keys`` of the keys not monitored before (their slots are
        fresh: every column reset). With ``prune=False`` the slots stay valid until the caller calls ``prune()``.
        """
        n = len(keys)
        slots = np.fromiter(map(self._slot.get, keys, repeat(0, n)), dtype=np.intp, count=n)
        missing = slots == 0
        new: list[int] = []
        if missing.any():
            new_at = np.flatnonzero(missing)
            new = new_at.tolist()
            m = len(new)
            free = self._free
            while len(free) < m:
                free = self._grow()
            fresh = np.array(free[-m:][::-1], dtype=np.intp)
            del free[-m:]
            new_keys = list(compress(keys, missing.tolist()))
            self._slot.update(zip(new_keys, fresh.tolist(), strict=True))
            self._keys[fresh] = np.fromiter(new_keys, dtype=object, count=m)
            slots[new_at] = fresh
            self.counts[fresh] = self._floor
            self.errors[fresh] = self._floor
        w = np.asarray(weights, dtype=np.int64)
        self.counts[slots] += w  # keys are distinct: no repeated index
        self._total += int(w.sum())
        if prune:
            self.prune()
        return slots, new

    def merge(self, counts: Mapping[K, int], *, prune: bool = True) -> None:
        """Add a batch of ``key -> weight`` (positive ints)."""
        if counts:
            self.merge_keys(list(counts), list(counts.values()), prune=prune)

    def add(self, key: K, weight: int = 1) -> None:
        """Add ``weight`` to one key."""
        self.merge_keys([key], [weight])

    def update(self, keys: Iterable[K]) -> None:
        """Count each key of ``keys`` once."""
        counts: dict[K, int] = {}
        for k in keys:
            counts[k] = counts.get(k, 0) + 1
        self.merge(counts)

    def prune(self) -> None:
        """Shrink to ``capacity`` keys if over the limit, raising ``floor`` (cheap if not over)."""
        n = len(self._slot)
        cap = self.capacity
        if n <= self._limit:
            return
        live = np.fromiter(self._slot.values(), dtype=np.intp, count=n)
        c = self.counts[live]
        # the (capacity+1)-th largest count is the largest one evicted
        thr = int(np.partition(c, n - cap - 1)[n - cap - 1])
        kept = c > thr
        need = cap - int(np.count_nonzero(kept))
        if need > 0:  # fill up with keys tied at the threshold
            kept[np.flatnonzero(c == thr)[:need]] = True
        gone = live[~kept]
        alive = live[kept]
        self._slot = dict(zip(self._keys[alive].tolist(), alive.tolist(), strict=True))
        self._keys[gone] = None
        self.counts[gone] = _FREE
        self.errors[gone] = 0
        for name, arr in self.col.items():
            if name not in self._lazy:
                arr[gone] = None if arr.dtype == object else 0
        self._free.extend(gone.tolist())
        if thr > self._floor:
            self._floor = thr

    def _grow(self) -> list[int]:
        """More slots (a batch brought more new keys than the slack); returns the free list."""
        old = len(self.counts)
        extra = max(64, old // 2)
        self._keys = np.concatenate([self._keys, np.full(extra, None, dtype=object)])
        self.counts = np.concatenate([self.counts, np.full(extra, _FREE, dtype=np.int64)])
        self.errors = np.concatenate([self.errors, np.zeros(extra, dtype=np.int64)])
        for name, arr in self.col.items():
            self.col[name] = np.concatenate([arr, self._new_column(name, extra)])
        self._free.extend(range(old + extra - 1, old - 1, -1))
        return self._free

    # -- reading -------------------------------------------------------------------------------

    @property
    def floor(self) -> int:
        """Largest count ever evicted: the error bound for keys not monitored (0 = exact so far)."""
        return self._floor

    @property
    def total(self) -> int:
        """Sum of all weight ever added."""
        return self._total

    @property
    def error_bound(self) -> float:
        """The guaranteed worst case of ``floor``: ``total / (capacity + 1)``."""
        return self._total / (self.capacity + 1)

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, key: object) -> bool:
        return key in self._slot

    def __iter__(self) -> Iterator[K]:
        return iter(self._slot)

    def slot(self, key: K | None) -> int:
        """The slot of a monitored key, or 0 (the scratch slot) for None or an unmonitored key."""
        return self._slot.get(key, 0)  # type: ignore[arg-type]

    def slots(self, keys: Iterable[K | None]) -> list[int]:
        """``slot()`` of many keys."""
        get = self._slot.get
        return [get(k, 0) for k in keys]  # type: ignore[arg-type]

    def estimate(self, key: K) -> tuple[int, int]:
        """``(count, error)`` for any key; an unmonitored key is ``(floor, floor)``: 0..floor."""
        s = self._slot.get(key)
        if s is None:
            return self._floor, self._floor
        return int(self.counts[s]), int(self.errors[s])

    def top_slots(self, n: int, by: np.ndarray | None = None) -> list[tuple[K, int]]:
        """``[(key, slot), ...]`` of the ``n`` largest guaranteed counts (``count - error``), largest first.

        Ranked by what is certain, then by the estimate: a key seen once that inherited a large
        ``error`` never comes before a key with more requests for sure. ``by``: rank by this per-slot
        column instead (non-negative; then by the estimate).
        """
        n = min(n, len(self._slot))
        if n <= 0:
            return []
        counts = self.counts
        sure = counts - self.errors if by is None else np.where(counts == _FREE, -1, by)
        part = np.argpartition(sure, len(sure) - n)[len(sure) - n :]
        order = part[np.lexsort((part, -counts[part], -sure[part]))]  # ties: the larger estimate, then the older slot
        return list(zip(self._keys[order].tolist(), order.tolist(), strict=True))

    def top(self, n: int) -> list[tuple[K, int, int]]:
        """``[(key, count, error), ...]`` largest first; ``count - error <= true <= count``."""
        counts = self.counts
        errors = self.errors
        return [(k, int(counts[s]), int(errors[s])) for k, s in self.top_slots(n)]

    def items(self) -> Iterable[tuple[K, int]]:
        """All monitored keys with their slots, unordered."""
        return self._slot.items()
