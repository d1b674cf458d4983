"""What this site serves, learnt from its own log as it streams.

A request for ``/wp-login.php`` is routine on a WordPress site and a probe everywhere else; only
the site's own answers tell them apart. :class:`SiteContext` keeps, per path, how often the server
answered with a success (2xx/3xx) or an error (4xx), and the running mean and spread of response
sizes of successful answers (to spot an answer unusual for its path). Memory is bounded: past
``max_paths`` paths the oldest quarter is forgotten.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

from threatlens.parsers.record import LogRecord

#: Default number of distinct paths remembered.
MAX_PATHS = 100_000


class _Answer(NamedTuple):
    """The three fields of a record that the site context reads."""

    path: str | None
    status: int | None
    bytes: int | None


class SiteContext:
    """Bounded per-path statistics of the server's answers."""

    __slots__ = ("_paths", "max_paths", "observed")

    def __init__(self, max_paths: int = MAX_PATHS) -> None:
        self.max_paths = max_paths
        #: path -> [successes, errors, size count, size mean, size M2]
        self._paths: dict[str, list[float]] = {}
        self.observed = 0

    def paths_get(self, path: str | None) -> list[float] | None:
        """The raw statistics row of ``path`` (successes first), or ``None``."""
        return self._paths.get(path) if path is not None else None

    def __len__(self) -> int:
        return len(self._paths)

    def observe(self, path: str | None, status: int | None, size: int | None) -> None:
        """Record one answer of the server."""
        self.observe_batch((_Answer(path, status, size),))  # type: ignore[arg-type]

    def observe_batch(self, records: Iterable[LogRecord]) -> None:
        """Record the answers of a batch of records (same as :meth:`observe` on each, faster)."""
        paths = self._paths
        get = paths.get
        n = 0
        for r in records:
            path = r.path
            status = r.status
            if path is None or status is None:
                continue
            n += 1
            st = get(path)
            if st is None:
                if len(paths) >= self.max_paths:
                    self._forget()
                st = paths[path] = [0, 0, 0, 0.0, 0.0]
            if 200 <= status < 400:
                st[0] += 1
                if status < 300:
                    size = r.bytes
                    if size is not None:
                        c = st[2] + 1
                        delta = size - st[3]
                        st[2] = c
                        st[3] += delta / c
                        st[4] += delta * (size - st[3])
            elif status < 500:
                st[1] += 1
        self.observed += n

    def _forget(self) -> None:
        drop = max(1, self.max_paths // 4)
        paths = self._paths
        for key in list(paths)[:drop]:
            del paths[key]

    def serves(self, path: str | None, *, before: int = 0) -> bool:
        """True once the site answered ``path`` with 2xx/3xx more than ``before`` times."""
        st = self._paths.get(path) if path is not None else None
        return st is not None and st[0] > before

    def errors(self, path: str | None) -> int:
        """How many 4xx answers ``path`` got."""
        st = self._paths.get(path) if path is not None else None
        return int(st[1]) if st is not None else 0

    def unusual_size(self, path: str | None, size: int | None, *, min_count: int = 5, z: float = 4.0) -> bool:
        """True when ``size`` is far from the usual successful answer size for ``path``."""
        if path is None or size is None:
            return False
        st = self._paths.get(path)
        if st is None or st[2] < min_count:
            return False
        mean = st[3]
        std = math.sqrt(st[4] / (st[2] - 1)) if st[2] > 1 else 0.0
        return abs(size - mean) > max(z * std, 0.5 * mean, 512.0)
