"""Counting distinct items per key in bounded memory: exact up to a cap, then HyperLogLog."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

_U = np.uint64


def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: full avalanche, so weak hashes (small ints) spread too."""
    h = h ^ (h >> _U(33))
    h = h * _U(0xFF51AFD7ED558CCD)
    h = h ^ (h >> _U(33))
    h = h * _U(0xC4CEB9FE1A85EC53)
    return h ^ (h >> _U(33))


def stable_hashes(items: Sequence[str]) -> np.ndarray:
    """64-bit hashes of strings, the same in every process and run (``hash`` is salted per process).

    Vectorised over the batch: the strings' UTF-32 code units, two per 64-bit word, are folded in
    by multiply and xor-shift (the caller finalises with :func:`_fmix64`); the zero padding of
    the shorter strings in a batch leaves their hashes alone, so a string hashes alike in any batch.
    """
    units = np.array(items, dtype=str)
    width = units.dtype.itemsize // 4
    if width % 2:
        units = units.astype(f"<U{width + 1}")
        width += 1
    words = units.view(np.uint64).reshape(len(units), width // 2) if width else np.zeros((len(units), 0), _U)
    h = np.full(len(units), 0x9E3779B97F4A7C15, dtype=_U)
    for j in range(words.shape[1]):
        w = words[:, j]
        mixed = (h ^ w) * _U(0x100000001B3)
        h = np.where(w != 0, mixed ^ (mixed >> _U(29)), h)  # padding past a string's end changes nothing
    return h.view(np.int64)


def _hashes(items: Iterable[int], count: int) -> np.ndarray:
    return _fmix64(np.fromiter(items, dtype=np.int64, count=count).view(np.uint64))


class DistinctCounters:
    """How many distinct items were added under each small-int key in ``[0, max_keys)``.

    Each key counts exactly, keeping the items' hashes, up to ``exact_cap`` distinct items; past
    that it switches to a HyperLogLog of ``2**precision`` one-byte registers (4 KiB at the default
    12): standard error ``1.04 / sqrt(2**precision)`` (1.6%), linear counting for small
    cardinalities. Memory per key is at most ``max(exact_cap * ~60 B, 2**precision B)``. Items are
    strings, hashed by :func:`stable_hashes` and finalised with MurmurHash3's mixer, so the same
    input gives the same estimates in every run and process. All keys' HyperLogLog updates of a
    batch are one vectorised numpy operation.
    """

    __slots__ = ("_cached", "_exact", "_hll_of", "_p", "_regs", "_row", "exact_cap", "max_keys")

    def __init__(self, exact_cap: int = 64, precision: int = 12, max_keys: int = 1024) -> None:
        if not 11 <= precision <= 16:  # rank via float64 frexp is exact for 64 - p <= 53 bits
            raise ValueError("precision must be between 11 and 16")
        self.exact_cap = exact_cap
        self._p = precision
        self._exact: dict[int, set[int]] = {}
        self._row: dict[int, int] = {}  # key -> row of _regs, once past the cap
        self._regs = np.zeros((0, 1 << precision), dtype=np.uint8)
        self._cached: dict[int, int] = {}
        self.max_keys = max_keys
        self._hll_of = np.full(max_keys, -1, dtype=np.intp)  # key -> row of _regs, or -1

    def add(self, key: int, item: str) -> None:
        """Add one item under ``key``."""
        self.update_pairs([key], [item])

    def update(self, groups: Mapping[int, Iterable[str]]) -> None:
        """Add items under their keys: ``{key: [item, ...], ...}``."""
        keys: list[int] = []
        items: list[str] = []
        for key, group in groups.items():
            before = len(items)
            items.extend(group)
            keys.extend([key] * (len(items) - before))
        self.update_pairs(keys, items)

    def update_pairs(self, keys: Sequence[int], items: Sequence[str]) -> None:
        """Add ``items[i]`` under ``keys[i]`` (parallel sequences); vectorised past the cap."""
        n = len(items)
        if not n:
            return
        karr = np.fromiter(keys, dtype=np.intp, count=n)
        if karr.min() < 0 or karr.max() >= self.max_keys:
            raise ValueError(f"keys must be within [0, {self.max_keys})")
        hashes = stable_hashes(items)
        cached = self._cached
        if cached:
            for key in set(keys):
                cached.pop(key, None)
        rows = self._hll_of[karr]
        in_hll = rows >= 0
        if in_hll.any():
            self._add_hashes(rows[in_hll], _fmix64(hashes[in_hll].view(np.uint64)))
        if in_hll.all():
            return
        exact = self._exact
        late_rows: list[int] = []
        late_hashes: list[int] = []
        rest = np.flatnonzero(~in_hll)
        for key, h in zip(karr[rest].tolist(), hashes[rest].tolist(), strict=True):
            r = int(self._hll_of[key])
            if r >= 0:  # switched earlier in this loop
                late_rows.append(r)
                late_hashes.append(h)
                continue
            s = exact.get(key)
            if s is None:
                s = exact[key] = set()
            s.add(h)
            if len(s) > self.exact_cap:
                r = self._switch(key)
                late_rows.extend([r] * len(s))
                late_hashes.extend(s)
                del exact[key]
        if late_hashes:
            self._add_hashes(np.array(late_rows, dtype=np.intp), _hashes(late_hashes, len(late_hashes)))

    def _switch(self, key: int) -> int:
        r = self._row[key] = len(self._row)
        self._hll_of[key] = r
        if r >= len(self._regs):
            grow = np.zeros((max(4, len(self._regs)), self._regs.shape[1]), dtype=np.uint8)
            self._regs = np.concatenate([self._regs, grow])
        return r

    def _add_hashes(self, rows: np.ndarray, h: np.ndarray) -> None:
        p = self._p
        m = 1 << p
        idx = (h >> _U(64 - p)).astype(np.intp)
        rest = h & _U((1 << (64 - p)) - 1)
        bitlen = np.frexp(rest.astype(np.float64))[1]  # exact: rest < 2**53
        rank = ((64 - p) - bitlen + 1).astype(np.uint8)
        np.maximum.at(self._regs.reshape(-1), rows * m + idx, rank)

    def exact(self, key: int) -> bool:
        """True while ``key``'s count is exact (at most ``exact_cap`` distinct items)."""
        return key not in self._row

    def count(self, key: int) -> int:
        """Distinct items under ``key`` (exact up to the cap, estimated above); cached between adds."""
        got = self._cached.get(key)
        if got is not None:
            return got
        r = self._row.get(key)
        if r is None:
            got = len(self._exact.get(key, ()))
        else:
            regs = self._regs[r]
            m = len(regs)
            alpha = 0.7213 / (1 + 1.079 / m)
            raw = alpha * m * m / float(np.ldexp(1.0, -regs.astype(np.int32)).sum())
            zeros = int(np.count_nonzero(regs == 0))
            got = round(m * math.log(m / zeros) if raw <= 2.5 * m and zeros else raw)
        self._cached[key] = got
        return got
