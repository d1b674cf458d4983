"""What the monitor shows, kept up to date batch by batch (pure Python: no Textual here).

``LiveStats`` is handed to the :class:`~threatlens.pipeline.Pipeline` as its ``stats`` object: the
ingest thread calls :meth:`LiveStats.update` under :attr:`LiveStats.lock`, and the UI takes small
immutable snapshots (:meth:`dashboard`, :meth:`ip_snapshot`) under the same lock at 1-4 Hz.

The counting is :class:`threatlens.stats.Stats`' (bounded memory, exact totals, threshold
re-evaluation from score histograms); this module adapts it to the screens: allowlist marking,
the ``/`` filter (a second, filtered ``Stats`` rebuilt from the retained requests when the filter
is set, then fed each batch), sort modes, and the rows the widgets and exports consume.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar, cast

from threatlens.models.verdict import SEVERITY_RANK, Alert, Verdict, at_least, severity_of
from threatlens.stats.feed import alert_key
from threatlens.stats.filter import RecordFilter
from threatlens.stats.results import AlertEntry, FlaggedRequest, IPRow

if TYPE_CHECKING:  # the UI process imports this module for the row types: no NumPy, parsers or pipeline there
    from threatlens.parsers.firewall import FirewallRecord
    from threatlens.parsers.record import LogRecord, Unparsed
    from threatlens.stats.aggregates import Stats
    from threatlens.stats.firewall import FirewallIpSummary

__all__ = ["AlertRow", "DashboardData", "IpSnapshot", "LiveStats", "RequestRow", "TableRow", "empty_dashboard",
           "request_tier", "score_band"]

#: The lowest threshold the keys can set.
MIN_THRESHOLD = 0.05
Country = Callable[[str | None], str | None]
_SLICE = 2000  # records per locked step: the UI thread gets the lock in between
_REPLAY = 5000  # records per batch when rebuilding the filtered view


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


def request_tier(verdict: Verdict | None, threshold: float) -> str:
    """The severity tier of a request at the monitor's threshold (``""`` below it).

    A request the model scored below its own threshold carries no tier; once ``T`` lowers the
    monitor's threshold under its score, its tier follows its categories (as the model's would).
    """
    if verdict is None or verdict.score < threshold:
        return ""
    return verdict.severity or severity_of(verdict.categories)


def verdict_at(record: LogRecord, verdict: Verdict | None, threshold: float) -> Verdict | None:
    """``verdict`` as a run at ``threshold`` gives it: flagged, tier and "possibly succeeded" follow ``t``/``T``.

    A request newly flagged by a lowered threshold counts as possibly succeeded when answered 2xx (an error
    answer of unusual size, which the scorer would also have marked, is not known here).
    """
    if verdict is None or (verdict.score >= threshold) == verdict.flagged:
        return verdict
    if verdict.flagged:
        return verdict._replace(flagged=False, possibly_succeeded=False, severity="")
    status = record.status
    return verdict._replace(flagged=True, possibly_succeeded=status is not None and 200 <= status < 300,
                            severity=severity_of(verdict.categories))


class _CountryFunction:
    """What ``Stats`` needs of a ``GeoLookup`` (``country``, ``countries``), over a plain function."""

    def __init__(self, country: Country | None) -> None:
        self.country: Country = country or (lambda ip: None)
        self.source = "none"

    def countries(self, ips: Sequence[str | None]) -> list[str | None]:
        country = self.country
        return [country(ip) for ip in ips]


class IpCells(NamedTuple):
    """The top-IPs table's values for one client (field names are the JSON keys of ``threatlens serve``)."""

    ip: str
    requests: int
    flagged: int
    max_score: float | None
    country: str | None
    last_seen: datetime | None
    categories: str
    alerts: int
    allowlisted: bool
    #: How much of ``requests`` may be an over-estimate (Space-Saving): ``requests - requests_error`` is sure.
    requests_error: int = 0
    severity: str = ""  #: the most serious tier of its flagged requests and alerts


class CountryCells(NamedTuple):
    """The countries table's values for one country code."""

    country: str | None
    requests: int
    flagged: int
    distinct_ips: int


class PortCells(NamedTuple):
    """The ports table's values for one server port."""

    port: int
    requests: int
    flagged: int


class FirewallPortCells(NamedTuple):
    """The ports table's values for one destination port of the firewall log (``port`` is ``22`` or ``161/udp``)."""

    port: str
    service: str
    packets: int
    sources: int
    sources_exact: bool
    blocked: int


class MemberCells(NamedTuple):
    """A campaign member's values; counts are ``None`` for an IP no longer in the live tables."""

    ip: str
    requests: int | None
    flagged: int | None
    alerts: int | None
    country: str | None
    last_seen: datetime | None


Cells = TypeVar("Cells", IpCells, CountryCells, PortCells, FirewallPortCells, MemberCells)


@dataclass(frozen=True)
class TableRow(Generic[Cells]):
    """One row of a keyed table: ``key`` identifies it, ``cells`` are plain values (no markup)."""

    key: str
    cells: Cells
    band: str = "none"


class AlertRow(NamedTuple):
    """One line of the alerts feed (a behaviour alert or a flagged request); a tuple, cheap to pickle by the 1000."""

    key: str
    time: datetime | None
    ip: str
    country: str | None
    score: float
    categories: tuple[str, ...]
    what: str
    possibly_succeeded: bool
    band: str
    alert: Alert | None = None  #: the campaign behind the row (``None`` for other alerts and flagged requests)
    severity: str = ""  #: ``attack``, ``suspicious`` or ``nuisance``
    number: int = 0  #: its number in the feed (arrival order; never given to another entry)


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
    top_ips: list[TableRow[IpCells]]
    top_ports: list[TableRow[PortCells]]
    top_countries: list[TableRow[CountryCells]]
    feed: list[AlertRow]
    status: list[tuple[str, int]]
    matching: int | None
    threshold: float
    ports_seen: bool
    packets: int = 0
    #: destination ports from firewall records (shown instead of server ports once there are packets)
    firewall_ports: list[TableRow[FirewallPortCells]] = field(default_factory=list)
    #: nuisance-tier rows are left out of the top IPs, the feed and the IP screen (key ``n``)
    nuisance_hidden: bool = False
    #: feed entries (of every kind) older than those held, no longer shown
    feed_dropped: int = 0
    #: the order of ``top_ips``: ``requests`` or ``flagged``
    sort: str = "requests"
    #: the top IPs in the other order: ``s`` switches at once, with no round trip to the ingestion process
    other_ips: list[TableRow[IpCells]] = field(default_factory=list)
    #: the text of the filter these panels reflect (``""``: none); the header says when a new one is still applying
    filter: str = ""

    def in_order(self, sort: str) -> DashboardData:
        """The snapshot with its top IPs in ``sort`` order (``requests`` or ``flagged``)."""
        if sort == self.sort:
            return self
        return replace(self, top_ips=self.other_ips, other_ips=self.top_ips, sort=sort)

    @property
    def rates_falling(self) -> bool:
        """The last 10 complete seconds (or the one under way) held lines: "now" is not 0 yet."""
        recent = (self.requests_series[-11:], self.flagged_series[-11:], self.alerts_series[-11:])
        return self.rate_now > 0 or any(any(s) for s in recent)


def empty_dashboard(threshold: float) -> DashboardData:
    """The dashboard before any line was counted (what the monitor draws until the first snapshot)."""
    return DashboardData(lines=0, parsed=0, unparsed=0, held=0, flagged=0, alerts=0, possibly=0, rate_now=0.0,
                         requests_series=[], alerts_series=[], flagged_series=[], top_ips=[], top_ports=[],
                         top_countries=[], feed=[], status=[], matching=None, threshold=threshold, ports_seen=False)


@dataclass(frozen=True)
class RequestRow:
    """One retained request of an IP, for the IP screen."""

    key: str
    record: LogRecord
    verdict: Verdict | None
    band: str
    severity: str = ""


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
    firewall: FirewallIpSummary | None = None
    severity: str = ""  #: the most serious tier of its flagged requests and alerts
    nuisance_hidden: bool = False  #: nuisance-tier requests and alerts were left out of ``rows`` and ``alerts``
    possibly_succeeded: int = 0  #: its flagged requests that possibly succeeded (at the current threshold)
    #: ``requests`` may be this many over (the IP table's estimate): the true count is ``requests - requests_error``
    #: or more (``approximate``)
    requests_error: int = 0
    #: behaviour alerts counted for it (``alerts`` holds the latest 50 of the latest IPs to alert; more were dropped)
    alerts_counted: int = 0
    alerts_hidden: int = 0  #: nuisance-tier alerts left out of ``alerts`` (``nuisance_hidden``)


#: Severity tiers from the least serious (an alert raised again with a higher one is marked ``↑``).
_RANK = {"nuisance": 1, "suspicious": 2, "attack": 3}


def _feed_row(number: int, stored: Any, decode: Callable[[Any], FlaggedRequest], thr: float) -> AlertRow:
    """The feed row of one entry (an ``AlertEntry`` or a stored flagged request, decoded by ``decode``)."""
    if isinstance(stored, AlertEntry):
        alert, cc = stored
        if alert.kind == "campaign" and len(alert.reasons) >= 2:
            return AlertRow(alert_key(alert), alert.last_time, alert.ip, cc,
                            alert.score, alert.categories, f"campaign: {alert.reasons[1]}, {alert.reasons[0]}", False,
                            score_band(alert.score, thr), alert, alert.severity, number)
        what = f"{alert.kind}: {'; '.join(alert.reasons[:2])}" if alert.reasons else alert.kind
        return AlertRow(alert_key(alert), alert.last_time, alert.ip, cc,
                        alert.score, alert.categories, what, False, score_band(alert.score, thr), None,
                        alert.severity, number)
    rec, ver, cc = decode(stored)
    what = f"{rec.method or '-'} {rec.target} {rec.status if rec.status is not None else '-'}"
    return AlertRow(f"r{rec.file}:{rec.line}:{rec.offset}", rec.time, rec.ip or "-", cc, ver.score, ver.categories,
                    what, ver.possibly_succeeded, score_band(ver.score, thr), None, request_tier(ver, thr), number)


def _first_categories(categories: Sequence[str], shown: int = 3) -> str:
    """The first ``shown`` categories, and ``…`` when there are more (the IP screen lists them all)."""
    return ",".join(categories[:shown]) + (",…" if len(categories) > shown else "")


def _other_sort(sort: str) -> str:
    """The other order of the top IPs (``s`` switches between them)."""
    return "requests" if sort == "flagged" else "flagged"


def _status_classes(statuses: Iterable[tuple[Any, int]], parsed: int) -> list[tuple[str, int]]:
    """``[("2xx", n), ...]`` from per-code counts; codes outside 100-599 and missing ones as ``other``."""
    classes: dict[str, int] = {}
    counted = 0
    for code, n in statuses:
        cls = f"{code // 100}xx" if isinstance(code, int) and 100 <= code < 600 else "other"
        classes[cls] = classes.get(cls, 0) + n
        counted += n
    if parsed > counted:  # requests without a status code
        classes["other"] = classes.get("other", 0) + parsed - counted
    return sorted(classes.items())


def _per_minute(times: Iterable[datetime | None], minutes: int = 60) -> list[int]:
    """Requests per minute of log time over the last ``minutes`` minutes that have requests."""
    from threatlens.stats.rates import per_minute

    return per_minute((t.timestamp() if t is not None else None for t in times), minutes)


class LiveStats:
    """Thread-safe live aggregates for the monitor; pass it to ``Pipeline(stats=...)``.

    ``geo`` (a ``GeoLookup``) or ``country`` (a plain ``country(ip)`` function; none: unknown)
    places IPs; ``recent_size`` requests of all clients and ``suspicious_size`` flagged ones are
    retained for drill-down, filters and exports, ``detail_requests`` shown per IP.
    """

    def __init__(
        self,
        *,
        country: Country | None = None,
        geo: Any = None,
        threshold: float = 0.5,
        clock: Callable[[], float] = time.time,
        recent_size: int = 100_000,
        detail_requests: int = 500,
        suspicious_size: int = 100_000,
        capacity: int = 2000,
    ) -> None:
        from threatlens.stats.aggregates import Stats

        self.lock = threading.RLock()
        self.clock = clock
        self.geo: Any = geo if geo is not None else _CountryFunction(country)
        self.threshold = threshold
        self.stats = Stats(capacity=capacity, ip_history=detail_requests, recent=recent_size,
                           ring=suspicious_size, threshold=threshold, geo=cast(Any, self.geo), clock=clock)
        self.filtered: Stats | None = None
        self.filter: RecordFilter | None = None
        self.allowlist: Any = None
        self.hide_nuisance = False
        self.generation = 0
        self._feed_rows: dict[int, AlertRow] = {}  # feed entry number -> its row at _feed_rows_threshold
        self._feed_rows_threshold = threshold

    @property
    def totals(self) -> Any:
        """Exact totals (``lines``, ``parsed``, ``unparsed``, ...: a ``threatlens.stats.Totals``)."""
        with self.lock:
            return self.stats.totals()

    def country(self, ip: str | None) -> str | None:
        """The country code (or label) of an address."""
        return self.geo.country(ip)

    # -- writing (ingest thread) ---------------------------------------------------------------

    def update(
        self,
        records: Sequence[LogRecord],
        verdicts: Sequence[Verdict] | None,
        alerts: Sequence[Alert],
        unparsed: Sequence[Unparsed],
        packets: Sequence[FirewallRecord] = (),
    ) -> None:
        """Count one processed batch (the ``Pipeline`` calls this on the ingest thread).

        Big batches go in slices, so the UI thread gets the lock in between; each alert goes with
        the slice holding the line that raised it (so the feed shows it right after that request),
        other alerts, unparsed lines and firewall records with the last slice, after the requests.
        """
        from threatlens.pipeline import alert_positions

        n = len(records)
        starts = list(range(0, n, _SLICE)) or [0]
        by_slice: dict[int, list[Alert]] = {}  # an alert goes with the slice holding its line (its place in the feed)
        if alerts:
            final = len(starts) - 1
            for at, alert in zip(alert_positions(records, alerts), alerts, strict=True):
                by_slice.setdefault(min(at // _SLICE, final), []).append(alert)
        for k, i in enumerate(starts):
            last = i == starts[-1]
            recs = records[i:i + _SLICE] if n > _SLICE else records
            part = None if verdicts is None else (verdicts[i:i + _SLICE] if n > _SLICE else verdicts)
            mine = by_slice.get(k, [])
            with self.lock:
                self.generation += 1
                self.stats.update(recs, part, mine, unparsed if last else (), packets if last else ())
                if self.filtered is not None:
                    self.filtered.update(recs, part, mine)

    # -- controls (UI thread) ------------------------------------------------------------------

    def set_threshold(self, value: float) -> float:
        """Change the flag threshold (clamped to [MIN_THRESHOLD, 0.99]); counts re-evaluate from histograms."""
        value = round(min(0.99, max(MIN_THRESHOLD, value)), 2)
        with self.lock:
            self.threshold = value
            self.stats.recount(value)
            if self.filtered is not None:
                self.filtered.recount(value)
        return value

    def set_filter(self, flt: RecordFilter | None) -> None:
        """Apply a filter to every panel (``None`` or an empty filter clears it).

        The filtered view starts from the retained requests and alerts, then counts each batch.
        """
        with self.lock:
            if flt is None or flt.empty:
                self.filter = None
                self.filtered = None
                return
            self.filter = flt
            view = self.stats.spawn_filtered(flt)
            self._replay(view)
            self.filtered = view

    def _replay(self, view: Stats) -> None:
        """Feed ``view`` the retained requests (in runs of scored / unscored) and the retained alerts."""
        paused = gc.isenabled()
        gc.disable()  # a burst of short-lived tuples: collections would rescan all the held data
        try:
            pairs = self.stats.retained()
            i = 0
            while i < len(pairs):
                scored = pairs[i][1] is not None
                j = i + 1
                while j < len(pairs) and j - i < _REPLAY and (pairs[j][1] is not None) == scored:
                    j += 1
                run = pairs[i:j]
                view.update([r for r, _v in run], [v for _r, v in run] if scored else None)  # type: ignore[misc]
                i = j
            alerts = [entry.alert for entry in reversed(self.stats.alerts())]
            if alerts:
                view.update([], None, alerts)
            view.forget_rates()  # matches count in the rates when they arrive, not all at once now
        finally:
            if paused:
                gc.enable()

    def set_hide_nuisance(self, hide: bool) -> None:
        """Leave nuisance-tier rows out of the top IPs, the feed and the IP screen (or show them again)."""
        with self.lock:
            self.hide_nuisance = hide
            self.generation += 1

    def set_allowlist(self, allowlist: Any) -> None:
        """The allowlist to mark on screen (detection applies it: allowlisted requests arrive unflagged)."""
        with self.lock:
            self.allowlist = allowlist

    # -- reading (UI thread) -------------------------------------------------------------------

    def _top_ip_rows(self, view: Stats, top: int, by: str, hide_nuisance: bool) -> list[IPRow]:
        if hide_nuisance:
            return [r for r in self._top_ip_rows(view, 2 * top, by, False) if r.severity != "nuisance"][:top]
        if by != "flagged":
            return view.top_ips(top)
        rows = {r.ip: r for r in view.top_flagged_ips(top)}
        for entry in view.alerts(4 * top):  # clients with behaviour alerts but few flagged requests
            ip = entry.alert.ip
            if ip not in rows and (row := view.ip_row(ip)) is not None:
                rows[ip] = row
        for r in view.top_ips(top):
            rows.setdefault(r.ip, r)
        ranked = sorted(rows.values(), key=lambda r: (r.flagged + r.alerts, r.requests), reverse=True)
        return ranked[:top]

    @staticmethod
    def _ip_table_row(r: IPRow, scored: bool, allow: Any, thr: float) -> TableRow[IpCells]:
        max_score = r.max_score if scored else None
        allowed = bool(allow) and allow.matches_ip(r.ip)
        return TableRow(r.ip, IpCells(r.ip, r.requests, r.flagged, max_score, r.country, r.last_seen,
                                      _first_categories(r.categories), r.alerts, allowed, r.error, r.severity),
                        score_band(max_score, thr) if scored else "none")

    def dashboard(self, top: int = 30, feed: int | None = None, sort: str = "requests") -> DashboardData:
        """A snapshot for one dashboard refresh (cheap: sketches keep the leaders).

        ``sort="flagged"`` orders the top IPs by flagged requests plus alerts, then by requests;
        ``feed`` rows at most (default: the whole feed held, so it can be scrolled).
        """
        with self.lock:
            main = self.stats
            view = self.filtered if self.filtered is not None else main
            thr = self.threshold
            now = self.clock()
            scored = main.scored > 0
            allow = self.allowlist
            hide = self.hide_nuisance
            ips, other_ips = ([self._ip_table_row(r, scored, allow, thr)
                               for r in self._top_ip_rows(view, top, by, hide)] for by in (sort, _other_sort(sort)))
            ports = [TableRow(str(p.port), PortCells(p.port, p.requests, p.flagged)) for p in view.top_ports(top)]
            countries = [
                TableRow(c.code or "unknown", CountryCells(c.code, c.requests, c.flagged, c.distinct_ips))
                for c in view.top_countries(top)
            ]
            firewall_ports = []
            for p in main.firewall.top_ports(top):
                key = f"{p.port}" if p.proto == "tcp" else f"{p.port}/{p.proto}"
                firewall_ports.append(TableRow(key, FirewallPortCells(key, p.service, p.packets, p.sources,
                                                                      p.sources_exact, p.blocked)))
            return DashboardData(
                lines=main.lines,
                parsed=main.parsed,
                unparsed=main.unparsed,
                held=0,
                flagged=main.flagged_count,
                alerts=main.alert_count,
                possibly=main.possibly_succeeded,
                rate_now=main.rates(now).requests_10s,
                requests_series=view.history("requests", 120, now + 1),
                alerts_series=view.history("alerts", 120, now + 1),
                flagged_series=view.history("flagged", 120, now + 1),
                top_ips=ips,
                top_ports=ports,
                top_countries=countries,
                feed=self._feed(main, self.filter, feed, thr, hide),
                status=_status_classes(((s.key, s.requests) for s in view.top_statuses(128)), view.parsed),
                matching=view.parsed if self.filtered is not None else None,
                threshold=thr,
                ports_seen=main.ports_available,
                packets=main.firewall.packets,
                firewall_ports=firewall_ports,
                nuisance_hidden=hide,
                feed_dropped=main.feed.dropped,
                sort=sort,
                filter=self.filter.text if self.filter is not None else "",
                other_ips=other_ips,
            )

    def _feed(self, main: Stats, flt: RecordFilter | None, n: int | None, thr: float,
              hide_nuisance: bool = False) -> list[AlertRow]:
        """The feed newest first, in arrival order (without nuisance ones if hidden); see ``threatlens.stats.feed``.

        A campaign or burst alerted again as it grew is one row: its newest alert, with that alert's number.
        Rows are built once per entry and threshold (a snapshot of the whole feed is made 1-4 times a second).
        """
        cache = self._feed_rows
        if self._feed_rows_threshold != thr or len(cache) > 4 * max(1, len(main.feed)):
            cache = self._feed_rows = {}
            self._feed_rows_threshold = thr
        rows: list[AlertRow] = []
        keys: dict[str, int] = {}  # alert key -> the index of its row
        for number, stored, label in main.feed.newest(thr, flt):
            if n is not None and len(rows) >= n:
                break
            row = cache.get(number)
            if row is None:
                row = cache[number] = _feed_row(label, stored, main.feed.request, thr)
            if hide_nuisance and row.severity == "nuisance":
                continue
            if row.key[0] != "r":  # an alert: the newest of its campaign or burst only, with the number of the first
                at = keys.get(row.key)
                if at is not None:
                    shown = rows[at]
                    if _RANK.get(row.severity, 0) < _RANK.get(shown.severity, 0) and not shown.what.startswith("↑"):
                        rows[at] = shown._replace(what=f"↑ {shown.what}")  # its tier rose since it was first raised
                    continue
                keys[row.key] = len(rows)
            rows.append(row)
        return rows

    def ip_snapshot(self, ip: str) -> IpSnapshot:
        """Everything retained about ``ip``."""
        with self.lock:
            thr = self.threshold
            detail = self.stats.ip_detail(ip)
            firewall = self.stats.firewall.ip_summary(ip)
            scored = self.stats.scored > 0
            allow = self.allowlist
            hide = self.hide_nuisance
        row = detail.row
        rows = [
            RequestRow(f"{rec.file}:{rec.line}:{rec.offset}", rec, verdict_at(rec, ver, thr),
                       score_band(ver.score, thr) if ver is not None else "none", request_tier(ver, thr))
            for rec, ver in detail.requests
        ]
        held = len(rows)
        alerts = list(reversed(detail.alerts))
        counted = max(row.alerts if row is not None else 0, len(alerts))
        if hide:
            rows = [r for r in rows if r.severity != "nuisance"]
            alerts_held = len(alerts)
            alerts = [a for a in alerts if a.severity != "nuisance"]
            hidden = alerts_held - len(alerts)
        else:
            hidden = 0
        status = sorted(detail.status_mix.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
        return IpSnapshot(
            ip=ip,
            country=detail.country,
            requests=row.requests if row is not None else held,
            approximate=bool(row is not None and row.error),
            flagged=row.flagged if row is not None else 0,
            max_score=row.max_score if row is not None and scored else None,
            first_seen=row.first_seen if row is not None else None,
            last_seen=row.last_seen if row is not None else None,
            per_minute=_per_minute(rec.time for rec, _v in detail.requests),
            status=[("-" if code is None else str(code), n) for code, n in status],
            distinct_paths=len({rec.path for rec, _v in detail.requests}),
            user_agents=detail.user_agents,
            alerts=alerts,
            rows=rows,
            retained_dropped=max(0, row.requests - row.error - held) if row is not None else 0,
            allowlisted=bool(allow) and allow.matches_ip(ip),
            threshold=thr,
            firewall=firewall,
            severity=row.severity if row is not None else "",
            nuisance_hidden=hide,
            possibly_succeeded=row.possibly_succeeded if row is not None else 0,
            requests_error=row.error if row is not None else 0,
            alerts_counted=counted,
            alerts_hidden=hidden,
        )

    def member_rows(self, ips: Sequence[str]) -> list[TableRow[MemberCells]]:
        """One row per campaign member: (ip, requests, flagged, alerts, country, last seen), as counted here."""
        with self.lock:
            thr = self.threshold
            scored = self.stats.scored > 0
            rows = []
            for ip in ips:
                r = self.stats.ip_row(ip)
                if r is None:
                    rows.append(TableRow(ip, MemberCells(ip, None, None, None, self.country(ip), None)))
                    continue
                band = score_band(r.max_score, thr) if scored else "none"
                rows.append(TableRow(ip, MemberCells(ip, r.requests, r.flagged, r.alerts, r.country, r.last_seen),
                                     band))
        return rows

    # -- export selections (UI thread) ---------------------------------------------------------

    def _with_country(
        self, pairs: Iterable[tuple[LogRecord, Verdict | None]], threshold: float
    ) -> list[tuple[LogRecord, Verdict | None, str | None]]:
        """Each request with its country, and its verdict as at ``threshold`` (what a run at it exports)."""
        country = self.geo.country
        return [(r, verdict_at(r, v, threshold), country(r.ip)) for r, v in pairs]

    def flagged_items(self, ip: str | None = None, min_severity: str = "nuisance",
                      ) -> list[tuple[LogRecord, Verdict, str | None]]:
        """Retained requests at or above the threshold, oldest first.

        Optionally only those of one IP, and only those of tier ``min_severity`` or a more serious one.
        """
        with self.lock:
            thr = self.threshold
            pairs = self.stats.retained(min_score=thr)
        return self._with_country(((r, v) for r, v in pairs  # type: ignore[return-value]
                                   if (ip is None or r.ip == ip) and at_least(request_tier(v, thr), min_severity)), thr)

    def filtered_items(self) -> list[tuple[LogRecord, Verdict | None, str | None]]:
        """Retained requests passing the current filter (all retained ones without a filter)."""
        with self.lock:
            flt = self.filter
            items = self._with_country(self.stats.retained(), self.threshold)
        return [(r, v, c) for r, v, c in items if flt is None or flt.matches(r, v, c)]

    def ip_items(self, ip: str) -> list[tuple[LogRecord, Verdict | None, str | None]]:
        """Retained requests of one IP, oldest first."""
        with self.lock:
            thr = self.threshold
            detail = self.stats.ip_detail(ip)
        return self._with_country(reversed(detail.requests), thr)

    def alert_items(self) -> list[tuple[Alert, str | None]]:
        """Retained alerts (passing the filter), oldest first."""
        with self.lock:
            view = self.filtered if self.filtered is not None else self.stats
            return [(e.alert, e.country) for e in reversed(view.alerts())]

    def flagged_ips(self, min_severity: str = "attack") -> list[str]:
        """Block-list IPs: a retained request at or above the threshold, or a retained alert, of tier ``min_severity``.

        The tier or a more serious one counts, as with ``threatlens scan --blocklist --min-severity``.

        A campaign contributes its members only when it is an attack (see ``alert_block_ips``).
        """
        with self.lock:
            thr = self.threshold
            allow = self.allowlist
            pairs = self.stats.retained(min_score=thr)
            alerted = self.stats.alert_block_tiers()  # every alert's addresses, also those the alert ring dropped
        ips = {r.ip for r, v in pairs if r.ip and at_least(request_tier(v, thr), min_severity)}
        least = SEVERITY_RANK.get(min_severity, 0)
        ips.update(ip for ip, rank in alerted.items() if rank >= least)
        return sorted(ip for ip in ips if not (allow and allow.matches_ip(ip)))

