"""Combined-format lines of unique content: every line a new client IP and a random path (the memory worst case).

Used by ``bench/memory.py`` for the 1M-IP scan and the ``--follow`` soak. Line ``i`` gets the IP
``ip_of(i)`` (distinct for the first 2**24 * 50 lines), a random path under a few top directories
(three in ten with a random query), a status from a realistic mix (2xx, 3xx, 404s) and a browser agent.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

#: Log time between lines: 1M lines span about 33 minutes, inside the trackers' one-hour idle expiry.
STEP_S = 0.002
T0 = datetime(2026, 11, 1, tzinfo=UTC)
DIRS = ("/p/", "/img/", "/api/v1/items/", "/blog/", "/static/js/", "/search", "/wp-content/uploads/")
EXTS = ("", ".html", ".png", ".js", ".php", "/")
STATUSES = (200, 200, 200, 200, 200, 200, 304, 301, 404, 404, 403, 500)
AGENTS = tuple(
    f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{100 + i}.0.{i * 7}.1 "
    "Safari/537.36" for i in range(40)
)


def ip_of(i: int) -> str:
    """A public IPv4 address, distinct for every ``i`` below 50 * 2**24."""
    v = (i * 2654435761) & 0xFFFFFF
    return f"{20 + i // 0x1000000 % 50}.{v >> 16}.{(v >> 8) & 255}.{v & 255}"


#: Distinct paths of a site (``site_paths``): what a real site serves is bounded even when its clients are not.
SITE_PATHS = 5_000


def lines(start: int, n: int, seed: int = 11, *, site_paths: bool = False) -> list[str]:
    """Lines ``start`` .. ``start + n`` of the log (deterministic for a seed).

    ``site_paths``: every line still a new client IP, but the path (and query) one of ``SITE_PATHS`` a site
    serves: the per-IP tables fill to their caps while path tables and caches stay warm, as on a real site
    under a flood of distinct clients; per line it costs what a real site's line costs, not a new path's.
    """
    rng = np.random.default_rng([seed, start])
    words = rng.integers(0, 2**40, size=(n, 2)).tolist()
    dirs = rng.integers(0, len(DIRS), size=n).tolist()
    exts = rng.integers(0, len(EXTS), size=n).tolist()
    statuses = rng.integers(0, len(STATUSES), size=n).tolist()
    agents = rng.integers(0, len(AGENTS), size=n).tolist()
    sizes = rng.integers(0, 60_000, size=n).tolist()
    out = []
    stamp = ""
    last_sec = -1
    for j in range(n):
        i = start + j
        sec = int(i * STEP_S)
        if sec != last_sec:
            stamp = (T0 + timedelta(seconds=sec)).strftime("%d/%b/%Y:%H:%M:%S +0000")
            last_sec = sec
        a, b = words[j]
        if site_paths:
            a = a % SITE_PATHS
            b = a * 7919 + b % 10  # the query (3 in 10 lines) belongs to the path: one URL per path and query
        d, e = (a % len(DIRS), a // len(DIRS) % len(EXTS)) if site_paths else (dirs[j], exts[j])
        path = f"{DIRS[d]}{a:x}{EXTS[e]}"
        if b % 10 < 3:
            path += f"?q={b:x}&page={b % 97}"
        status = STATUSES[statuses[j]]
        size = 0 if status in (304, 301) else sizes[j]
        out.append(f'{ip_of(i)} - - [{stamp}] "GET {path} HTTP/1.1" {status} {size} "-" "{AGENTS[agents[j]]}"\n')
    return out


def write(path: Path, total: int, *, chunk: int = 50_000) -> Path:
    """Write ``total`` lines to ``path`` (kept if it already has that many)."""
    if path.exists() and sum(1 for _ in path.open("rb")) == total:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        for start in range(0, total, chunk):
            f.writelines(lines(start, min(chunk, total - start)))
    return path
