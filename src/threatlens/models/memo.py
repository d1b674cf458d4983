"""Converting columns of a batch once per distinct value: bounded memo tables, shared timestamps."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

import numpy as np

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def lookup_many(cache: dict[K, V], keys: list[K], compute: Callable[[K], V], limit: int) -> list[V]:
    """``[cache[k] for k in keys]``, computing and storing missing values; the table is cleared past ``limit``.

    A dict hit on a string is the cheapest lookup there is (its hash is cached), so a batch of mostly
    repeated strings costs one ``map`` over the table.
    """
    got = list(map(cache.get, keys))
    if None in got:
        if len(cache) > limit:
            cache.clear()
        for j, v in enumerate(got):
            if v is None:
                k = keys[j]
                got[j] = cache[k] = compute(k)
    return got  # type: ignore[return-value]


def epoch_seconds(times: Sequence[object]) -> np.ndarray:
    """Seconds since the epoch per item (NaN for ``None`` or anything without ``timestamp()``).

    Parsers share one ``datetime`` object per distinct timestamp, so each distinct object is
    converted once.
    """
    n = len(times)
    if n == 0:
        return np.zeros(0, dtype=np.float64)
    _, first, codes = np.unique(np.fromiter(map(id, times), dtype=np.uint64, count=n), return_index=True,
                                return_inverse=True)
    return np.array([_seconds(times[i]) for i in first.tolist()], dtype=np.float64)[codes.ravel()]


def _seconds(value: object) -> float:
    try:
        return value.timestamp()  # type: ignore[attr-defined]
    except AttributeError:
        return math.nan
