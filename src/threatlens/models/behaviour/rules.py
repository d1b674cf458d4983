"""The detectors' evidence for one IP's burst (``Evidence``) and the rules that turn it into alerts."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from threatlens.models.behaviour.config import KINDS, BehaviourConfig

_MAX_SET = 512  #: distinct paths remembered per burst and kind (beyond that, counts only grow)
_MAX_EXAMPLES = 3
_MAX_AGENTS = 64
#: Bytes of a user-agent digest (``tracker.agent_digest``): 128 bits, so no two agents share one.
AGENT_DIGEST = 16
#: Verdict categories that mean an attack payload (not just an odd-looking request or agent).
PAYLOAD_CATEGORIES = frozenset(("sqli", "xss", "path_traversal", "cmd_injection", "file_inclusion",
                                "sensitive_file"))


def printable(text: str, limit: int = 80) -> str:
    """Log content made safe for a reason string: control characters escaped, length capped."""
    if len(text) > limit:
        text = text[:limit] + "…"
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


#: The empty container every ``Evidence`` field starts with (read-only and shared: most bursts never fill
#: most fields, and an empty set or dict per field and IP would cost more than the rest of the evidence).
_EMPTY: Mapping[Any, Any] = MappingProxyType({})


def _starts_empty() -> Any:
    """A dataclass field starting as ``_EMPTY`` (a mapping proxy is not allowed as a plain default)."""
    return field(default_factory=lambda: _EMPTY)


@dataclass(slots=True)
class Evidence:
    """What one IP did during one burst that a detector weighs (kept only for IPs that need it).

    The containers are shared read-only empties until the first item arrives (``put``, ``add_bounded``, ``count``).
    """

    burst: int
    missing: Mapping[str, float] = _starts_empty()  #: distinct 4xx path → weight
    missing_weight: float = 0.0
    missing_overflow: int = 0
    sensitive: Mapping[str, int] = _starts_empty()  #: distinct sensitive path → status
    admin: Mapping[str, None] = _starts_empty()  #: distinct admin/probe paths
    login: Mapping[str, int] = _starts_empty()  #: login endpoint → POSTs
    form: Mapping[str, int] = _starts_empty()  #: form endpoint → POSTs
    users: Mapping[str, None] = _starts_empty()  #: distinct account ids enumerated (``?author=N``)
    agents: bytes = b""  #: distinct user-agent digests end to end (``AGENT_DIGEST`` bytes each, ``_MAX_AGENTS``)
    bad_tool: str | None = None
    bad_tool_is_bot: bool = False  #: spam/harvester bot rather than an attack tool
    crawler_claims: int = 0
    interesting: int = 0
    flagged: int = 0
    payload_flagged: int = 0  #: flagged with a payload category (sqli, xss, traversal, injection ...)
    categories: Mapping[str, None] = _starts_empty()
    reasons: Mapping[str, None] = _starts_empty()
    alerted: Mapping[str, tuple[float, float]] = _starts_empty()  #: kind → (evidence, time)

    def _own(self, name: str) -> dict[Any, Any]:
        """The field ``name`` as this evidence's own dict (made on first write)."""
        got = getattr(self, name)
        if got is _EMPTY:
            got = {}
            setattr(self, name, got)
        return got

    def put(self, name: str, key: str, value: object = None) -> None:
        """``self.<name>[key] = value`` (no bound: the caller bounds it)."""
        self._own(name)[key] = value

    def add_bounded(self, name: str, key: str, value: object = None) -> None:
        """Insert ``key`` into the field ``name`` unless it holds ``_MAX_SET`` keys already."""
        if len(getattr(self, name)) < _MAX_SET:
            self._own(name)[key] = value

    def count(self, name: str, key: str, limit: int) -> None:
        """Add one to ``self.<name>[key]``; a new key only while fewer than ``limit`` are held."""
        got = getattr(self, name)
        if key in got or len(got) < limit:
            mine = self._own(name)
            mine[key] = mine.get(key, 0) + 1

    def add_agent(self, digest: bytes) -> None:
        """Remember one more distinct user-agent digest (bounded); a shorter one is its zero-padded form."""
        digest = digest.ljust(AGENT_DIGEST, b"\x00")  # numpy's bytes columns drop trailing zero bytes
        agents = self.agents
        size = len(agents)
        if size >= _MAX_AGENTS * AGENT_DIGEST or any(agents[i:i + AGENT_DIGEST] == digest
                                                      for i in range(0, size, AGENT_DIGEST)):
            return
        self.agents = agents + digest

    @property
    def n_agents(self) -> int:
        """How many distinct user agents were seen."""
        return len(self.agents) // AGENT_DIGEST


#: Secrets that are an attack to ask for even when the site answers them (the rest of the sensitive list
#: names files a site may really publish, such as ``access.log.gz`` on a log-analysis blog).
_HARD_SENSITIVE = re.compile(r"(?:^|/)(?:\.env|\.git|\.svn|\.hg|\.htpasswd|\.ssh|\.aws|\.docker|wp-config|"
                             r"id_[rd]sa|id_ecdsa|id_ed25519|\.bash_history|\.git-credentials|\.netrc|\.pgpass|"
                             r"\.my\.cnf|\.s3cfg|etc/(?:passwd|shadow)|proc/self/)", re.IGNORECASE)
#: A missing path weighing at least this is a probe for software or secrets, not missing content.
_PROBE_WEIGHT = 1.0


def hostile_sensitive(path: str, status: int) -> bool:
    """A sensitive-file request that counts as probing: a hard secret, or one the site did not serve (non-2xx)."""
    return not 200 <= status < 300 or _HARD_SENSITIVE.search(path) is not None


def strength(value: float, threshold: float, base: float = 0.6) -> float:
    """Alert score in [base, 0.99]: grows with how far past its threshold the evidence is."""
    ratio = max(value / threshold, 1.0) if threshold > 0 else 1.0
    return round(min(0.99, base + 0.12 * math.log2(ratio)), 3)


def examples(paths: object) -> str:
    """A few example paths for a reason string."""
    items = list(paths)[:_MAX_EXAMPLES]  # type: ignore[call-overload]
    return "e.g. " + ", ".join(printable(p, 60) for p in items)


def evaluate(ev: Evidence, counts: dict[str, float], cfg: BehaviourConfig) -> list[tuple[str, float, float,
                                                                                         tuple[str, ...]]]:
    """Return (kind, evidence value, score, reasons) for every rule the burst now satisfies.

    ``counts`` holds the burst's cumulative counters (``count``, ``n4xx``, ``nauth``, ...).
    """
    out: list[tuple[str, float, float, tuple[str, ...]]] = []
    total = max(counts["count"], 1.0)
    crawler_only = ev.interesting > 0 and ev.crawler_claims >= ev.interesting
    distinct_missing = len(ev.missing) + ev.missing_overflow
    ratio4 = counts["n4xx"] / total
    # scanning is asking for software, secrets or admin pages; missing content alone (stale links to
    # pages, archives, images) counts only when it is nearly all the client gets, or twice the weight
    probes_missing = sum(1 for w in ev.missing.values() if w >= _PROBE_WEIGHT)
    if (distinct_missing >= cfg.scan_min_distinct and ev.missing_weight >= cfg.scan_min_weight
            and (probes_missing >= 2 or ev.missing_weight >= 2 * cfg.scan_min_weight or ratio4 >= 0.9)
            and ratio4 >= cfg.scan_min_4xx_ratio and not crawler_only):
        top = sorted(ev.missing, key=ev.missing.__getitem__, reverse=True)
        out.append(("scanning", distinct_missing, strength(ev.missing_weight, cfg.scan_min_weight), (
            f"{distinct_missing} distinct missing paths (weight {ev.missing_weight:.1f})",
            f"4xx ratio {ratio4:.2f} of {int(total)} requests", examples(top))))
    hostile = [p for p, s in ev.sensitive.items() if hostile_sensitive(p, s)]
    if len(hostile) >= cfg.sensitive_min_distinct:
        served = [p for p in hostile if 200 <= ev.sensitive[p] < 300]
        reasons = [f"{len(hostile)} sensitive files requested", examples(hostile)]
        if served:
            reasons.append(f"{len(served)} answered 2xx: {examples(served)}")
        score = strength(len(hostile), cfg.sensitive_min_distinct, 0.75 if served else 0.65)
        out.append(("sensitive_file_probing", len(hostile), score, tuple(reasons)))
    if len(ev.admin) >= cfg.admin_min_distinct:
        out.append(("admin_probing", len(ev.admin), strength(len(ev.admin), cfg.admin_min_distinct), (
            f"{len(ev.admin)} admin panels or software probes not served here", examples(sorted(ev.admin)))))
    if ev.login:
        endpoint, posts = max(ev.login.items(), key=lambda kv: kv[1])
        if posts >= cfg.login_min_posts:
            out.append(("brute_force", posts, strength(posts, cfg.login_min_posts, 0.65), (
                f"{posts} POSTs to login endpoint {printable(endpoint, 60)}",)))
    auth = counts["nauth"]
    if auth >= cfg.auth_fail_min and auth / total >= cfg.auth_fail_min_ratio and not crawler_only:
        out.append(("brute_force", auth, strength(auth, cfg.auth_fail_min, 0.6), (
            f"{int(auth)} authentication failures (401, or 403 on login/admin)",)))
    if ev.form:
        endpoint, posts = max(ev.form.items(), key=lambda kv: kv[1])
        if posts >= cfg.form_min_posts:
            out.append(("form_spam", posts, strength(posts, cfg.form_min_posts), (
                f"{posts} POSTs to form {printable(endpoint, 60)}",)))
    if len(ev.users) >= cfg.enum_min_distinct:
        ids = sorted(ev.users, key=lambda u: (len(u), u))
        out.append(("user_enumeration", len(ev.users), strength(len(ev.users), cfg.enum_min_distinct, 0.65), (
            f"{len(ev.users)} user accounts enumerated (?author=N)", "e.g. author=" + ", ".join(ids[:5]))))
    n_agents = ev.n_agents
    if n_agents >= cfg.ua_min_distinct and n_agents / total >= cfg.ua_min_ratio:
        out.append(("user_agent_switching", n_agents, strength(n_agents, cfg.ua_min_distinct, 0.55), (
            f"{n_agents} distinct user agents in {int(total)} requests",)))
    if ev.bad_tool:
        what = "spam or harvester bot" if ev.bad_tool_is_bot else "attack tool"
        out.append(("bad_user_agent", 1, 0.65 if ev.bad_tool_is_bot else 0.8, (
            f"{what} user agent: {printable(ev.bad_tool, 40)}",)))
    # a real crawler follows links, including to files with sensitive-looking names the site serves:
    # only 4xx probes, hard secrets and attack payloads unmask a fake one
    if ev.crawler_claims and (hostile or ev.admin or ev.payload_flagged):
        what = examples(hostile + sorted(ev.admin))
        out.append(("fake_crawler", ev.crawler_claims, 0.8, (
            "claims to be a search-engine crawler but probes",
            what if what != "e.g. " else f"{ev.payload_flagged} requests flagged as attacks")))
    if ev.flagged >= cfg.attack_min_flagged:
        out.append(("repeated_attacks", ev.flagged, strength(ev.flagged, cfg.attack_min_flagged, 0.7), (
            f"{ev.flagged} flagged requests", *list(ev.reasons)[:3])))
    return out


def categories_for(kind: str, ev: Evidence | None) -> tuple[str, ...]:
    """The alert's categories: the kind's own, plus (for flagged-request kinds) the verdicts'."""
    cats = dict.fromkeys(KINDS.get(kind, ("other",)))
    if kind == "bad_user_agent" and ev is not None and ev.bad_tool_is_bot:
        return ("bad_bot",)
    if ev is not None and kind in ("repeated_attacks", "fake_crawler"):
        cats.update(ev.categories)
        if kind == "fake_crawler" and ev.sensitive:
            cats["sensitive_file"] = None
    return tuple(cats) or ("other",)


def should_emit(ev: Evidence, kind: str, value: float, now: float, cfg: BehaviourConfig) -> bool:
    """Once per burst and kind, or again when the evidence grew ``escalate_factor``x after the cooldown."""
    prev = ev.alerted.get(kind)
    if prev is not None and (value < prev[0] * cfg.escalate_factor or now - prev[1] < cfg.escalate_cooldown):
        return False
    ev.put("alerted", kind, (value, now))
    return True
