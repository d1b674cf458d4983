"""What detection says about a request (``Verdict``) and about a client (``Alert``).

Both carry a ``severity`` tier, so a sysadmin can act on what matters first:

* ``attack``: payloads, probes for software or files, brute force, attack tools;
* ``suspicious``: weak or indirect evidence (an odd request the model dislikes, a protocol oddity, behaviour
  far from the site's normal);
* ``nuisance``: bad bots, floods, user-agent switching, spam: costs bandwidth, rarely a break-in.

An unflagged verdict has severity ``""``.
"""

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


#: Severity tiers, most serious first.
SEVERITIES: tuple[str, ...] = ("attack", "suspicious", "nuisance")
#: Rank of each tier (higher is more serious); ``""`` (not flagged) ranks lowest.
SEVERITY_RANK: dict[str, int] = {"attack": 3, "suspicious": 2, "nuisance": 1, "": 0}
#: Categories that make a flagged request or an alert an ``attack``.
ATTACK_CATEGORIES = frozenset(("sqli", "xss", "path_traversal", "cmd_injection", "file_inclusion",
                               "sensitive_file", "scanner", "brute_force"))
#: Categories that, alone, make it a ``nuisance``.
NUISANCE_CATEGORIES = frozenset(("bad_bot", "dos"))
#: Alert kinds whose tier does not depend on their categories.
KIND_SEVERITY: dict[str, str] = {
    "scanning": "attack",
    "sensitive_file_probing": "attack",
    "admin_probing": "attack",
    "brute_force": "attack",
    "user_enumeration": "attack",
    "fake_crawler": "attack",
    "form_spam": "nuisance",
    "crawl_flood": "nuisance",
    "user_agent_switching": "nuisance",
    "anomalous_behaviour": "suspicious",
}


def severity_of(categories: tuple[str, ...] | list[str], flagged: bool = True) -> str:
    """The tier of a flagged verdict with these categories (``""`` when not flagged)."""
    if not flagged:
        return ""
    if not ATTACK_CATEGORIES.isdisjoint(categories):
        return "attack"
    if categories and NUISANCE_CATEGORIES.issuperset(categories):
        return "nuisance"
    return "suspicious"


def alert_severity(kind: str, categories: tuple[str, ...] | list[str]) -> str:
    """The tier of an alert of ``kind``; kinds without a fixed tier take it from their categories."""
    fixed = KIND_SEVERITY.get(kind)
    return fixed if fixed is not None else severity_of(categories)


def at_least(severity: str, minimum: str) -> bool:
    """True when ``severity`` is ``minimum`` or more serious."""
    return SEVERITY_RANK.get(severity, 0) >= SEVERITY_RANK.get(minimum, 0)


class Verdict(NamedTuple):
    """The per-request result: risk score in [0, 1] with its evidence."""

    score: float
    flagged: bool
    categories: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    possibly_succeeded: bool = False
    severity: str = ""  #: ``attack``, ``suspicious`` or ``nuisance`` when flagged, else ``""``


class Alert(NamedTuple):
    """A behaviour detection about one client IP, emitted once per burst."""

    ip: str
    kind: str
    file: str
    first_line: int
    last_line: int
    events: int  #: requests (or packets, probes) behind the alert; ``count`` would hide ``tuple.count``
    score: float
    reasons: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    first_time: datetime | None = None
    last_time: datetime | None = None
    severity: str = "suspicious"  #: ``attack``, ``suspicious`` or ``nuisance``
    members: tuple[str, ...] = ()  #: a ``campaign``'s member IPs (``ip`` is the first); empty otherwise
