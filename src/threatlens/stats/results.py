"""What ``Stats`` answers: plain, immutable result rows (no behaviour)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from threatlens.models.verdict import Alert, Verdict
from threatlens.parsers.record import LogRecord

__all__ = [
    "PORTS_APACHE_LINE",
    "PORTS_HINT",
    "PORTS_NGINX_LINE",
    "AlertEntry",
    "CountryRow",
    "FlaggedRequest",
    "IPDetail",
    "IPRow",
    "KeyCount",
    "PortRow",
    "Rates",
    "Totals",
]

#: The Apache and nginx config lines that log the server port (each a whole line to copy into the config).
PORTS_APACHE_LINE = ('LogFormat "%v:%p %h %l %u %t \\"%r\\" %>s %O \\"%{Referer}i\\" \\"%{User-Agent}i\\"" '
                     "vhost_combined")
PORTS_NGINX_LINE = ("log_format ports '$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
                    "\"$http_referer\" \"$http_user_agent\" $server_port';")
#: Shown instead of an empty port table when the log has no server port.
PORTS_HINT = (
    "This log has no server port. Apache: add %p to the LogFormat, as in the stock vhost_combined "
    f"format: {PORTS_APACHE_LINE}. nginx: add $server_port to the log_format, e.g. {PORTS_NGINX_LINE} "
    "(then access_log ... ports;)."
)


class Totals(NamedTuple):
    """Exact totals since the start; ``flagged`` at the current threshold (see ``Stats.recount``).

    ``lines = parsed + packets + unparsed``: ``parsed`` counts requests (``parsed = scored +
    unscored``), ``packets`` firewall records; ``possibly_succeeded`` counts flagged requests marked so.
    """

    lines: int
    parsed: int
    unparsed: int
    unparsed_by_reason: dict[str, int]
    scored: int
    unscored: int
    flagged: int
    alerts: int
    possibly_succeeded: int
    threshold: float | None
    packets: int = 0


class Rates(NamedTuple):
    """Per-second means over the last 1, 10 and 60 complete seconds of ingestion."""

    requests_1s: float
    requests_10s: float
    requests_60s: float
    flagged_1s: float
    flagged_10s: float
    flagged_60s: float
    alerts_60s: float


class KeyCount(NamedTuple):
    """One row of a simple top table: ``requests - error <= true count <= requests``."""

    key: Any
    requests: int
    error: int


class PortRow(NamedTuple):
    """A server port: requests (with the sketch error) and flagged requests."""

    port: int
    requests: int
    error: int
    flagged: int


class CountryRow(NamedTuple):
    """A country (or ``private``/``reserved``, or None for unknown) and its traffic."""

    code: str | None
    label: str
    requests: int
    flagged: int
    distinct_ips: int
    distinct_exact: bool


class IPRow(NamedTuple):
    """A client IP in a top table.

    ``requests`` is an upper bound, ``requests - error`` a lower bound. The other counters (and
    first seen) count from when the IP entered the table: exact when ``error == 0``. Times are
    log times of the first and latest ingested requests. ``categories`` is most frequent first.
    ``severity`` is the most serious tier among its flagged requests and alerts (``""``: none).
    """

    ip: str
    requests: int
    error: int
    flagged: int
    max_score: float
    status_4xx: int
    status_5xx: int
    bytes: int
    country: str | None
    first_seen: datetime | None
    last_seen: datetime | None
    categories: tuple[str, ...]
    alerts: int
    possibly_succeeded: int
    severity: str = ""


class FlaggedRequest(NamedTuple):
    """A flagged request kept in the ring (``Stats.flagged_ring``)."""

    record: LogRecord
    verdict: Verdict
    country: str | None


class AlertEntry(NamedTuple):
    """An alert kept in the ring (``Stats.alert_ring``)."""

    alert: Alert
    country: str | None


@dataclass(frozen=True)
class IPDetail:
    """Everything retained about one client IP, for the drill-down screen.

    ``requests`` are its retained requests in log-time order, newest first (``ip_history`` at most);
    ``status_mix``, ``paths`` (most frequent first) and ``user_agents`` (in order of first use, so
    switching shows) are computed over them (the IP screen draws its own timeline from ``requests``).
    ``row`` has the IP's table counters when it is in a table.
    """

    ip: str
    country: str | None
    row: IPRow | None
    requests: list[tuple[LogRecord, Verdict | None]]
    alerts: list[Alert]
    status_mix: dict[int | None, int]
    paths: list[tuple[str, int]]
    user_agents: list[tuple[str, int]]


def count_text(count: int, error: int, number: Callable[[int], str] = "{:,}".format) -> str:
    """A table count as it is known: ``1,234`` when exact, ``3-250`` when only ``count - error`` is sure.

    Space-Saving counts of keys that entered the table late carry an ``error``: the true count is
    between ``count - error`` and ``count``. A sysadmin must not read the estimate as a fact.
    """
    if not error:
        return number(count)
    return f"{number(max(0, count - error))}-{number(count)}"
