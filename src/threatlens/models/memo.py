"""Bounded memo tables for classifying many repeated strings (paths, user agents) per batch."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

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
