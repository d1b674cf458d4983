"""What detection says about a request (``Verdict``) and about a client (``Alert``)."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

#: The fixed vocabulary of categories a verdict or alert may carry.
CATEGORIES: tuple[str, ...] = (
    "sqli",
    "xss",
    "path_traversal",
    "cmd_injection",
    "file_inclusion",
    "sensitive_file",
    "scanner",
    "bad_bot",
    "brute_force",
    "dos",
    "protocol_abuse",
    "other",
)


class Verdict(NamedTuple):
    """The per-request result: risk score in [0, 1] with its evidence."""

    score: float
    flagged: bool
    categories: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    possibly_succeeded: bool = False


class Alert(NamedTuple):
    """A behaviour detection about one client IP, emitted once per burst."""

    ip: str
    kind: str
    file: str
    first_line: int
    last_line: int
    count: int
    score: float
    reasons: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    first_time: datetime | None = None
    last_time: datetime | None = None
    members: tuple[str, ...] = ()  #: a ``campaign``'s member IPs (``ip`` is the first); empty otherwise
