"""What the monitor shows, kept up to date batch by batch (pure Python: no Textual here).

``LiveStats`` is handed to the :class:`~threatlens.pipeline.Pipeline` as its ``stats`` object: the
ingest thread calls :meth:`LiveStats.update` under :attr:`LiveStats.lock`, and the UI takes small
immutable snapshots (:meth:`dashboard`, :meth:`ip_snapshot`) under the same lock at 1-4 Hz.

Memory is bounded: client IPs live in a Space-Saving sketch (``TopK``), per-IP detail in an LRU of
capped histories, requests and alerts in rings that count what they drop. Flag counts keep a score
histogram per row, so raising or lowering the threshold re-evaluates every count exactly. The ``/``
filter is applied to every panel: setting one rebuilds a filtered aggregate from the retained
requests (the newest ``recent_size``) and keeps it updated with each batch.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from threatlens.models.verdict import Alert, Verdict
from threatlens.parsers.record import LogRecord, Unparsed
from threatlens.stats.filter import RecordFilter
from threatlens.stats.rates import RateMeter
from threatlens.stats.ring import Ring
from threatlens.stats.scores import SCORE_BINS, score_bin, threshold_bin

__all__ = ["AlertRow", "DashboardData", "IpSnapshot", "LiveStats", "RequestRow", "TableRow", "score_band"]

#: Requests scoring below this are not kept in the suspicious ring (the threshold cannot go lower).
MIN_THRESHOLD = 0.05
Country = Callable[[str | None], str | None]


def score_band(score: float | None, threshold: float) -> str:
    """``"high"``, ``"flagged"``, ``"elevated"``, ``"low"`` or ``"none"``: colour meaning, also shown as text."""
    if score is None:
        return "none"
    if score >= max(threshold, 0.9):
        return "high"
    if score >= threshold:
        return "flagged"
    if score >= threshold / 2:
        return "elevated"
    return "low"


class _Heavy:
    """Heavy hitters in bounded memory (Space-Saving with batched pruning).

    Each row is ``[count, error, extra]``; ``count - error <= true count <= count``. When the table
    exceeds ``2 * capacity`` rows it is cut back to the ``capacity`` largest, and ``floor`` (the
    largest evicted count) becomes the starting count and error of newcomers.
    """

    __slots__ = ("_rows", "capacity", "floor", "new_extra")

    def __init__(self, capacity: int, new_extra: Callable[[Any], Any] | None = None) -> None:
        self.capacity = capacity
        self.floor = 0
        self._rows: dict[Any, list[Any]] = {}
        self.new_extra = new_extra

    def merge(self, counts: dict[Any, int]) -> None:
        rows = self._rows
        floor = self.floor
        make = self.new_extra
        for key, n in counts.items():
            row = rows.get(key)
            if row is None:
                rows[key] = [floor + n, floor, make(key) if make is not None else None]
            else:
                row[0] += n

    def prune(self) -> None:
        rows = self._rows
        if len(rows) <= 2 * self.capacity:
            return
        ranked = sorted(rows.items(), key=lambda kv: kv[1][0], reverse=True)
        self.floor = max(self.floor, ranked[self.capacity][1][0])
        self._rows = dict(ranked[: self.capacity])

    def row(self, key: Any) -> list[Any] | None:
        return self._rows.get(key)

    def top_rows(self, n: int) -> list[tuple[Any, list[Any]]]:
        import heapq

        return heapq.nlargest(n, self._rows.items(), key=lambda kv: kv[1][0])

    def top(self, n: int) -> list[tuple[Any, int, int]]:
        return [(k, r[0], r[1]) for k, r in self.top_rows(n)]


class _Distinct:
    """Distinct items, exact up to ``cap`` (then counting stops: shown as at least ``cap``)."""

    __slots__ = ("_items", "cap")

    def __init__(self, cap: int = 4096) -> None:
        self.cap = cap
        self._items: set[object] = set()

    def add(self, item: object) -> None:
        if len(self._items) < self.cap:
            self._items.add(item)

    def count(self) -> int:
        return len(self._items)


def _flagged_in(hist: dict[int, int], tbin: int) -> int:
    return sum(c for b, c in hist.items() if b >= tbin)


class _IpInfo:
    """Extras of one IP row in the sketch (bounded by the sketch's capacity)."""

    __slots__ = ("alerts", "cats", "country", "first", "hist", "last", "max_score")

    def __init__(self, country: str | None) -> None:
        self.country = country
        self.hist: dict[int, int] = {}
        self.max_score: float | None = None
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.cats: Counter[str] = Counter()
        self.alerts = 0


class _Group:
    """Counts of a small keyed table (countries, ports)."""

    __slots__ = ("hist", "ips", "requests")

    def __init__(self) -> None:
        self.requests = 0
        self.hist: dict[int, int] = {}
        self.ips = _Distinct(4096)


class _Aggregates:
    """The panels' numbers for one view (everything, or what passes the filter)."""

    def __init__(self, clock: Callable[[], float], ip_capacity: int = 2000) -> None:
        self.clock = clock
        self.ips = _Heavy(ip_capacity, self._new_ip_info)
        self.ports = _Heavy(256)
        self.risky = _Heavy(ip_capacity // 2)
        self.port_hist: dict[int, dict[int, int]] = {}
        self.countries: dict[str | None, _Group] = {}
        self.status: Counter[str] = Counter()
        self.alerts: Ring[tuple[Alert, str | None]] = Ring(2000)
        self.rates = RateMeter(history=600)
        self.requests = 0
        self.hist = [0] * (SCORE_BINS + 1)
        self.possibly = 0
        self._pending_country: dict[str, str | None] = {}

    def _new_ip_info(self, key: str) -> _IpInfo:
        return _IpInfo(self._pending_country.get(key))

    def add(
        self,
        records: Sequence[LogRecord],
        verdicts: Sequence[Verdict | None],
        countries: Sequence[str | None],
        alerts: Sequence[tuple[Alert, str | None]],
        tbin: int,
    ) -> None:
        counts: dict[str, int] = {}
        ports: dict[int, int] = {}
        batch_hist = [0] * (SCORE_BINS + 1)
        flagged = 0
        risky: dict[str, int] = {}
        for rec, cc in zip(records, countries, strict=True):
            ip = rec.ip or "-"
            counts[ip] = counts.get(ip, 0) + 1
            self._pending_country[ip] = cc
        self.ips.merge(counts)
        self._pending_country.clear()
        row_of = self.ips.row
        status = self.status
        for rec, ver, cc in zip(records, verdicts, countries, strict=True):
            info: _IpInfo = row_of(rec.ip or "-")[2]  # type: ignore[index]
            t = rec.time
            if t is not None:
                if info.first is None or t < info.first:
                    info.first = t
                if info.last is None or t > info.last:
                    info.last = t
            st = rec.status
            status[f"{st // 100}xx" if st is not None and 100 <= st < 600 else "other"] += 1
            group = self.countries.get(cc)
            if group is None:
                group = self.countries[cc] = _Group()
            group.requests += 1
            group.ips.add(rec.ip)
            port = rec.server_port
            if port is not None:
                ports[port] = ports.get(port, 0) + 1
            if ver is None:
                continue
            b = score_bin(ver.score)
            batch_hist[b] += 1
            info.hist[b] = info.hist.get(b, 0) + 1
            group.hist[b] = group.hist.get(b, 0) + 1
            if port is not None:
                ph = self.port_hist.setdefault(port, {})
                ph[b] = ph.get(b, 0) + 1
            if b >= tbin:
                flagged += 1
                risky[rec.ip or "-"] = risky.get(rec.ip or "-", 0) + 1
                info.cats.update(ver.categories)
                if ver.possibly_succeeded:
                    self.possibly += 1
            if info.max_score is None or ver.score > info.max_score:
                info.max_score = ver.score
        self.ips.prune()
        if ports:
            self.ports.merge(ports)
            self.ports.prune()
        for alert, _cc in alerts:
            risky[alert.ip] = risky.get(alert.ip, 0) + max(1, alert.count)
        if risky:
            self.risky.merge(risky)
            self.risky.prune()
        for alert, cc in alerts:
            self.alerts.append((alert, cc))
            row = row_of(alert.ip)
            if row is not None:
                row[2].alerts += 1
                row[2].cats.update(alert.categories)
        for i, c in enumerate(batch_hist):
            self.hist[i] += c
        self.requests += len(records)
        self.rates.add(self.clock(), len(records), flagged, len(alerts), np.asarray(batch_hist, dtype=np.int64))


@dataclass(frozen=True)
class TableRow:
    """One row of a keyed table: ``key`` identifies it, ``cells`` are plain values (no markup)."""

    key: str
    cells: tuple[Any, ...]
    band: str = "none"


@dataclass(frozen=True)
class AlertRow:
    """One line of the alerts feed (a behaviour alert or a flagged request)."""

    key: str
    time: datetime | None
    ip: str
    country: str | None
    score: float
    categories: tuple[str, ...]
    what: str
    possibly_succeeded: bool
    band: str


@dataclass(frozen=True)
class DashboardData:
    """Everything the dashboard draws in one refresh."""

    lines: int
    parsed: int
    unparsed: int
    held: int
    flagged: int
    alerts: int
    possibly: int
    rate_now: float
    requests_series: list[int]
    alerts_series: list[int]
    flagged_series: list[int]
    top_ips: list[TableRow]
    top_ports: list[TableRow]
    top_countries: list[TableRow]
    feed: list[AlertRow]
    status: list[tuple[str, int]]
    matching: int | None
    threshold: float
    ports_seen: bool


@dataclass(frozen=True)
class RequestRow:
    """One retained request of an IP, for the IP screen."""

    key: str
    record: LogRecord
    verdict: Verdict | None
    band: str


@dataclass(frozen=True)
class IpSnapshot:
    """Everything known about one client, copied out of the live state (no I/O, no locks)."""

    ip: str
    country: str | None
    requests: int
    approximate: bool
    flagged: int
    max_score: float | None
    first_seen: datetime | None
    last_seen: datetime | None
    per_minute: list[int]
    status: list[tuple[str, int]]
    distinct_paths: int
    user_agents: list[tuple[str, int]]
    alerts: list[Alert]
    rows: list[RequestRow]
    retained_dropped: int
    allowlisted: bool
    threshold: float


class _IpDetail:
    """Capped history of one IP (for the drill-down)."""

    __slots__ = ("agents", "alerts", "minutes", "paths", "requests", "status")

    def __init__(self, keep: int) -> None:
        self.requests: Ring[tuple[LogRecord, Verdict | None]] = Ring(keep)
        self.alerts: deque[Alert] = deque(maxlen=50)
        self.status: Counter[int] = Counter()
        self.paths = _Distinct(10_000)
        self.agents: dict[str, int] = {}
        self.minutes: dict[int, int] = {}


@dataclass
class _Totals:
    lines: int = 0
    parsed: int = 0
    unparsed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    alerts: int = 0


class LiveStats:
    """Thread-safe live aggregates for the monitor; pass it to ``Pipeline(stats=...)``."""

    def __init__(
        self,
        *,
        country: Country | None = None,
        threshold: float = 0.5,
        clock: Callable[[], float] = time.time,
        recent_size: int = 100_000,
        detail_ips: int = 1000,
        detail_requests: int = 500,
        suspicious_size: int = 100_000,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.country: Country = country or (lambda ip: None)
        self.threshold = threshold
        self.totals = _Totals()
        self.view = _Aggregates(clock)
        self.filtered: _Aggregates | None = None
        self.filter: RecordFilter | None = None
        self.recent: Ring[tuple[LogRecord, Verdict | None, str | None]] = Ring(recent_size)
        self.suspicious: Ring[tuple[LogRecord, Verdict, str | None]] = Ring(suspicious_size)
        self.unparsed_ring: Ring[Unparsed] = Ring(1000)
        self.details: OrderedDict[str, _IpDetail] = OrderedDict()
        self.detail_ips = detail_ips
        self.detail_requests = detail_requests
        self.scored = False
        self.allowlist: Any = None
        self.ports_seen = False
        self.generation = 0

    # -- writing (ingest thread) ---------------------------------------------------------------

    def update(
        self,
        records: Sequence[LogRecord],
        verdicts: Sequence[Verdict] | None,
        alerts: Sequence[Alert],
        unparsed: Sequence[Unparsed],
    ) -> None:
        """Count one processed batch (the ``Pipeline`` calls this on the ingest thread).

        Lookups happen before the lock is taken, so the UI thread never waits on them.
        """
        country = self.country
        countries = [country(r.ip) for r in records]
        alert_rows = [(a, country(a.ip)) for a in alerts]
        vers: Sequence[Verdict | None] = (
            [None] * len(records) if verdicts is None else self._allow(records, verdicts)
        )
        step = 2000
        starts = list(range(0, len(records), step)) or [0]
        for i in starts:  # big batches in slices: the UI thread gets the lock in between
            last = i == starts[-1]  # alerts and unparsed lines go with the last slice, after their records
            with self.lock:
                self._update(records[i:i + step], vers[i:i + step], verdicts is not None,
                             alert_rows if last else [], unparsed if last else [], countries[i:i + step])

    def _update(
        self,
        records: Sequence[LogRecord],
        vers: Sequence[Verdict | None],
        scored: bool,
        alert_rows: list[tuple[Alert, str | None]],
        unparsed: Sequence[Unparsed],
        countries: list[str | None],
    ) -> None:
        tot = self.totals
        tot.lines += len(records) + len(unparsed)
        tot.parsed += len(records)
        tot.unparsed += len(unparsed)
        for u in unparsed:
            tot.reasons[u.reason] += 1
        self.unparsed_ring.extend(unparsed)
        tot.alerts += len(alert_rows)
        self.generation += 1
        if scored:
            self.scored = True
        tbin = threshold_bin(self.threshold)
        self.view.add(records, vers, countries, alert_rows, tbin)
        if not self.ports_seen and any(r.server_port is not None for r in records):
            self.ports_seen = True
        recent = self.recent
        suspicious = self.suspicious
        for rec, ver, cc in zip(records, vers, countries, strict=True):
            recent.append((rec, ver, cc))
            if ver is not None and (ver.score >= MIN_THRESHOLD or ver.flagged):
                suspicious.append((rec, ver, cc))
        self._details(records, vers, [a for a, _ in alert_rows])
        flt = self.filtered
        if flt is not None and self.filter is not None:
            idx = self.filter.select(records, vers if scored else None, countries)
            keep_alerts = [(a, cc) for a, cc in alert_rows if self.filter.matches_alert(a, cc)]
            flt.add([records[i] for i in idx], [vers[i] for i in idx], [countries[i] for i in idx],
                    keep_alerts, tbin)

    def _allow(self, records: Sequence[LogRecord], verdicts: Sequence[Verdict]) -> Sequence[Verdict]:
        allow = self.allowlist
        if not allow:
            return verdicts
        out = []
        for rec, ver in zip(records, verdicts, strict=True):
            if ver.score > 0 and allow.matches(rec):
                ver = ver._replace(score=0.0, flagged=False, reasons=(*ver.reasons, "allowlisted"))
            out.append(ver)
        return out

    def _details(self, records: Sequence[LogRecord], vers: Sequence[Verdict | None], alerts: Sequence[Alert]) -> None:
        details = self.details
        for rec, ver in zip(records, vers, strict=True):
            ip = rec.ip or "-"
            d = details.get(ip)
            if d is None:
                d = details[ip] = _IpDetail(self.detail_requests)
                if len(details) > self.detail_ips:
                    details.popitem(last=False)
            else:
                details.move_to_end(ip)
            d.requests.append((rec, ver))
            if rec.status is not None:
                d.status[rec.status] += 1
            d.paths.add(rec.path)
            ua = rec.user_agent or "-"
            if ua in d.agents or len(d.agents) < 50:
                d.agents[ua] = d.agents.get(ua, 0) + 1
            if rec.time is not None:
                m = int(rec.time.timestamp() // 60)
                d.minutes[m] = d.minutes.get(m, 0) + 1
                if len(d.minutes) > 120:
                    del d.minutes[min(d.minutes)]
        for a in alerts:
            d = details.get(a.ip)
            if d is not None:
                d.alerts.append(a)

    # -- controls (UI thread) ------------------------------------------------------------------

    def set_threshold(self, value: float) -> float:
        """Change the flag threshold (clamped to [MIN_THRESHOLD, 0.99]); counts re-evaluate from histograms."""
        value = round(min(0.99, max(MIN_THRESHOLD, value)), 2)
        with self.lock:
            self.threshold = value
            if self.filter is not None:
                self._rebuild_filtered()
        return value

    def set_filter(self, flt: RecordFilter | None) -> None:
        """Apply a filter to every panel (``None`` or an empty filter clears it)."""
        with self.lock:
            if flt is None or flt.empty:
                self.filter = None
                self.filtered = None
                return
            self.filter = flt
            self._rebuild_filtered()

    def _rebuild_filtered(self) -> None:
        flt = self.filter
        assert flt is not None
        agg = _Aggregates(self.clock)
        items = list(self.recent)
        recs = [r for r, _v, _c in items]
        vers = [v for _r, v, _c in items]
        ccs = [c for _r, _v, c in items]
        idx = flt.select(recs, vers if self.scored else None, ccs)
        alerts = [(a, c) for a, c in self.view.alerts if flt.matches_alert(a, c)]
        agg.add([recs[i] for i in idx], [vers[i] for i in idx], [ccs[i] for i in idx], alerts,
                threshold_bin(self.threshold))
        self.filtered = agg

    def set_allowlist(self, allowlist: Any) -> None:
        """Requests matching ``allowlist`` (an ``Allowlist``) count as not flagged from now on."""
        with self.lock:
            self.allowlist = allowlist

    # -- reading (UI thread) -------------------------------------------------------------------

    def _top_ips(self, agg: _Aggregates, top: int, by: str) -> list[tuple[str, list[Any]]]:
        if by != "flagged":
            return agg.ips.top_rows(top)
        out = []
        for ip, _count, _err in agg.risky.top(top):
            row = agg.ips.row(ip)
            if row is not None:
                out.append((ip, row))
        if len(out) < top:
            seen = {ip for ip, _ in out}
            out.extend((ip, row) for ip, row in agg.ips.top_rows(top) if ip not in seen)
        return out[:top]

    def dashboard(self, top: int = 30, feed: int = 50, sort: str = "requests") -> DashboardData:
        """A snapshot for one dashboard refresh (cheap: sketches keep the leaders).

        ``sort="flagged"`` orders the top IPs by flagged requests plus alerts (at the threshold in
        force when they were counted), then by requests.
        """
        with self.lock:
            agg = self.filtered if self.filtered is not None else self.view
            thr = self.threshold
            tbin = threshold_bin(thr)
            now = self.clock()
            ips = []
            for ip, row in self._top_ips(agg, top, sort):
                info: _IpInfo = row[2]
                flagged = _flagged_in(info.hist, tbin)
                cats = ",".join(c for c, _ in info.cats.most_common(3))
                band = score_band(info.max_score, thr) if self.scored else "none"
                allowed = bool(self.allowlist) and self.allowlist.matches_ip(ip)
                ips.append(TableRow(ip, (ip, row[0], flagged, info.max_score, info.country, info.last,
                                         cats, info.alerts, allowed), band))
            ports = []
            for port, count, _err in agg.ports.top(top):
                ph = agg.port_hist.get(port, {})
                ports.append(TableRow(str(port), (port, count, _flagged_in(ph, tbin))))
            groups = sorted(agg.countries.items(), key=lambda kv: kv[1].requests, reverse=True)[:top]
            countries = [
                TableRow(cc or "unknown", (cc, g.requests, _flagged_in(g.hist, tbin), g.ips.count()))
                for cc, g in groups
            ]
            feed_rows = self._feed(agg, feed, thr)
            flagged_total = sum(self.view.hist[tbin:])
            return DashboardData(
                lines=self.totals.lines,
                parsed=self.totals.parsed,
                unparsed=self.totals.unparsed,
                held=0,
                flagged=flagged_total,
                alerts=self.totals.alerts,
                possibly=self.view.possibly,
                rate_now=self.view.rates.rate(now, 10),
                requests_series=agg.rates.series(now + 1, 120),
                alerts_series=agg.rates.series(now + 1, 120, "alerts"),
                flagged_series=agg.rates.series(now + 1, 120, "flagged", threshold_bin=tbin),
                top_ips=ips,
                top_ports=ports,
                top_countries=countries,
                feed=feed_rows,
                status=sorted(agg.status.items()),
                matching=agg.requests if self.filtered is not None else None,
                threshold=thr,
                ports_seen=self.ports_seen,
            )

    def _feed(self, agg: _Aggregates, n: int, thr: float) -> list[AlertRow]:
        """Newest alerts and flagged requests, merged newest first."""
        rows: list[AlertRow] = []
        for alert, cc in agg.alerts.newest(n):
            what = f"{alert.kind}: {'; '.join(alert.reasons[:2])}" if alert.reasons else alert.kind
            rows.append(AlertRow(f"a{alert.ip}:{alert.file}:{alert.first_line}:{alert.kind}", alert.last_time,
                                 alert.ip, cc, alert.score, alert.categories, what, False,
                                 score_band(alert.score, thr)))
        flt = self.filter
        got = 0
        for rec, ver, cc in self.suspicious.newest(None if flt is not None else n * 4):
            if ver.score < thr or (flt is not None and not flt.matches(rec, ver, cc)):
                continue
            what = f"{rec.method or '-'} {rec.target} {rec.status if rec.status is not None else '-'}"
            rows.append(AlertRow(f"r{rec.file}:{rec.line}:{rec.offset}", rec.time, rec.ip or "-", cc, ver.score,
                                 ver.categories, what, ver.possibly_succeeded, score_band(ver.score, thr)))
            got += 1
            if got >= n:
                break
        rows.sort(key=lambda r: (r.time is not None, r.time.timestamp() if r.time else 0.0), reverse=True)
        return rows[:n]

    def ip_snapshot(self, ip: str) -> IpSnapshot:
        """Everything retained about ``ip``."""
        with self.lock:
            thr = self.threshold
            tbin = threshold_bin(thr)
            row = self.view.ips.row(ip)
            info: _IpInfo | None = row[2] if row is not None else None
            d = self.details.get(ip)
            rows: list[RequestRow] = []
            status: list[tuple[str, int]] = []
            agents: list[tuple[str, int]] = []
            per_minute: list[int] = []
            alerts: list[Alert] = []
            paths = 0
            dropped = 0
            if d is not None:
                for rec, ver in d.requests.newest():
                    band = score_band(ver.score, thr) if ver is not None else "none"
                    rows.append(RequestRow(f"{rec.file}:{rec.line}:{rec.offset}", rec, ver, band))
                status = [(str(k), v) for k, v in sorted(d.status.items())]
                agents = list(d.agents.items())
                if d.minutes:
                    lo, hi = min(d.minutes), max(d.minutes)
                    lo = max(lo, hi - 59)
                    per_minute = [d.minutes.get(m, 0) for m in range(lo, hi + 1)]
                alerts = list(d.alerts)
                paths = d.paths.count()
                dropped = d.requests.dropped
            requests = row[0] if row is not None else (len(rows) + dropped)
            return IpSnapshot(
                ip=ip,
                country=info.country if info is not None else self.country(ip),
                requests=requests,
                approximate=bool(row is not None and row[1]),
                flagged=_flagged_in(info.hist, tbin) if info is not None else 0,
                max_score=info.max_score if info is not None else None,
                first_seen=info.first if info is not None else None,
                last_seen=info.last if info is not None else None,
                per_minute=per_minute,
                status=status,
                distinct_paths=paths,
                user_agents=agents,
                alerts=alerts,
                rows=rows,
                retained_dropped=dropped,
                allowlisted=bool(self.allowlist) and self.allowlist.matches_ip(ip),
                threshold=thr,
            )

    # -- export selections (UI thread, under the lock) -----------------------------------------

    def flagged_items(self, ip: str | None = None) -> list[tuple[LogRecord, Verdict, str | None]]:
        """Retained requests at or above the threshold (optionally of one IP), oldest first."""
        with self.lock:
            thr = self.threshold
            return [(r, v, c) for r, v, c in self.suspicious if v.score >= thr and (ip is None or r.ip == ip)]

    def filtered_items(self) -> list[tuple[LogRecord, Verdict | None, str | None]]:
        """Retained requests passing the current filter (all retained ones without a filter)."""
        with self.lock:
            flt = self.filter
            return [(r, v, c) for r, v, c in self.recent if flt is None or flt.matches(r, v, c)]

    def ip_items(self, ip: str) -> list[tuple[LogRecord, Verdict | None, str | None]]:
        """Retained requests of one IP, oldest first."""
        with self.lock:
            d = self.details.get(ip)
            if d is None:
                return []
            cc = self.country(ip)
            return [(r, v, cc) for r, v in d.requests]

    def alert_items(self) -> list[tuple[Alert, str | None]]:
        """Retained alerts (passing the filter), oldest first."""
        with self.lock:
            agg = self.filtered if self.filtered is not None else self.view
            return list(agg.alerts)

    def flagged_ips(self) -> list[str]:
        """IPs with a request at or above the threshold or an alert (retained), for block lists."""
        with self.lock:
            thr = self.threshold
            allow = self.allowlist
            ips = {r.ip for r, v, _c in self.suspicious if v.score >= thr and r.ip}
            ips.update(a.ip for a, _c in self.view.alerts)
            return sorted(ip for ip in ips if not (allow and allow.matches_ip(ip)))

    def lost(self) -> Iterable[str]:
        """Warnings about retained data that had to be dropped (for export notes)."""
        if self.suspicious.dropped:
            yield f"{self.suspicious.dropped} older suspicious requests are no longer retained"
