"""``CampaignTracker``: many IPs acting as one (worms, botnets), grouped into one ``campaign`` alert.

A per-IP detector sees a botnet as thousands of clients that each sent one or two requests: too
little for any of them to be an alert. Grouped by what they share, they are one finding:

* **Shared probe set** (``min_probe_ips``, default 5, within ``probe_window``, default 24 h): IPs
  with the same user agent whose evidence-carrying requests form the same set. Evidence is a
  request flagged as an attack (payload, probe or brute force: not merely "other", "bad_bot" or
  "dos"), or a 4xx answer for a probe, admin or sensitive path (or, from an odd agent, a script
  path). Probe targets are compared by their last path segment, so ``/wp-admin/`` and
  ``/blog/wp-admin/`` are one target (bots try every install prefix); payload requests by their
  whole path. A member must have come for the probes: at least half of its requests carry
  evidence, which keeps out browsers that hit one dead link while reading the site.
* **Odd-agent one-shot** (``min_oneshot_ips``, default 20, within ``oneshot_window``, default
  1 h): IPs that each sent at most ``oneshot_max_requests`` requests (over the last one to two
  ``probe_window`` periods), all the same request (method, path, query keys) with the same odd
  user agent: one that is neither browser-shaped, nor a known crawler, nor a service that names
  itself (a URL or e-mail address in the agent), nor a CDN, monitor or app HTTP library. A member
  counts once it has sent nothing more for ``oneshot_quiet`` (1 h): until then a fleet of pollers
  or cron jobs cannot be told from a worm. A ``304`` answer (the client had it cached) never joins.

A campaign alerts when it reaches its threshold, again when its IPs doubled, and once more with
its final tally when no new IP joined for an hour (six for probe sets). A log that ends never shows
that time passing: :meth:`CampaignTracker.flush` (at the end of a finished input, not while
following) judges every candidate as if it had — a one-shot member's last request is its last —
so a scan of a finished log reports the campaigns whose thresholds are met. The alert's ``ip`` is the
first member, ``members`` lists them (up to ``max_members``), ``count`` is their requests that
share the key, and its severity is ``attack`` for probes and payloads, else ``suspicious``.

The thresholds follow the evidence: five strangers agreeing on the same probes is already beyond
coincidence, while an innocent-looking request needs a crowd. Ordinary browsers never form a
campaign (their agents are browser-shaped and they fetch more than probes), nor do crawlers, feed
readers, monitors and CDNs (known or self-naming agents, and they come back).

Everything is judged in line order against earlier lines only, in log time, so alerts do not
depend on how the stream is cut into batches. Memory is bounded: ``max_keys`` keys,
``max_members`` IPs listed per key (further IPs are counted), ``max_ips`` per-IP states and
request counters (two generations of ``probe_window``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import numpy as np

from threatlens.models.behaviour.rules import printable, strength
from threatlens.models.behaviour.vocabulary import (
    ADMIN,
    BAD_BOT,
    BAD_TOOL,
    GOOD_CRAWLER,
    NO_AGENT,
    PROBE,
    SCRIPT,
    SENSITIVE,
    classify_agent,
    classify_path,
)
from threatlens.models.memo import epoch_seconds, lookup_many
from threatlens.models.verdict import ATTACK_CATEGORIES, Alert, Verdict
from threatlens.parsers.record import LogRecord

__all__ = ["CampaignConfig", "CampaignTracker", "agent_is_odd", "campaign_severity", "query_skeleton"]

_TIME, _IP, _STATUS, _AGENT = itemgetter(0), itemgetter(1), itemgetter(7), itemgetter(10)
_FLAGGED = itemgetter(1)
_CHECK_EVERY = 60.0  #: seconds of log time between checks of expiry and of quiet one-shot members
_CACHE_MAX = 100_000
_MAX_SET = 16  #: distinct probe targets an IP may have and still be a "probe set" member
_SHARED_MAX = 16_384  #: distinct agents and category tuples shared between keys
_SHOWN = 3  #: targets named in the reason
_HARD = PROBE | ADMIN | SENSITIVE

#: A browser's agent: ``Mozilla/x.0 (platform) Engine/...`` or an old Opera.
_BROWSER_RE = re.compile(r"^(?:Mozilla/[45]\.0 \([^)]*\).*(?:AppleWebKit/|Gecko/|Trident/|Presto/|KHTML)"
                         r"|Mozilla/[45]\.0 \(compatible; MSIE \d+\.\d+; Windows|Opera/\d)")
#: An agent that names its operator: a URL, a domain or an e-mail address.
_DECLARED_RE = re.compile(r"https?://|\bwww\.[a-z0-9-]+\.|[\w.+-]+@[\w-]+\.[a-z]{2,}", re.IGNORECASE)
#: CDNs, load-balancer health checks, monitors and mobile-app HTTP stacks: legitimate fleets of IPs.
_SERVICES = ("cloudfront", "cloudflare", "akamai", "fastly", "varnish", "edgecast", "bunnycdn", "keycdn",
             "stackpath", "cdn77", "sucuri", "incapsula", "squid", "healthcheck", "health-check",
             "health check", "elb-healthchecker", "kube-probe", "googlehc", "uptime", "monitor",
             "pingdom", "site24x7", "statuscake", "newrelic", "datadog", "nagios", "zabbix", "check_http",
             "prometheus", "blackbox", "cfnetwork/", "dalvik/", "okhttp/")


@dataclass(frozen=True, slots=True)
class CampaignConfig:
    """Thresholds of campaign detection (all windows in log time, seconds)."""

    probe_window: float = 86_400.0
    min_probe_ips: int = 5
    min_evidence_ratio: float = 0.5  #: share of a probe-set member's requests that carry evidence
    oneshot_window: float = 3_600.0
    oneshot_quiet: float = 3_600.0  #: a one-shot member counts once it has sent nothing more for this long
    min_oneshot_ips: int = 20
    oneshot_max_requests: int = 2
    growth: float = 2.0  #: re-alert when the campaign has this many times the IPs of its last alert
    max_keys: int = 50_000
    max_members: int = 4_096
    max_ips: int = 100_000


def campaign_severity(categories: Sequence[str]) -> str:
    """``attack`` when the shared requests are probes or payloads, else ``suspicious``."""
    return "suspicious" if ATTACK_CATEGORIES.isdisjoint(categories) else "attack"


def agent_is_odd(agent: str | None) -> bool:
    """True for an agent a fleet of ordinary clients would not share (see the module docstring)."""
    flags = classify_agent(agent)
    if flags & (NO_AGENT | BAD_TOOL | BAD_BOT):
        return True
    if flags & GOOD_CRAWLER or agent is None:
        return False
    if _BROWSER_RE.match(agent) or _DECLARED_RE.search(agent):
        return False
    low = agent.lower()
    return not any(s in low for s in _SERVICES)


def query_skeleton(query: str | None) -> str:
    """The query with its values dropped: ``a=1&b=x`` -> ``?a=&b=`` (``""`` without a query)."""
    if query is None:
        return ""
    parts = query.split("&", 10)[:10]
    return "?" + "&".join(p.partition("=")[0] + "=" if "=" in p else "" for p in parts)


def _probe_target(path: str) -> str:
    """The last segment of a probed path (with a dot-directory parent): ``/blog/wp-admin/`` -> ``…/wp-admin/``.

    ``/wp-admin/`` and ``/blog/wp-admin/`` are the same target: bots try every install prefix.
    """
    trail = "/" if path.endswith("/") and len(path) > 1 else ""
    segs = [s for s in path.split("/") if s]
    if not segs:
        return "/"
    tail = segs[-1]
    if len(segs) > 1 and segs[-2].startswith("."):
        tail = f"{segs[-2]}/{tail}"
    return "…/" + tail + trail


@dataclass(slots=True)
class _Key:
    """One candidate campaign: the IPs that share a probe set, or a one-shot request and agent."""

    oneshot: bool
    key: tuple  #: ``(agent, sorted targets)`` or ``(target, agent)``: what the members share
    members: dict[str, tuple[float, int]] = field(default_factory=dict)  #: ip -> (time, line) of its latest request
    overflow: int = 0  #: IPs beyond ``max_members`` (counted, not listed)
    categories: tuple[str, ...] = ()
    first: tuple[str, int, float] = ("", 0, math.nan)  #: file, line, time of the wave's first member request
    touched: float = -math.inf
    alerted: int = 0  #: IPs at the last alert (0: none yet in this wave)

    @property
    def what(self) -> str:
        """What the members share, for the alert's reason (made when an alert needs it, not per key)."""
        if self.oneshot:
            target, agent = self.key
            return f"{printable(target, 60)} with agent {_agent_text(agent)}"
        agent, shown = self.key
        more = f" +{len(shown) - _SHOWN} more" if len(shown) > _SHOWN else ""
        listed = ", ".join(printable(t, 50) for t in shown[:_SHOWN])
        return f"same probes ({listed}{more}) with agent {_agent_text(agent)}"


@dataclass(slots=True)
class _Ip:
    """One client's evidence in the current probe window."""

    agent: str
    targets: tuple[str, ...] = ()  #: sorted (at most ``_MAX_SET``)
    evidence: int = 0
    key: tuple | None = None
    broad: bool = False  #: too many distinct targets: a scanner, not a campaign member
    categories: tuple[str, ...] = ()
    last: float = -math.inf


class CampaignTracker:
    """Group evidence-carrying requests of many IPs into ``campaign`` alerts (see the module docstring)."""

    def __init__(self, config: CampaignConfig | None = None) -> None:
        self.config = config or CampaignConfig()
        #: candidate campaigns per kind, least recently touched first
        self._probe: dict[tuple, _Key] = {}
        self._oneshot: dict[tuple, _Key] = {}
        #: keys looked at on each periodic check: one-shot keys with enough members (waiting for them to
        #: stay quiet) and alerted keys (waiting to settle for their final tally)
        self._ripe: dict[tuple, _Key] = {}
        self._ips: dict[str, _Ip] = {}
        self._count: Counter[str] = Counter()  #: requests per IP, current generation
        self._count_prev: Counter[str] = Counter()
        self._generation = -math.inf  #: log time the current generation started
        self._agent_cache: dict[str | None, bool] = {}
        self._path_cache: dict[str, int] = {}
        #: one copy of each agent string and category tuple held by the keys and IPs (interned)
        self._shared: dict[Any, Any] = {}
        self._clock = -math.inf
        self._next_check = -math.inf
        self._saw_time = False

    def __len__(self) -> int:
        """Number of candidate campaigns held."""
        return len(self._probe) + len(self._oneshot)

    def observe(self, records: Sequence[LogRecord], verdicts: Sequence[Verdict]) -> list[Alert]:
        """Feed one batch (records with their verdicts, in line order); return the campaign alerts it raised."""
        n = len(records)
        if len(verdicts) != n:
            raise ValueError(f"{n} records but {len(verdicts)} verdicts")
        if not n:
            return []
        ips = list(map(_IP, records))
        odd = lookup_many(self._agent_cache, list(map(_AGENT, records)), agent_is_odd, _CACHE_MAX)
        status = np.array(list(map(_STATUS, records)), dtype=np.float64)
        judge = (np.array(odd, dtype=bool) | np.fromiter(map(_FLAGGED, verdicts), dtype=bool, count=n)
                 | ((status >= 400) & (status < 500)))
        ts = epoch_seconds(list(map(_TIME, records)))
        if not self._saw_time and not np.isnan(ts).all():
            self._saw_time = True
        # log time: the latest time seen so far, at every record (the same however the stream is cut)
        clock = np.fmax.accumulate(np.concatenate(([self._clock], ts)))[1:]
        ticks = self._ticks(clock)
        look = np.union1d(np.flatnonzero(judge), ticks) if ticks else np.flatnonzero(judge)
        alerts: list[Alert] = []
        done = 0
        count = self._count
        due = set(ticks)
        for i in look.tolist():
            count.update(ips[done:i + 1])  # every request up to this one is counted before it is judged
            done = i + 1
            now = float(clock[i])
            t = float(ts[i])
            alerts += self._tick(now, i in due)
            if judge[i]:
                alerts += self._judge(records[i], verdicts[i], odd[i], now if t != t else t)
        count.update(ips[done:])
        self._clock = float(clock[-1])
        return alerts

    def flush(self) -> list[Alert]:
        """The input ended for good: the alerts that were only waiting for more log time to pass.

        One-shot members waiting to stay quiet count (nothing more of theirs will come), and alerted
        campaigns that grew give their final tally. Members that left the window stay out.
        """
        if self._clock == -math.inf:
            return []
        alerts: list[Alert] = []
        for keys in (self._probe, self._oneshot):
            for k in list(keys.values()):
                alerts += self._check(k, self._clock, ended=True)
        self._ripe.clear()
        return alerts

    def _ticks(self, clock: np.ndarray) -> list[int]:
        """Records at which log time passes the next periodic check (expiry, quiet one-shot members)."""
        out = []
        nxt = self._next_check
        # records before the first time ever seen have no log time: no check there
        i = max(int(np.searchsorted(clock, nxt)), int(np.searchsorted(clock, -math.inf, side="right")))
        while i < len(clock):
            out.append(i)
            nxt = float(clock[i]) + _CHECK_EVERY
            i += 1 + int(np.searchsorted(clock[i + 1:], nxt))
        self._next_check = nxt
        return out

    # ---------------------------------------------------------------- one request
    def _judge(self, r: LogRecord, v: Verdict, odd: bool, ts: float) -> list[Alert]:
        if r.ip is None:
            return []
        evidence = self._evidence(r, v, odd)
        if evidence is not None:
            target, cats = evidence
            return self._add_evidence(r, ts, target, cats)
        if not odd or r.status == 304:  # a conditional GET: this client has been here before
            return []
        agent = self._same(r.user_agent or "")
        target = f"{r.method or '-'} {r.path or ''}{query_skeleton(r.query)}"
        key = (target, agent)
        k = self._oneshot.pop(key, None)
        if k is None:
            k = _Key(oneshot=True, key=key)
        self._store(self._oneshot, key, k)
        self._join(k, r, ts, ("bad_bot",))
        if len(k.members) + k.overflow >= self.config.min_oneshot_ips:
            self._ripe[key] = k
        return []

    def _evidence(self, r: LogRecord, v: Verdict, odd: bool) -> tuple[str, tuple[str, ...]] | None:
        """(target, categories) when the request carries evidence, else ``None``."""
        path = r.path or ""
        skel = query_skeleton(r.query)
        method = r.method or "-"
        st = r.status
        if st is not None and 400 <= st < 500:
            flags = self._path_cache.get(path)
            if flags is None:
                if len(self._path_cache) > _CACHE_MAX:
                    self._path_cache.clear()
                flags = self._path_cache[path] = classify_path(path)
            if flags & _HARD or (flags & SCRIPT and odd):
                cats = ("sensitive_file", "scanner") if flags & SENSITIVE else ("scanner",)
                if v.flagged:
                    cats = tuple(dict.fromkeys((*v.categories, *cats)))
                return f"{method} {_probe_target(path)}{skel}", cats
        if v.flagged and not ATTACK_CATEGORIES.isdisjoint(v.categories):  # a payload, probe or brute force, not "odd"
            return f"{method} {path}{skel}", v.categories
        return None

    def _add_evidence(self, r: LogRecord, ts: float, target: str, cats: tuple[str, ...]) -> list[Alert]:
        ip = r.ip or "-"
        agent = self._same(r.user_agent or "")
        state = self._ips.pop(ip, None)
        if state is None or state.agent != agent or ts - state.last > self.config.probe_window:
            if state is not None:
                self._leave(ip, state)
            state = _Ip(agent)
        self._ips[ip] = state  # most recently active last
        if len(self._ips) > self.config.max_ips:
            self._evict_ip()
        state.last = max(state.last, ts)
        state.evidence += 1
        state.categories = self._merged(state.categories, cats)
        if state.broad:
            return []
        if target in state.targets:
            k = self._probe.pop(state.key, None) if state.key is not None else None
            if k is not None:
                self._store(self._probe, state.key, k)  # type: ignore[arg-type]
                if ip in k.members:
                    k.members.pop(ip)
                    k.members[ip] = (ts, r.line)
                    k.touched = max(k.touched, ts)
            return []
        self._leave(ip, state)
        if len(state.targets) >= _MAX_SET:
            state.broad = True
            state.targets = ()
            return []
        state.targets = tuple(sorted((*state.targets, target)))
        key = (agent, state.targets)
        state.key = key
        k = self._probe.pop(key, None)
        if k is None:
            k = _Key(oneshot=False, key=key)
        self._store(self._probe, key, k)
        self._join(k, r, ts, state.categories)
        alerts = self._check(k, ts)
        if k.alerted:
            self._ripe[key] = k  # look again once it settles, for the final tally
        return alerts

    def _leave(self, ip: str, state: _Ip) -> None:
        if state.key is None:
            return
        k = self._probe.get(state.key)
        if k is not None and k.members.pop(ip, None) is not None and not k.members:
            k.overflow = k.alerted = 0
        state.key = None

    # ---------------------------------------------------------------- keys
    def _store(self, keys: dict[tuple, _Key], key: tuple, k: _Key) -> None:
        """(Re)insert ``k`` as the most recently touched key; forget the least recent one past the cap."""
        keys[key] = k
        if len(keys) > self.config.max_keys:
            old = next(iter(keys))
            del keys[old]
            self._ripe.pop(old, None)

    def _join(self, k: _Key, r: LogRecord, ts: float, cats: tuple[str, ...]) -> None:
        ip = r.ip or "-"
        if not k.members and not k.overflow:
            k.first = (r.file, r.line, ts)
            k.alerted = 0
        if ip in k.members:
            k.members.pop(ip)
            k.members[ip] = (ts, r.line)
        elif len(k.members) < self.config.max_members:
            k.members[ip] = (ts, r.line)
        else:
            k.overflow += 1
        k.touched = max(k.touched, ts)
        k.categories = self._merged(k.categories, cats)

    def _same(self, value: Any) -> Any:
        """The one copy of ``value`` kept in keys and states (bounded: then the sharing starts again)."""
        shared = self._shared
        if len(shared) > _SHARED_MAX:
            shared.clear()
        return shared.setdefault(value, value)

    def _merged(self, cats: tuple[str, ...], more: tuple[str, ...]) -> tuple[str, ...]:
        """``cats`` followed by the categories of ``more`` it lacks (order kept), shared."""
        if all(c in cats for c in more):
            return cats
        return self._same(tuple(dict.fromkeys((*cats, *more))))

    def _check(self, k: _Key, now: float, *, ended: bool = False) -> list[Alert]:
        """An alert when the key's valid members reach the threshold or doubled since the last alert.

        Also when they grew at all and the campaign has ended (no new member for an hour, six for
        probe sets, or ``ended``: the input is over): its final tally. IPs beyond the listing cap
        count in the proportion of listed members that are valid.
        """
        cfg = self.config
        need = cfg.min_oneshot_ips if k.oneshot else cfg.min_probe_ips
        settled = ended or now - k.touched >= self._settle(k)
        size = len(k.members) + k.overflow
        if size < need or (k.alerted and size < k.alerted * cfg.growth and not (settled and size > k.alerted)):
            return []
        valid = self._validate(k, now, ended=ended)
        if not valid:
            return []
        total = len(valid) + self._overflow(k, valid)
        if total < need or (k.alerted and total < k.alerted * cfg.growth and not (settled and total > k.alerted)):
            return []
        k.alerted = total
        return [self._alert(k, valid, now)]

    def _validate(self, k: _Key, now: float, *, ended: bool = False) -> list[str]:
        """Drop members that left the window or do not fit; return the members that count now, oldest first.

        One-shot members count once they have been quiet for ``oneshot_quiet`` (a client that comes
        back within it is no one-shot) or the input ``ended``; until then they wait in ``members``.
        """
        cfg = self.config
        quiet = cfg.oneshot_quiet if k.oneshot else 0.0
        window = self._window(k)
        members = k.members
        count, prev = self._count, self._count_prev
        bad = []
        valid = []
        for ip, (t, _line) in members.items():
            total = count[ip] + prev[ip]
            if now - t > window:
                bad.append(ip)
                k.overflow = 0  # uncounted IPs may have left too: count only the listed ones from now on
            elif k.oneshot:
                if total > cfg.oneshot_max_requests:
                    bad.append(ip)
                elif ended or now - t >= quiet:
                    valid.append(ip)
            else:
                state = self._ips.get(ip)
                if state is not None and state.evidence >= cfg.min_evidence_ratio * total:
                    valid.append(ip)
                else:
                    bad.append(ip)
        for ip in bad:
            del members[ip]
        return valid

    def _window(self, k: _Key) -> float:
        """How long a member counts after its latest request (a one-shot's window includes its quiet time)."""
        cfg = self.config
        return cfg.oneshot_window + cfg.oneshot_quiet if k.oneshot else cfg.probe_window

    def _settle(self, k: _Key) -> float:
        """No new member for this long: the campaign has ended (its members have not expired yet)."""
        cfg = self.config
        return cfg.oneshot_quiet if k.oneshot else cfg.probe_window / 4

    @staticmethod
    def _overflow(k: _Key, valid: list[str]) -> int:
        return round(k.overflow * len(valid) / max(len(k.members), 1))

    def _alert(self, k: _Key, members: list[str], now: float) -> Alert:
        cfg = self.config
        extra = self._overflow(k, members)
        n = len(members) + extra
        need = cfg.min_oneshot_ips if k.oneshot else cfg.min_probe_ips
        cats = tuple(c for c in k.categories if c != "other") or ("other",)
        severity = campaign_severity(cats)
        first_file, first_line, first_ts = k.first
        times = [k.members[ip] for ip in members]
        start = min(t for t, _ in times)
        end, last_line = max(times)
        if k.oneshot:
            count = sum(self._count[ip] + self._count_prev[ip] for ip in members)
        else:
            count = sum(s.evidence for ip in members if (s := self._ips.get(ip)) is not None)
        listed = f"{n} IPs" if not extra else f"{n} IPs ({len(members)} listed)"
        window = cfg.oneshot_window if k.oneshot else cfg.probe_window
        span = f"within {_duration(window)} (from {_clock(start)} to {_clock(end)})"
        if k.oneshot:
            span += f", each quiet for {_duration(cfg.oneshot_quiet)} since"
        return Alert(ip=members[0], kind="campaign", file=first_file, first_line=first_line, last_line=last_line,
                     events=count + extra, score=strength(n, need, 0.7 if severity == "attack" else 0.55),
                     reasons=(k.what, listed, span), categories=cats,
                     first_time=self._time(first_ts if first_ts <= start else start),
                     last_time=self._time(max(end, now) if k.oneshot else end), members=tuple(members),
                     severity=severity)

    # ---------------------------------------------------------------- time and memory
    def _tick(self, clock: float, check: bool) -> list[Alert]:
        """Log time at a looked-at record: rotate the request counters.

        On a periodic check also sweep stale state and look at the ripe keys.
        """
        cfg = self.config
        if clock - self._generation >= cfg.probe_window or len(self._count) > cfg.max_ips:
            self._count_prev = self._count
            self._count = Counter()
            self._generation = clock
        if not check:
            return []
        self._sweep(clock)
        alerts: list[Alert] = []
        for key, k in list(self._ripe.items()):
            alerts += self._check(k, clock)
            need = cfg.min_oneshot_ips if k.oneshot else cfg.min_probe_ips
            if len(k.members) + k.overflow < need or (k.alerted == len(k.members) + k.overflow
                                                      and clock - k.touched >= self._settle(k)):
                del self._ripe[key]
        return alerts

    def _sweep(self, now: float) -> None:
        cfg = self.config
        for keys in (self._probe, self._oneshot):
            for key, k in list(keys.items()):
                if now - k.touched <= self._window(k):
                    break
                del keys[key]
                self._ripe.pop(key, None)
        for ip, state in list(self._ips.items()):
            if now - state.last <= cfg.probe_window:
                break
            self._leave(ip, state)
            del self._ips[ip]

    def _evict_ip(self) -> None:
        ip, state = next(iter(self._ips.items()))
        self._leave(ip, state)
        del self._ips[ip]

    def _time(self, ts: float) -> datetime | None:
        return datetime.fromtimestamp(ts, UTC) if self._saw_time and ts == ts and ts > -math.inf else None


def _agent_text(agent: str) -> str:
    return f"'{printable(agent, 60)}'" if agent and agent != "-" else "(no user agent)"


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:.0f} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def _clock(ts: float) -> str:
    if ts != ts or ts == -math.inf:
        return "?"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")
