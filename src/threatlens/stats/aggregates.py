"""Live aggregates in bounded memory: ``Stats`` is fed scored batches and answers at any moment.

What is exact and what is bounded:

* Totals (lines, parsed, unparsed by reason, scored, flagged, alerts, possibly succeeded) are
  exact counters. Categories and "possibly succeeded" are counted over flagged requests (and
  alerts, for categories): a category on a request that is not flagged is not a finding.
* Top-N tables (client IPs, flagged IPs, paths, user agents, referers, virtual hosts, status
  codes, server ports) are Space-Saving sketches (``TopK``): a row's ``requests`` (``count``) is an
  upper bound and ``requests - error`` a lower bound of the true count. ``error`` is 0 (exact)
  until the table has seen more distinct keys than ``capacity + slack``, and never exceeds
  ``total / (capacity + 1)``. A row's other columns (flagged, 4xx, bytes, first seen, ...) count
  from the moment the key entered the table: exact when ``error == 0``, lower bounds otherwise.
* Countries are a plain table (the code universe is small): requests and flagged are exact;
  distinct IPs are exact up to 64 per country, then a HyperLogLog estimate (about 1.6% error).
* Rates are per second of ingestion wall clock (the injectable ``clock``), averaged over the last
  1, 10 or 60 *complete* seconds (fewer right after the start), plus per-second series of the
  last ``history`` seconds for sparklines.
* Flagged requests and alerts are kept in bounded rings (``flagged_ring``, ``alert_ring``), the
  oldest dropped only after being counted, with a ``dropped`` counter each; ``feed`` holds the
  newest of both in arrival order, numbered (see ``threatlens.stats.feed``).
* Drill-down (``ip_detail``): the latest ``recent`` requests (all IPs, with their verdicts) and
  the flagged ring are kept; an IP's retained requests are found there (at most ``ip_history`` of
  them, newest first), and its alerts in a per-IP list (LRU over IPs). Status mix, distinct paths
  and user agents, and the timeline come from those requests; the table row adds its totals.

Threshold changes (``recount``): every score is binned (0.01 wide) into numpy histograms kept
globally, per second, per IP row, per country and per port. ``recount(t)`` re-derives every flagged
count from them, then counts new requests exactly against ``t``. Re-derived counts are exact when
``t`` is a multiple of 0.01 (off the grid, the whole bin holding ``t`` counts). The flagged-IPs table
keeps only flagged requests: raising the threshold is exact there, lowering it cannot bring back
requests that were below the old one. "Possibly succeeded" (the total and each IP row's) is re-derived from
histograms of the requests that were marked so or were answered 2xx without being flagged: exact when raising
the threshold; when lowering it, a request below the old threshold with an unusual-size error answer (which the
scorer would have marked) is not counted. Each IP row's tier and categories come from its requests' tiers
(their highest score per tier) and categories (per score bin) plus its behaviour alerts (which do not depend on
the threshold): in the client-IP table every request is counted, so both ways are exact; in the flagged-IPs table
only flagged ones, as its counts, and ``top_flagged_ips`` also takes the client-IP table's most flagged rows. The
flagged ring likewise keeps what was flagged at ingestion; ``flagged()`` hides entries below a raised threshold.

Filtering (the monitor's ``/``): a ``Stats`` built with ``record_filter`` counts only matching
requests and alerts (unparsed lines are not counted there). The monitor runs one as a second
instance fed the same batches (``spawn_filtered``); it counts from the moment the filter was set.
"""

from __future__ import annotations

import contextlib
import gc
import time
from bisect import bisect_right
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from itertools import compress
from operator import itemgetter
from typing import Any

import numpy as np

from threatlens.export import alert_block_ips
from threatlens.models.verdict import CATEGORIES, SEVERITY_RANK, Alert, Verdict, severity_of
from threatlens.parsers.firewall import FirewallRecord
from threatlens.parsers.record import RECORD_INDEX, LogRecord, Unparsed
from threatlens.stats.countries import country_label
from threatlens.stats.distinct import DistinctCounters
from threatlens.stats.feed import Feed
from threatlens.stats.filter import RecordFilter
from threatlens.stats.firewall import FirewallStats
from threatlens.stats.geo import GeoLookup
from threatlens.stats.rates import RateMeter
from threatlens.stats.results import (
    PORTS_HINT,
    AlertEntry,
    CountryRow,
    FlaggedRequest,
    IPDetail,
    IPRow,
    KeyCount,
    PortRow,
    Rates,
    Totals,
)
from threatlens.stats.ring import Ring
from threatlens.stats.scores import SCORE_BINS, threshold_bin
from threatlens.stats.sketch import TopK

__all__ = ["Stats"]

# LogRecord / Verdict fields by position (NamedTuple indexing through itemgetter runs in C); the
# positions come from the field lists, never typed by hand (tests/test_stats_aggregates.py pins them).
_VERDICT_INDEX = {name: i for i, name in enumerate(Verdict._fields)}
_IP = RECORD_INDEX["ip"]
_FILE = RECORD_INDEX["file"]
_LINE = RECORD_INDEX["line"]
_SCORE = _VERDICT_INDEX["score"]
_CATEGORIES = _VERDICT_INDEX["categories"]
_SUCCEEDED = _VERDICT_INDEX["possibly_succeeded"]
_TIER_OF_RANK = {rank: tier for tier, rank in SEVERITY_RANK.items()}
_CATEGORY_ORDER = {c: i for i, c in enumerate(CATEGORIES)}
_get_time = itemgetter(RECORD_INDEX["time"])
_get_ip = itemgetter(_IP)
_get_path = itemgetter(RECORD_INDEX["path"])
_get_status = itemgetter(RECORD_INDEX["status"])
_get_bytes = itemgetter(RECORD_INDEX["bytes"])
_get_referer = itemgetter(RECORD_INDEX["referer"])
_get_ua = itemgetter(RECORD_INDEX["user_agent"])
_get_port = itemgetter(RECORD_INDEX["server_port"])
_get_vhost = itemgetter(RECORD_INDEX["vhost"])
_get_score = itemgetter(_SCORE)
_get_flagged = itemgetter(_VERDICT_INDEX["flagged"])
_get_succeeded = itemgetter(_SUCCEEDED)
_get_categories = itemgetter(_CATEGORIES)

_NB = SCORE_BINS + 1  # score-histogram cells per key
_ZERO: Callable[[Any, Any], Any] = {None: 0}.get  # map(_ZERO, xs, xs): None -> 0, else unchanged (in C)

#: Per-row columns of both IP tables that give a row its tier and categories at the threshold in force
#: (``Stats._tier``, ``Stats._categories``), from its "counted" requests (see ``_count_tiers``) and its alerts:
#: ``rtop[r]`` is 1 + the highest score of a counted request of tier rank ``r`` (0: none; 32 bytes),
#: ``rcats`` None, or ``({category: row}, counts)``: its counted requests with each category, by score bin
#: (int32, a row of 404 bytes per category it has);
#: ``asev`` and ``acats`` the most serious tier rank and the {category: count} of its behaviour alerts, which do
#: not depend on the threshold.
_TIER_COLUMNS: dict[str, tuple[Any, tuple[int, ...]]] = {
    "rtop": (np.float64, (len(SEVERITY_RANK),)),
    "rcats": (object, ()),
    "asev": (np.int8, ()),
    "acats": (object, ()),
}
_RANKS = len(SEVERITY_RANK)

_MAX_REASONS = 64
_MAX_COUNTRIES = 1024


class Stats:
    """Bounded live aggregates of scored requests and alerts (see the module docstring).

    Args:
        capacity: rows kept per top table (IPs, paths, user agents, referers; vhosts a quarter).
        ip_history: most requests ``ip_detail`` returns for one IP.
        recent: latest requests kept (all IPs), for drill-down; 0 keeps none (a headless scan
            needs no drill-down, and skipping it saves about a fifth of the update time).
        ring: flagged requests kept; ``alert_ring``: alerts kept; ``alerts_per_ip`` per IP.
        alert_blocks: IPs whose alerts are remembered for block lists after the alerts themselves are
            dropped (the latest to raise one), each with its most serious tier: ``alert_block_tiers``.
        feed: entries of ``feed`` (flagged requests and alerts in arrival order, numbered) kept.
        threshold: flag at ``score >= threshold``; None uses each verdict's ``flagged``.
        geo: country lookup (default ``GeoLookup.open()``).
        clock: seconds, for rates (``time.monotonic``; inject a fake one in tests).
        history: seconds of per-second series kept.
        record_filter: count only requests/alerts that match (a filtered view).
    """

    def __init__(
        self,
        *,
        capacity: int = 1000,
        ip_history: int = 200,
        recent: int = 20_000,
        ring: int = 5000,
        alert_ring: int = 2000,
        alerts_per_ip: int = 50,
        alert_blocks: int = 100_000,
        feed: int = 1000,
        threshold: float | None = None,
        geo: GeoLookup | None = None,
        clock: Callable[[], float] = time.monotonic,
        history: int = 600,
        record_filter: RecordFilter | None = None,
    ) -> None:
        self._config: dict[str, int] = {
            "capacity": capacity,
            "ip_history": ip_history,
            "recent": recent,
            "ring": ring,
            "alert_ring": alert_ring,
            "alerts_per_ip": alerts_per_ip,
            "alert_blocks": alert_blocks,
            "feed": feed,
            "history": history,
        }
        self.geo = geo if geo is not None else GeoLookup.open()
        self._clock = clock
        self.record_filter = record_filter if record_filter is not None and not record_filter.empty else None
        self.threshold = threshold
        #: the highest threshold requests were flagged at when counted: below it, the flagged-IPs table lacks some
        self._highest_counted = -1.0
        # totals
        self.lines = self.parsed = self.unparsed = 0
        self.scored = self.unscored = self.flagged_count = 0
        self.alert_count = self.possibly_succeeded = 0
        self._reasons: dict[str, int] = {}
        self._score_hist = np.zeros(_NB, dtype=np.int64)
        # by score bin: requests that would be "possibly succeeded" once flagged (marked so, or a 2xx answer
        # to one the scorer did not flag), so that ``recount`` can re-derive that total too
        self._succeeded_hist = np.zeros(_NB, dtype=np.int64)
        # tables: per-key columns live in each table's per-slot numpy arrays
        self._ips: TopK[str] = TopK(
            capacity,
            columns={
                "flag": (np.int64, ()),
                "max": (np.float64, ()),
                "n4": (np.int64, ()),
                "n5": (np.int64, ()),
                "bytes": (np.int64, ()),
                "first": (object, ()),
                "last": (object, ()),
                "cci": (np.intp, ()),
                "hist": (np.int64, (_NB,)),
                "alerts": (np.int64, ()),
                "ps": (np.int64, ()),
                "psh": (np.int64, (_NB,)),  # by score bin: requests that would be "possibly succeeded" if flagged
                **_TIER_COLUMNS,
            },
            slack=2 * capacity,
        )
        self._suspects: TopK[str] = TopK(
            max(64, capacity // 2),
            columns={
                "hist": (np.int64, (_NB,)),
                "max": (np.float64, ()),
                "n4": (np.int64, ()),
                "n5": (np.int64, ()),
                "bytes": (np.int64, ()),
                "first": (object, ()),
                "last": (object, ()),
                "cc": (object, ()),
                "alerts": (np.int64, ()),
                "ps": (np.int64, ()),
                "psh": (np.int64, (_NB,)),
                **_TIER_COLUMNS,
            },
        )
        self._paths: TopK[str] = TopK(capacity)
        self._uas: TopK[str] = TopK(capacity)
        self._referers: TopK[str] = TopK(capacity)
        self._vhosts: TopK[str] = TopK(max(64, capacity // 4))
        self._statuses: TopK[int] = TopK(128)
        self._ports: TopK[int] = TopK(256, columns={"flag": (np.int64, ()), "hist": (np.int64, (_NB,))})
        self._ports_seen = False
        #: firewall records (packets): ports panel and per-IP timelines; not filtered by ``record_filter``
        self.firewall = FirewallStats()
        # countries: an index per code into fixed arrays (the code universe is small)
        self._cc_index: dict[str | None, int] = {}
        self._cc_codes: list[str | None] = []
        self._c_req = np.zeros(_MAX_COUNTRIES, dtype=np.int64)
        self._c_flag = np.zeros(_MAX_COUNTRIES, dtype=np.int64)
        self._c_hist = np.zeros(_MAX_COUNTRIES * _NB, dtype=np.int64)
        self._c_distinct = DistinctCounters()
        self._country_index(None)  # index 0: unknown, also what the scratch slot 0 points at
        # rings, drill-down, rates
        self.flagged_ring: Ring[FlaggedRequest] = Ring(ring, decode=_decode_flagged)
        self.alert_ring: Ring[AlertEntry] = Ring(alert_ring)
        self.feed = Feed(feed, _decode_flagged, _stored_score, self.geo.country)
        self._feed_batch: list[tuple[str, int, Any]] = []  # this batch's flagged requests: (file, line, stored)
        # retained requests are stored as plain tuples: the garbage collector stops tracking a
        # plain tuple of atoms, never a named tuple, and every tracked object costs each collection
        #: The latest ``recent`` requests, per batch: records, verdicts, and each record's ``hash()`` of its
        #: client IP (int64), so ``ip_detail`` compares integers in C instead of every record's IP in Python.
        self._recent: deque[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]] | None, np.ndarray]] = deque()
        self._recent_n = 0  # records in _recent: the newest batches holding `recent` records
        self._ip_alerts: OrderedDict[str, deque[Alert]] = OrderedDict()
        #: block-list address -> the most serious tier (SEVERITY_RANK) of the alerts that named it, kept after
        #: the alert ring drops them: a brute-force attacker has alerts and no flagged request
        self._alert_blocks: OrderedDict[str, int] = OrderedDict()
        self._rates = RateMeter(history)

    def forget_rates(self) -> None:
        """Start the per-second rates afresh (a filtered view replays old requests: they did not arrive now)."""
        self._rates = RateMeter(self._rates.history)

    def spawn_filtered(self, record_filter: RecordFilter | None) -> Stats:
        """A new, empty ``Stats`` with the same settings, geo and clock, counting only matches."""
        return Stats(
            **self._config,
            threshold=self.threshold,
            geo=self.geo,
            clock=self._clock,
            record_filter=record_filter,
        )

    def _country_index(self, cc: str | None) -> int:
        i = self._cc_index.get(cc)
        if i is None:
            if len(self._cc_codes) >= _MAX_COUNTRIES - 1 and cc is not None:
                return self._country_index(None)  # only a hostile database has this many codes
            i = self._cc_index[cc] = len(self._cc_codes)
            self._cc_codes.append(cc)
        return i

    # -- ingestion -------------------------------------------------------------------------------

    def update(
        self,
        records: Sequence[LogRecord],
        verdicts: Sequence[Verdict] | None = None,
        alerts: Sequence[Alert] = (),
        unparsed: Sequence[Unparsed] = (),
        packets: Sequence[FirewallRecord] = (),
    ) -> None:
        """Count one batch: ``verdicts`` parallel to ``records`` (None: unscored), alerts, unparsed, packets.

        ``packets`` (firewall records) go to ``firewall`` and count as lines, not as requests.

        Batches of hundreds to thousands of records are the efficient size; any size works.
        """
        now = self._clock()
        if verdicts is not None and len(verdicts) != len(records):
            raise ValueError(f"{len(verdicts)} verdicts for {len(records)} records")
        if self.record_filter is not None:
            records, verdicts, alerts = self._apply_filter(records, verdicts, alerts)
            unparsed = ()
        if unparsed:
            self._count_unparsed(unparsed)
        if packets and self.record_filter is None:
            self.firewall.update(packets)
            self.lines += len(packets)
        n = len(records)
        self.lines += n + len(unparsed)
        self.parsed += n
        nflag = 0
        hist = None
        if n:
            nflag, hist = self._ingest(records, verdicts)
        entries = self._ingest_alerts(alerts) if alerts else []
        if entries or self._feed_batch:
            self._add_to_feed(entries)
        self._rates.add(now, n, nflag, len(alerts), hist)

    def _apply_filter(
        self,
        records: Sequence[LogRecord],
        verdicts: Sequence[Verdict] | None,
        alerts: Sequence[Alert],
    ) -> tuple[Sequence[LogRecord], Sequence[Verdict] | None, Sequence[Alert]]:
        flt = self.record_filter
        assert flt is not None
        keep = flt.select(records, verdicts, self.geo.countries(list(map(_get_ip, records))))
        if len(keep) != len(records):
            records = [records[i] for i in keep]
            if verdicts is not None:
                verdicts = [verdicts[i] for i in keep]
        geo = self.geo.country
        return records, verdicts, [a for a in alerts if flt.matches_alert(a, geo(a.ip), geo)]

    def _count_unparsed(self, unparsed: Sequence[Unparsed]) -> None:
        self.unparsed += len(unparsed)
        reasons = self._reasons
        for u in unparsed:
            reason = u.reason
            if reason not in reasons and len(reasons) >= _MAX_REASONS:
                reason = "other"
            reasons[reason] = reasons.get(reason, 0) + 1

    def _ingest(self, records: Sequence[LogRecord], verdicts: Sequence[Verdict] | None) -> tuple[int, Any]:
        """Count a non-empty batch; returns (flagged count, score histogram or None).

        All per batch: C-level ``Counter`` passes per column, one sketch merge per table (one
        dictionary lookup per distinct key, the arithmetic vectorised), numpy scatter-adds into the
        client-IP table's per-slot columns; only flagged requests get a pass of their own.
        """
        n = len(records)
        # -- simple tables: one C-level count per column
        for getter, tab in ((_get_path, self._paths), (_get_ua, self._uas), (_get_referer, self._referers)):
            counts = Counter(map(getter, records))
            counts.pop(None, None)
            tab.merge(counts)
        sta = _ints(map(_get_status, records), n)
        ok = (sta > 0) & (sta < 1000)
        if not ok.all():  # None, or beyond what a status can be
            sta = np.where(ok, sta, 0)
        st_counts = np.bincount(sta)
        codes = np.flatnonzero(st_counts[1:]) + 1
        self._statuses.merge_keys(codes.tolist(), st_counts[codes])
        if any(map(_get_vhost, records)):
            vh = Counter(map(_get_vhost, records))
            vh.pop(None, None)
            self._vhosts.merge(vh)
        prec = None  # per request: its port's slot in the port table
        if any(map(_get_port, records)):
            parr = _ints(map(_get_port, records), n)
            pvals, pinv, pcnt = np.unique(parr, return_inverse=True, return_counts=True)
            real = pvals > 0
            if real.any():
                self._ports_seen = True
                pslots = np.zeros(len(pvals), dtype=np.intp)
                pslots[real] = self._ports.merge_keys(pvals[real].tolist(), pcnt[real], prune=False)[0]
                prec = pslots[pinv]

        # -- client IPs: one sketch merge, new IPs get their country, then per-slot scatter-adds
        table = self._ips
        cols = table.col
        ips = list(map(_get_ip, records))
        ipc = Counter(ips)
        ipc.pop(None, None)
        keys = list(ipc)
        slots, new = table.merge_keys(keys, list(ipc.values()), prune=False)
        if new:
            self._place_new_ips([keys[i] for i in new], slots[new])
        slot_of = dict(zip(keys, slots.tolist(), strict=True))
        slot_of[None] = 0  # requests without a client IP go to the scratch slot
        srec = np.fromiter(map(slot_of.__getitem__, ips), dtype=np.intp, count=n)
        byt = _ints(map(_get_bytes, records), n)
        np.add.at(cols["bytes"], srec, byt)
        np.add.at(cols["n4"], srec[(sta >= 400) & (sta < 500)], 1)
        np.add.at(cols["n5"], srec[(sta >= 500) & (sta < 600)], 1)
        rec_cc = cols["cci"][srec]
        self._c_req += np.bincount(rec_cc, minlength=_MAX_COUNTRIES)

        times = np.fromiter(map(_get_time, records), dtype=object, count=n)
        _first_last(cols, times, srec)
        keep = self._config["recent"] > 0
        plain_recs = list(map(_plain, records)) if keep else []
        ip_hashes = np.fromiter(map(hash, ips), dtype=np.int64, count=n) if keep else _NO_HASHES  # hashes cached

        if verdicts is None:
            self.unscored += n
            if keep:
                self._retain(plain_recs, None, ip_hashes)
            table.prune()
            self._ports.prune()
            return 0, None

        # -- scores: flags per the current rule; histograms per IP, country, port and globally
        self.scored += n
        plain_vers = list(map(_plain, verdicts)) if keep else []
        if keep:
            self._retain(plain_recs, plain_vers, ip_hashes)
        scores = np.fromiter(map(_get_score, verdicts), dtype=np.float64, count=n)
        np.nan_to_num(scores, copy=False, nan=0.0)
        thr = self.threshold
        if thr is None:
            flags = np.fromiter(map(_get_flagged, verdicts), dtype=np.bool_, count=n)
        else:
            flags = scores >= thr
            self._highest_counted = max(self._highest_counted, thr)
        nflag = int(np.count_nonzero(flags))
        self.flagged_count += nflag
        np.maximum.at(cols["max"], srec, scores)
        bins = np.clip(np.floor(scores * SCORE_BINS + 1e-9), 0, SCORE_BINS).astype(np.intp)
        hist = np.bincount(bins, minlength=_NB)
        self._score_hist += hist
        would = np.fromiter(map(_get_succeeded, verdicts), dtype=np.bool_, count=n)
        would |= ~np.fromiter(map(_get_flagged, verdicts), dtype=np.bool_, count=n) & (sta >= 200) & (sta < 300)
        self._succeeded_hist += np.bincount(bins[would], minlength=_NB)
        cats = list(map(_get_categories, verdicts))
        if thr is None:  # the verdicts' own flags: only what was flagged
            pick = np.flatnonzero(flags)
            _count_tiers(cols, srec[pick], [cats[i] for i in pick.tolist()], scores[pick], bins[pick])
        else:  # every request, so that a row's tier and categories follow ``recount`` both ways
            _count_tiers(cols, srec, cats, scores, bins)
        np.add.at(cols["psh"].reshape(-1), srec[would] * _NB + bins[would], 1)
        np.add.at(cols["hist"].reshape(-1), srec * _NB + bins, 1)
        np.add.at(self._c_hist, rec_cc * _NB + bins, 1)
        if prec is not None:
            pcols = self._ports.col
            np.add.at(pcols["hist"].reshape(-1), prec * _NB + bins, 1)
            if nflag:
                np.add.at(pcols["flag"], prec[flags], 1)
        if nflag:
            np.add.at(cols["flag"], srec[flags], 1)
            self._c_flag += np.bincount(rec_cc[flags], minlength=_MAX_COUNTRIES)
            self._ingest_flagged(
                records, verdicts, np.flatnonzero(flags), srec, scores, bins, sta, byt, times, plain_recs, plain_vers,
                would,
            )
        table.prune()
        self._ports.prune()
        return nflag, hist

    def _retain(self, recs: list[tuple[Any, ...]], vers: list[tuple[Any, ...]] | None, ip_hashes: np.ndarray) -> None:
        """Keep the batch among the latest ``recent`` requests (dropping whole old batches)."""
        recent = self._recent
        recent.append((recs, vers, ip_hashes))
        self._recent_n += len(recs)
        limit = self._config["recent"]
        while self._recent_n - len(recent[0][0]) >= limit:
            self._recent_n -= len(recent.popleft()[0])
        if self._recent_n > limit:  # trim the oldest batch to the limit
            old_recs, old_vers, old_hashes = recent[0]
            cut = self._recent_n - limit
            recent[0] = (old_recs[cut:], None if old_vers is None else old_vers[cut:], old_hashes[cut:])
            self._recent_n = limit

    def _place_new_ips(self, new_ips: list[str], slots: np.ndarray) -> None:
        """Country of the IPs that just entered the table, and their count as distinct IPs."""
        index = self._cc_index
        ccis = [
            i if (i := index.get(cc)) is not None else self._country_index(cc)
            for cc in self.geo.countries(new_ips)
        ]
        self._ips.col["cci"][slots] = ccis
        self._c_distinct.update_pairs(ccis, new_ips)

    def _ingest_flagged(
        self,
        records: Sequence[LogRecord],
        verdicts: Sequence[Verdict],
        idx: np.ndarray,
        srec: np.ndarray,
        scores: np.ndarray,
        bins: np.ndarray,
        sta: np.ndarray,
        byt: np.ndarray,
        times: np.ndarray,
        plain_recs: list[tuple[Any, ...]],
        plain_vers: list[tuple[Any, ...]],
        would: np.ndarray,
    ) -> None:
        """The flagged requests of a batch: ring, possibly succeeded, flagged-IPs table."""
        cci = self._ips.col["cci"]
        codes = self._cc_codes
        ring = self.flagged_ring
        feed_batch = self._feed_batch
        ips_ps = self._ips.col["ps"]
        fips: list[str | None] = []
        for i, slot in zip(idx.tolist(), srec[idx].tolist(), strict=True):
            rec = records[i]
            ver = verdicts[i]
            cc = codes[cci[slot]] if slot else self.geo.country(rec[_IP])
            stored = (plain_recs[i], plain_vers[i], cc) if plain_recs else (rec[:], ver[:], cc)
            ring.append_raw(stored)
            feed_batch.append((rec[_FILE], rec[_LINE], stored))
            fips.append(rec[_IP])
            if ver[_SUCCEEDED]:
                if slot:
                    ips_ps[slot] += 1
                self.possibly_succeeded += 1
        # the flagged-IPs table: the same scatter-adds, over the flagged requests only
        have_ip = np.fromiter((ip is not None for ip in fips), dtype=np.bool_, count=len(fips))
        if not have_ip.any():
            return
        idx = idx[have_ip]
        fkeys = [ip for ip in fips if ip is not None]
        sus = self._suspects
        cols = sus.col
        fc = Counter(fkeys)
        keys = list(fc)
        slots, new = sus.merge_keys(keys, list(fc.values()), prune=False)
        if new:
            nk = [keys[i] for i in new]
            cols["cc"][slots[new]] = np.fromiter(self.geo.countries(nk), dtype=object, count=len(nk))
        slot_of = dict(zip(keys, slots.tolist(), strict=True))
        fs = np.fromiter(map(slot_of.__getitem__, fkeys), dtype=np.intp, count=len(fkeys))
        np.maximum.at(cols["max"], fs, scores[idx])
        np.add.at(cols["hist"].reshape(-1), fs * _NB + bins[idx], 1)
        fw = would[idx]
        np.add.at(cols["psh"].reshape(-1), fs[fw] * _NB + bins[idx][fw], 1)
        np.add.at(cols["bytes"], fs, byt[idx])
        fst = sta[idx]
        np.add.at(cols["n4"], fs[(fst >= 400) & (fst < 500)], 1)
        np.add.at(cols["n5"], fs[(fst >= 500) & (fst < 600)], 1)
        _first_last(cols, times[idx], fs)
        _count_tiers(cols, fs, [verdicts[i][_CATEGORIES] for i in idx.tolist()], scores[idx], bins[idx])
        for i, slot in zip(idx.tolist(), fs.tolist(), strict=True):
            if verdicts[i][_SUCCEEDED]:
                cols["ps"][slot] += 1
        sus.prune()

    def _ingest_alerts(self, alerts: Sequence[Alert]) -> list[AlertEntry]:
        geo = self.geo.country
        ring = self.alert_ring
        by_ip = self._ip_alerts
        cap = self._config["capacity"]
        per_ip = self._config["alerts_per_ip"]
        entries = []
        for alert in alerts:
            entry = AlertEntry(alert, geo(alert.ip))
            entries.append(entry)
            ring.append(entry)
            self.alert_count += 1
            for table in (self._ips, self._suspects):
                slot = table.slot(alert.ip)
                if slot:
                    table.col["alerts"][slot] += 1
                    table.col["asev"][slot] = max(int(table.col["asev"][slot]), SEVERITY_RANK.get(alert.severity, 0))
                    if alert.categories:
                        _count_into(table.col["acats"], slot, alert.categories)
            dq = by_ip.get(alert.ip)
            if dq is None:
                dq = by_ip[alert.ip] = deque(maxlen=per_ip)
                if len(by_ip) > cap:
                    by_ip.popitem(last=False)
            else:
                by_ip.move_to_end(alert.ip)
            dq.append(alert)
            self._remember_block(alert)
        return entries

    def _remember_block(self, alert: Alert) -> None:
        blocks = self._alert_blocks
        rank = SEVERITY_RANK.get(alert.severity, 0)
        for ip in alert_block_ips(alert):
            blocks[ip] = max(rank, blocks.pop(ip, 0))  # re-inserted: the newest last, the oldest evicted first
        while len(blocks) > self._config["alert_blocks"]:
            blocks.popitem(last=False)

    def alert_block_tiers(self) -> dict[str, int]:
        """Every address alerts named for a block list (the latest ``alert_blocks``), with its most serious tier rank.

        As ``threatlens scan --blocklist`` counts them (``export.alert_block_ips``: a campaign's members only when
        it is an attack), including alerts the alert ring no longer holds.
        """
        return dict(self._alert_blocks)

    def _add_to_feed(self, alerts: Sequence[AlertEntry]) -> None:
        """Append the batch's flagged requests in line order, each alert right after the line that raised it.

        An alert goes after the last flagged request of its file at or before its ``last_line`` (before
        them all if there is none); one whose file had no flagged request in the batch goes after them all.
        """
        flagged, self._feed_batch = self._feed_batch, []
        feed = self.feed
        after: dict[int, list[AlertEntry]] = {}
        if alerts:
            lines: dict[str, list[tuple[int, int]]] = {}
            for i, (file, line, _stored) in enumerate(flagged):
                lines.setdefault(file, []).append((line, i))
            for entry in alerts:
                a = entry.alert
                mine = lines.get(a.file, [])
                k = bisect_right(mine, (a.last_line, len(flagged)))
                place = mine[k - 1][1] if k else (-1 if mine else len(flagged) - 1)
                after.setdefault(place, []).append(entry)
        for entry in after.get(-1, ()):
            feed.add_alert(entry)
        for i, (_file, _line, stored) in enumerate(flagged):
            feed.add_request(stored)
            for entry in after.get(i, ()):
                feed.add_alert(entry)

    # -- threshold -------------------------------------------------------------------------------

    def recount(self, threshold: float) -> None:
        """Re-evaluate every flagged count for a new threshold (see the module docstring).

        Vectorised over the histograms plus one pass over the table rows: about a millisecond.
        """
        if not 0.0 <= threshold <= 1.0:
            raise ValueError("threshold must be within [0, 1]")
        self.threshold = threshold
        first = threshold_bin(threshold)
        self.flagged_count = int(self._score_hist[first:].sum())
        self.possibly_succeeded = int(self._succeeded_hist[first:].sum())
        for tab in (self._ips, self._ports):
            tab.col["flag"][:] = tab.col["hist"][:, first:].sum(axis=1)
        for tab in (self._ips, self._suspects):
            tab.col["ps"][:] = tab.col["psh"][:, first:].sum(axis=1)
        self._c_flag[:] = self._c_hist.reshape(-1, _NB)[:, first:].sum(axis=1)
        self._rates.rethreshold(first)

    # -- reading: totals and rates ---------------------------------------------------------------

    def totals(self) -> Totals:
        """Exact totals."""
        return Totals(
            lines=self.lines,
            parsed=self.parsed,
            unparsed=self.unparsed,
            unparsed_by_reason=dict(self._reasons),
            scored=self.scored,
            unscored=self.unscored,
            flagged=self.flagged_count,
            alerts=self.alert_count,
            possibly_succeeded=self.possibly_succeeded,
            threshold=self.threshold,
            packets=self.firewall.packets,
        )

    def rates(self, now: float | None = None) -> Rates:
        """Requests, flagged and alerts per second (see ``RateMeter``)."""
        now = self._clock() if now is None else now
        r = self._rates.rate
        return Rates(
            requests_1s=r(now, 1),
            requests_10s=r(now, 10),
            requests_60s=r(now, 60),
            flagged_1s=r(now, 1, "flagged"),
            flagged_10s=r(now, 10, "flagged"),
            flagged_60s=r(now, 60, "flagged"),
            alerts_60s=r(now, 60, "alerts"),
        )

    def history(self, what: str = "requests", seconds: int | None = None, now: float | None = None) -> list[int]:
        """Per-second counts (``requests``, ``flagged`` or ``alerts``), oldest first, for sparklines."""
        now = self._clock() if now is None else now
        return self._rates.series(now, seconds, what)

    # -- reading: tables -------------------------------------------------------------------------

    def _tier(self, col: dict[str, np.ndarray], slot: int) -> str:
        """A row's tier at the threshold in force: the most serious of its requests at or above it and its alerts."""
        thr = self.threshold
        rank = int(col["asev"][slot])
        top = col["rtop"][slot].tolist()
        above = 1.0 + (0.0 if thr is None else thr)
        for r in range(_RANKS - 1, rank, -1):
            if top[r] >= above:
                return _TIER_OF_RANK[r]
        return _TIER_OF_RANK[rank]

    def _categories(self, col: dict[str, np.ndarray], slot: int) -> tuple[str, ...]:
        """A row's categories at the threshold in force (most frequent first): its requests' and alerts'.

        Off the 0.01 grid, a category counts its requests in the whole bin holding the threshold (as the
        flagged counts that ``recount`` re-derives).
        """
        alerted = col["acats"][slot]
        held = col["rcats"][slot]
        if held is None:
            return _ranked(alerted)
        counts = dict(alerted) if alerted else {}
        thr = self.threshold
        index, by_bin = held
        above = by_bin[:, 0 if thr is None else threshold_bin(thr):].sum(axis=1).tolist()
        for cat, k in zip(index, above, strict=True):
            if k:
                counts[cat] = counts.get(cat, 0) + k
        return _ranked(counts)

    def _ip_row(self, ip: str, slot: int) -> IPRow:
        tab = self._ips
        col = tab.col
        return IPRow(
            ip=ip,
            requests=int(tab.counts[slot]),
            error=int(tab.errors[slot]),
            flagged=int(col["flag"][slot]),
            max_score=float(col["max"][slot]),
            status_4xx=int(col["n4"][slot]),
            status_5xx=int(col["n5"][slot]),
            bytes=int(col["bytes"][slot]),
            country=self._cc_codes[int(col["cci"][slot])],
            first_seen=col["first"][slot],
            last_seen=col["last"][slot],
            categories=self._categories(col, slot),
            alerts=int(col["alerts"][slot]),
            possibly_succeeded=int(col["ps"][slot]),
            severity=self._tier(col, slot),
        )

    def _suspect_flagged(self, slot: int) -> int:
        first = 0 if self.threshold is None else threshold_bin(self.threshold)
        return int(self._suspects.col["hist"][slot, first:].sum())

    def _suspect_row(self, ip: str, slot: int) -> IPRow:
        col = self._suspects.col
        flagged = self._suspect_flagged(slot)
        return IPRow(
            ip=ip,
            requests=flagged,
            error=0,
            flagged=flagged,
            max_score=float(col["max"][slot]),
            status_4xx=int(col["n4"][slot]),
            status_5xx=int(col["n5"][slot]),
            bytes=int(col["bytes"][slot]),
            country=col["cc"][slot],
            first_seen=col["first"][slot],
            last_seen=col["last"][slot],
            categories=self._categories(col, slot),
            alerts=int(col["alerts"][slot]),
            possibly_succeeded=int(col["ps"][slot]),
            severity=self._tier(col, slot),
        )

    def top_ips(self, n: int = 10) -> list[IPRow]:
        """Client IPs with the most requests."""
        return [self._ip_row(ip, slot) for ip, slot in self._ips.top_slots(n)]

    def _flagged_ip_row(self, ip: str, sslot: int) -> IPRow:
        slot = self._ips.slot(ip)
        if not slot:  # only its flagged requests are known
            return self._suspect_row(ip, sslot)
        r = self._ip_row(ip, slot)
        col = self._suspects.col
        return r._replace(
            flagged=max(r.flagged, self._suspect_flagged(sslot)),
            max_score=max(r.max_score, float(col["max"][sslot])),
            categories=r.categories or self._categories(col, sslot),
            severity=max(r.severity, self._tier(col, sslot), key=SEVERITY_RANK.__getitem__),
        )

    def top_flagged_ips(self, n: int = 10) -> list[IPRow]:
        """Client IPs with the most flagged requests, from a sketch of flagged requests only.

        When the IP is also in the client-IP table its requests and other columns come from
        there; otherwise ``requests`` counts its flagged requests only.
        """
        sus = dict(self._suspects.top_slots(2 * n))
        out = [self._flagged_ip_row(ip, slot) for ip, slot in sus.items()]
        if self.threshold is not None and self.threshold < self._highest_counted:
            # requests the flagged-IPs table never saw pass the lowered threshold: the client-IP table counted them
            out += [self._ip_row(ip, slot) for ip, slot in self._ips.top_slots(n, by=self._ips.col["flag"])
                    if ip not in sus]
        out.sort(key=lambda r: r.flagged, reverse=True)
        return [r for r in out if r.flagged > 0][:n]

    @staticmethod
    def _simple(table: TopK[Any], n: int) -> list[KeyCount]:
        return [KeyCount(k, c, e) for k, c, e in table.top(n)]

    def top_paths(self, n: int = 10) -> list[KeyCount]:
        """Request paths (without the query) with the most requests."""
        return self._simple(self._paths, n)

    def top_user_agents(self, n: int = 10) -> list[KeyCount]:
        """User agents with the most requests."""
        return self._simple(self._uas, n)

    def top_referers(self, n: int = 10) -> list[KeyCount]:
        """Referers with the most requests (requests without one are not counted)."""
        return self._simple(self._referers, n)

    def top_vhosts(self, n: int = 10) -> list[KeyCount]:
        """Virtual hosts with the most requests."""
        return self._simple(self._vhosts, n)

    def top_statuses(self, n: int = 10) -> list[KeyCount]:
        """Status codes with the most requests."""
        return self._simple(self._statuses, n)

    @property
    def ports_available(self) -> bool:
        """Whether any request so far carried a server port."""
        return self._ports_seen

    @property
    def ports_hint(self) -> str:
        """What to show instead of an empty port table (how to log the port); empty if available."""
        return "" if self._ports_seen else PORTS_HINT

    def top_ports(self, n: int = 10) -> list[PortRow]:
        """Server ports with the most requests (empty while ``ports_available`` is False)."""
        tab = self._ports
        flag = tab.col["flag"]
        return [
            PortRow(p, int(tab.counts[s]), int(tab.errors[s]), int(flag[s])) for p, s in tab.top_slots(n)
        ]

    def top_countries(self, n: int = 10, by: str = "requests") -> list[CountryRow]:
        """Countries by ``requests``, ``flagged`` or ``distinct_ips``; ties by requests."""
        k = len(self._cc_codes)
        req = self._c_req[:k]
        dc = self._c_distinct
        if by == "requests":
            primary = req
        elif by == "flagged":
            primary = self._c_flag[:k]
        elif by == "distinct_ips":
            primary = np.array([dc.count(i) for i in range(k)], dtype=np.int64)
        else:
            raise ValueError(f"unknown sort key {by!r}")
        present = np.flatnonzero((req > 0) | (self._c_flag[:k] > 0))
        order = present[np.lexsort((present, -req[present], -primary[present]))][: max(n, 0)]
        flg = self._c_flag
        return [
            CountryRow(cc, country_label(cc), int(req[i]), int(flg[i]), dc.count(i), dc.exact(i))
            for i, cc in ((i, self._cc_codes[i]) for i in order.tolist())
        ]

    def table(self, name: str, n: int = 10) -> list[Any]:
        """Any top table by name: ips, flagged_ips, countries, ports, paths, user_agents, ..."""
        readers: dict[str, Callable[[int], list[Any]]] = {
            "ips": self.top_ips,
            "flagged_ips": self.top_flagged_ips,
            "countries": self.top_countries,
            "ports": self.top_ports,
            "paths": self.top_paths,
            "user_agents": self.top_user_agents,
            "referers": self.top_referers,
            "vhosts": self.top_vhosts,
            "statuses": self.top_statuses,
        }
        reader = readers.get(name)
        if reader is None:
            raise ValueError(f"unknown table {name!r} (one of {', '.join(readers)})")
        return reader(n)

    def error_bounds(self) -> dict[str, tuple[int, float]]:
        """Per table: ``(floor, guaranteed bound)``; a floor of 0 means every count is exact so far."""
        tables: dict[str, TopK[Any]] = {
            "ips": self._ips,
            "flagged_ips": self._suspects,
            "paths": self._paths,
            "user_agents": self._uas,
            "referers": self._referers,
            "vhosts": self._vhosts,
            "statuses": self._statuses,
            "ports": self._ports,
        }
        return {name: (t.floor, t.error_bound) for name, t in tables.items()}

    # -- reading: rings --------------------------------------------------------------------------

    def flagged(self, n: int | None = None) -> list[FlaggedRequest]:
        """Retained flagged requests, newest first, that pass the current threshold."""
        thr = self.threshold
        if thr is None:
            return self.flagged_ring.newest(n)
        if n is not None and n <= 0:
            return []
        out: list[FlaggedRequest] = []
        for item in reversed(self.flagged_ring.raw()):  # decode only what is returned
            if item[1][_SCORE] >= thr:
                out.append(_decode_flagged(item))
                if n is not None and len(out) >= n:
                    break
        return out

    def alerts(self, n: int | None = None) -> list[AlertEntry]:
        """Retained alerts, newest first."""
        return self.alert_ring.newest(n)

    # -- reading: drill-down ---------------------------------------------------------------------

    def ip_row(self, ip: str) -> IPRow | None:
        """The table row of one client IP (client-IP table, else flagged-IPs table); None if in neither."""
        slot = self._ips.slot(ip)
        if slot:
            return self._ip_row(ip, slot)
        sslot = self._suspects.slot(ip)
        return self._flagged_ip_row(ip, sslot) if sslot else None

    def retained(self, min_score: float | None = None) -> list[tuple[LogRecord, Verdict | None]]:
        """Every request still held, oldest first: flagged ones older than the window, then the window.

        The window is the latest ``recent`` requests (verdict None when unscored); the flagged ring
        adds older flagged requests. With ``min_score``, only scored requests at or above it. For
        rebuilding a view from what is held (a filter set later, exports), not each table refresh.
        """
        paused = gc.isenabled()
        gc.disable()  # tuples by the hundred thousand: collections would rescan all the held data
        try:
            window: list[tuple[Any, Any]] = []
            held: set[int] = set()
            for recs, vers, _hashes in self._recent:
                held.update(map(id, recs))
                if vers is not None:
                    window.extend(zip(recs, vers, strict=True))
                elif min_score is None:
                    window.extend(zip(recs, [None] * len(recs), strict=True))
            older = [(rec, ver) for rec, ver, _cc in self.flagged_ring.raw() if id(rec) not in held]
            pairs = older + window
            if min_score is not None:
                pairs = [p for p in pairs if p[1] is not None and p[1][_SCORE] >= min_score]
            return [_decode_pair(p) for p in pairs]
        finally:
            if paused:
                gc.enable()

    def ip_detail(self, ip: str) -> IPDetail:
        """Everything retained about ``ip`` (see ``IPDetail``).

        Its requests come from the latest ``recent`` requests and the flagged ring; a scan of
        both (a few milliseconds): meant for the drill-down screen, not every table refresh.
        """
        iprow = self.ip_row(ip)
        cap = self._config["ip_history"]
        found: dict[int, tuple[Any, Any]] = {}
        want = hash(ip)
        for recs, vers, ip_hashes in reversed(self._recent):  # newest batch first; stop once enough
            for i in reversed(np.flatnonzero(ip_hashes == want).tolist()):
                rec = recs[i]
                if rec[_IP] == ip:  # not another address with the same hash
                    found[id(rec)] = (rec, None if vers is None else vers[i])
            if len(found) >= cap:
                break
        for rec, ver, _cc in self.flagged_ring.raw():
            if rec[_IP] == ip:
                found.setdefault(id(rec), (rec, ver))
        pairs = _by_log_time([_decode_pair(p) for p in found.values()])[:cap]
        recs = [p[0] for p in pairs]
        uas: dict[str, int] = {}
        for r in reversed(recs):
            ua = r.user_agent
            if ua is not None and (ua in uas or len(uas) < 50):
                uas[ua] = uas.get(ua, 0) + 1
        return IPDetail(
            ip=ip,
            country=iprow.country if iprow is not None else self.geo.country(ip),
            row=iprow,
            requests=pairs,
            alerts=list(reversed(self._ip_alerts.get(ip, ()))),
            status_mix=dict(Counter(r.status for r in recs)),
            paths=Counter(r.path for r in recs if r.path is not None).most_common(50),
            user_agents=list(uas.items()),
        )


_NO_HASHES = np.zeros(0, dtype=np.int64)
_plain = itemgetter(slice(None))  # a named tuple's fields as a plain tuple, in C
_make_record = LogRecord._make
_make_verdict = Verdict._make


def _decode_pair(pair: tuple[Any, Any]) -> tuple[LogRecord, Verdict | None]:
    rec, ver = pair
    return _make_record(rec), (None if ver is None else _make_verdict(ver))


def _decode_flagged(item: tuple[Any, Any, str | None]) -> FlaggedRequest:
    return FlaggedRequest(_make_record(item[0]), _make_verdict(item[1]), item[2])


def _stored_score(item: tuple[Any, Any, str | None]) -> float:
    return float(item[1][_SCORE])


class _TierRanks(dict[tuple[str, ...], int]):
    """Categories -> the tier rank a flagged request with them has (the model gives its verdicts that tier)."""

    def __missing__(self, cats: tuple[str, ...]) -> int:
        if len(self) >= 4096:  # a few dozen combinations occur; never grow without bound
            self.clear()
        rank = self[cats] = SEVERITY_RANK[severity_of(cats)]
        return rank


_TIER_RANK = _TierRanks()


def _count_tiers(cols: dict[str, np.ndarray], slots: np.ndarray, cats: list[tuple[str, ...]], scores: np.ndarray,
                 bins: np.ndarray) -> None:
    """Count requests into their rows' ``rtop`` and ``rcats`` (``_TIER_COLUMNS``): slots, categories, scores, bins.

    A row's tier and categories at any threshold come from these; a request counts wherever its score passes.
    """
    n = len(cats)
    if not n:
        return
    try:
        ranks = np.fromiter(map(_TIER_RANK.__getitem__, cats), dtype=np.intp, count=n)
    except TypeError:  # categories given as a list
        cats = [tuple(c) for c in cats]
        ranks = np.fromiter(map(_TIER_RANK.__getitem__, cats), dtype=np.intp, count=n)
    np.maximum.at(cols["rtop"].reshape(-1), slots * _RANKS + ranks, scores + 1.0)
    rcats = cols["rcats"]
    slot_list = slots.tolist()
    bin_list = bins.tolist()
    for i in compress(range(n), cats):  # the requests with categories
        slot = slot_list[i]
        if not slot:
            continue
        held = rcats[slot]
        if held is None:
            held = rcats[slot] = ({}, np.zeros((0, _NB), dtype=np.int32))
        index, by_bin = held
        for cat in cats[i]:
            row = index.get(cat)
            if row is None:
                row = index[cat] = len(index)
                by_bin = np.concatenate([by_bin, np.zeros((1, _NB), dtype=np.int32)])
                held = rcats[slot] = (index, by_bin)
            by_bin[row, bin_list[i]] += 1


def _count_into(col: np.ndarray, slot: int, names: Iterable[str]) -> None:
    """Add one to each name in the {name: count} dict at ``col[slot]`` (created on first use)."""
    counts = col[slot]
    if counts is None:
        counts = col[slot] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1


def _ints(values: Iterable[int | None], n: int) -> np.ndarray:
    """An int64 array of ``values`` with None as 0 (in C); values beyond int64 also become 0."""
    vals = list(values)
    try:
        return np.fromiter(map(_ZERO, vals, vals), dtype=np.int64, count=n)
    except (OverflowError, TypeError, ValueError):  # a number too large, or not a number at all
        return np.fromiter(
            (v if isinstance(v, int) and -(2**62) < v < 2**62 else 0 for v in vals), dtype=np.int64, count=n
        )


def _first_last(cols: dict[str, np.ndarray], times: np.ndarray, slots: np.ndarray) -> None:
    """Per slot: last seen = the time of its latest request here; first seen, if not set yet."""
    timed = np.not_equal(times, None)  # type: ignore[call-overload]
    pos = np.flatnonzero(timed)
    if not len(pos):
        return
    ts = slots[pos]
    size = len(cols["last"])
    last = np.full(size, -1, dtype=np.intp)
    np.maximum.at(last, ts, pos)
    seen = np.flatnonzero(last >= 0)
    cols["last"][seen] = times[last[seen]]
    unset = seen[np.equal(cols["first"][seen], None)]  # type: ignore[call-overload]
    if len(unset):
        first = np.full(size, len(times), dtype=np.intp)
        np.minimum.at(first, ts, pos)
        cols["first"][unset] = times[first[unset]]


def _ranked(counts: dict[str, int] | None) -> tuple[str, ...]:
    """Keys of a count dict, most frequent first; ties in ``CATEGORIES`` order.

    Not in arrival order: that depends on the threshold the requests were counted at.
    """
    if not counts:
        return ()
    return tuple(sorted(counts, key=lambda c: (-counts[c], _CATEGORY_ORDER.get(c, len(_CATEGORY_ORDER)), c)))


def _by_log_time(pairs: list[tuple[LogRecord, Verdict | None]]) -> list[tuple[LogRecord, Verdict | None]]:
    """Newest first by log time (then file and line); records without a time go last."""
    timed = [p for p in pairs if p[0].time is not None]
    untimed = [p for p in pairs if p[0].time is None]
    with contextlib.suppress(TypeError):  # naive and aware times mixed: keep ingestion order
        timed.sort(key=lambda p: (p[0].time, p[0].file, p[0].line), reverse=True)
    untimed.sort(key=lambda p: (p[0].file, p[0].line), reverse=True)
    return timed + untimed


