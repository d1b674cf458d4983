"""Seeded generator of realistic access logs with ground truth, for samples, tests and benchmarks.

A small shop with a blog gets browsing sessions from a few hundred IPv4/IPv6 clients, search
crawlers, uptime monitors, and a few percent of attack traffic in time-clustered episodes
(scanners, SQLi, XSS, traversal, command injection, brute force, a bad-bot burst, a
UA-switching client). The same seed and parameters always give the same lines.

Use :func:`generate` for lines, :func:`write_sample` for a file plus labels, :func:`live_lines`
for a paced replay with current timestamps, or ``python -m threatlens.samplegen --help``.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timezone
from pathlib import Path
from typing import IO

from threatlens.samplegen.events import Event, Request
from threatlens.samplegen.formats import ALIASES, FORMATS, make_formatter, parse_tz
from threatlens.samplegen.traffic import ATTACK_KINDS, BENIGN_ROLES, Traffic

__all__ = [
    "ALIASES",
    "ATTACK_KINDS",
    "BENIGN_ROLES",
    "DEFAULT_START",
    "FORMATS",
    "Event",
    "Request",
    "Traffic",
    "generate",
    "live_lines",
    "make_formatter",
    "parse_tz",
    "write_sample",
]

#: Start of the bundled samples' timeline.
DEFAULT_START = datetime(2026, 3, 14, 6, 0, 0, tzinfo=UTC)


def _tz_of(start: datetime, tz: timezone | None) -> timezone:
    if tz is not None:
        return tz
    offset = start.utcoffset()
    return UTC if offset is None else timezone(offset)


def generate(
    n_lines: int,
    fmt: str = "combined",
    seed: int = 0,
    start: datetime = DEFAULT_START,
    rate: float = 2.0,
    *,
    attack_share: float = 0.05,
    tz: timezone | None = None,
    traffic: Traffic | None = None,
) -> Iterator[str]:
    """Yield ``n_lines`` log lines (no newline) in time order, ``rate`` lines/s on average.

    Pass your own ``traffic`` (a :class:`Traffic`) to read its ``labels`` afterwards; its seed,
    rate and share then win over the arguments here.
    """
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    sim = traffic if traffic is not None else Traffic(seed, rate, attack_share)
    render = make_formatter(fmt, _tz_of(start, tz))
    t0 = start.timestamp()
    for ev in sim.events(n_lines):
        yield render(ev.ip, ev.request, t0 + ev.t)


def _ip_key(ip: str) -> tuple[int, int]:
    addr = ipaddress.ip_address(ip)
    return addr.version, int(addr)


def write_sample(
    out: str | Path | IO[str],
    n_lines: int,
    fmt: str = "combined",
    seed: int = 0,
    start: datetime = DEFAULT_START,
    rate: float = 2.0,
    *,
    attack_share: float = 0.05,
    tz: timezone | None = None,
    labels_path: str | Path | None = None,
    line_labels_path: str | Path | None = None,
) -> dict[str, int]:
    """Write a sample log (and optional ground truth); return line counts per role.

    ``labels_path`` gets ``ip<TAB>role`` for every IP in the log (role: benign, crawler, monitor
    or ``attacker:<kind>``). ``line_labels_path`` gets a header and ``line<TAB>ip<TAB>role<TAB>category``
    per line, category being the attack category of that request or ``-``.
    """
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    sim = Traffic(seed, rate, attack_share)
    render = make_formatter(fmt, _tz_of(start, tz))
    t0 = start.timestamp()
    counts: dict[str, int] = {}
    seen: dict[str, str] = {}
    line_rows: list[str] | None = [] if line_labels_path is not None else None
    own = isinstance(out, str | Path)
    fh: IO[str] = open(out, "w", encoding="utf-8", newline="\n") if isinstance(out, str | Path) else out  # noqa: SIM115
    try:
        batch: list[str] = []
        for n, ev in enumerate(sim.events(n_lines), 1):
            batch.append(render(ev.ip, ev.request, t0 + ev.t))
            counts[ev.role] = counts.get(ev.role, 0) + 1
            seen[ev.ip] = ev.role
            if line_rows is not None:
                line_rows.append(f"{n}\t{ev.ip}\t{ev.role}\t{ev.category or '-'}")
            if len(batch) >= 4096:
                fh.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            fh.write("\n".join(batch) + "\n")
    finally:
        if own:
            fh.close()
    if labels_path is not None:
        rows = [f"{ip}\t{role}" for ip, role in sorted(seen.items(), key=lambda kv: _ip_key(kv[0]))]
        Path(labels_path).write_text("\n".join(rows) + "\n", encoding="utf-8")
    if line_labels_path is not None and line_rows is not None:
        Path(line_labels_path).write_text(
            "line\tip\trole\tcategory\n" + "\n".join(line_rows) + "\n", encoding="utf-8"
        )
    return counts


def live_lines(
    seed: int = 0,
    fmt: str = "combined",
    rate: float = 5.0,
    *,
    speed: float = 1.0,
    attack_share: float = 0.05,
    tz: timezone | None = None,
    n_lines: int | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] | None = time.sleep,
) -> Iterator[str]:
    """Yield lines stamped with the current time, paced in real time (``speed`` times faster).

    Endless unless ``n_lines`` is given. The first attack episode starts within the first few
    percent of the first 5,000 lines' span, so a demo shows one early. ``sleep=None`` yields
    without waiting (timestamps still follow the simulated pace from ``clock()``).
    """
    if speed <= 0:
        raise ValueError("speed must be positive")
    zone = tz if tz is not None else timezone(datetime.now().astimezone().utcoffset() or UTC.utcoffset(None))
    render = make_formatter(fmt, zone)
    t0 = clock()
    for ev in Traffic(seed, rate, attack_share).events(n_lines):
        due = t0 + ev.t / speed
        if sleep is not None:
            delay = due - clock()
            if delay > 0:
                sleep(delay)
        yield render(ev.ip, ev.request, due)
