"""``BehaviourTracker``: sliding per-IP windows over log time, vectorised per batch.

Each batch is grouped by IP and sorted by the log's own timestamps (numpy), cut into segments
of one IP within one minute, and merged with the per-IP state (``IpTable``) without a Python
loop per record. Only the rare records that carry evidence (4xx answers, sensitive paths, POSTs
to login/forms, attack tools, flagged requests) and the segments that cross a threshold are
looked at one by one. Replaying an old log therefore gives the same alerts as following it live.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat
from operator import eq, itemgetter
from typing import Protocol

import numpy as np
import pandas as pd

from threatlens.models.behaviour.config import BehaviourConfig
from threatlens.models.behaviour.features import window_features
from threatlens.models.behaviour.rules import (
    PAYLOAD_CATEGORIES,
    Evidence,
    categories_for,
    evaluate,
    printable,
    should_emit,
    strength,
)
from threatlens.models.behaviour.table import COUNTERS, IpTable
from threatlens.models.behaviour.vocabulary import (
    ADMIN,
    BAD_BOT,
    BAD_TOOL,
    DOWNLOAD,
    FORM,
    GOOD_CRAWLER,
    LOGIN,
    PROBE,
    SCRIPT,
    SENSITIVE,
    SENSITIVE_WEAK,
    STATIC,
    bad_tool_name,
    classify_agent,
    classify_path,
)
from threatlens.models.verdict import Alert, Verdict
from threatlens.parsers.record import LogRecord

_TIME, _IP, _METHOD, _PATH, _QUERY, _STATUS, _BYTES, _AGENT = (itemgetter(i) for i in (0, 1, 3, 4, 5, 7, 8, 10))
#: WordPress user enumeration: ``/?author=2`` redirects to the account's slug.
_AUTHOR = re.compile(r"(?:^|&)author=(\d{1,9})(?:&|$)")
_SCORE, _FLAGGED = itemgetter(0), itemgetter(1)
_C = {name: i for i, name in enumerate(COUNTERS)}
_CACHE_MAX = 200_000
_NORM_BINS = 80  # quarter-octave bins of requests per IP-minute, 1 .. 2**20
_MAX_SERVED_EXT = 64


class BaselineModel(Protocol):
    """What the tracker needs of a learned baseline (``threatlens.models.baseline.Baseline``)."""

    threshold: float

    def score(self, features: np.ndarray) -> np.ndarray:
        """Anomaly score per row (higher = stranger)."""
        ...


def _timestamp(value: object) -> float:
    try:
        return value.timestamp()  # type: ignore[attr-defined]
    except AttributeError:
        return math.nan


def _extension(path: str) -> str:
    last = path.rpartition("/")[2]
    stem, dot, ext = last.rpartition(".")
    return ext.lower() if dot and stem else ""


def _missing_weight(flags: int, ext_served: bool) -> float:
    """How much one distinct missing (4xx) path says about scanning."""
    if flags & SENSITIVE:
        return 3.0
    if flags & (ADMIN | PROBE | SENSITIVE_WEAK):
        return 1.5
    if flags & SCRIPT:
        return 0.4 if ext_served else 1.0
    if flags & (STATIC | DOWNLOAD):
        return 0.1
    return 0.5


class BehaviourTracker:
    """Per-IP behaviour detectors over a stream of (record, verdict) batches.

    ``observe`` returns the alerts the batch raised: at most one per IP, kind and burst (a burst
    ends after ``config.idle_gap`` seconds of silence), re-raised within a burst only on strong
    escalation. State is bounded by ``max_ips`` (LRU with expiry).
    """

    def __init__(self, *, config: BehaviourConfig | None = None, baseline: BaselineModel | None = None,
                 max_ips: int = 100_000) -> None:
        self.config = config or BehaviourConfig()
        self.baseline = baseline
        self.max_ips = max_ips
        self._table = IpTable(max_ips)
        self._evidence: dict[int, Evidence] = {}
        self._path_cache: dict[str | None, int] = {}
        self._agent_cache: dict[str | None, int] = {}
        self._served_ext: set[str] = set()
        self._now = math.nan  # time of the last record (line order), for records without a time
        self._clock = -math.inf  # latest time seen
        self._saw_time = False
        self._last_sweep = -math.inf
        self._next_burst = 1
        self._norm = np.zeros(_NORM_BINS)
        #: When a list, every baseline checkpoint's feature row is appended (used to train the baseline).
        self.feature_sink: list[np.ndarray] | None = None
        self.records_seen = 0

    def __len__(self) -> int:
        """Number of IPs currently tracked."""
        return len(self._table)

    # ---------------------------------------------------------------- public
    def observe(self, records: Sequence[LogRecord], verdicts: Sequence[Verdict]) -> list[Alert]:
        """Feed one batch (records with their verdicts, parallel); return the new alerts."""
        if len(verdicts) != len(records):
            raise ValueError(f"{len(records)} records but {len(verdicts)} verdicts")
        n = len(records)
        if n == 0:
            return []
        chunk = max(1, self.max_ips // 2)  # never more new IPs in one step than the table can hold
        if n <= chunk:
            return self._observe(records, verdicts)
        alerts: list[Alert] = []
        for i in range(0, n, chunk):
            alerts += self._observe(records[i:i + chunk], verdicts[i:i + chunk])
        return alerts

    def flood_threshold(self) -> float:
        """Requests per IP-minute above which a non-crawler raises ``crawl_flood`` (learned online)."""
        cfg = self.config
        total = self._norm.sum()
        if total < cfg.flood_norm_min_samples:
            return cfg.flood_min_per_minute
        cdf = np.cumsum(self._norm) / total
        b = int(np.searchsorted(cdf, cfg.flood_norm_quantile))
        return max(cfg.flood_min_per_minute, cfg.flood_factor * 2 ** ((b + 1) / 4))

    # ---------------------------------------------------------------- columns
    def _timestamps(self, records: Sequence[LogRecord]) -> np.ndarray:
        times = list(map(_TIME, records))
        n = len(times)
        # Parsers share datetime objects for equal timestamps: convert each distinct object once.
        codes, _ = pd.factorize(np.fromiter(map(id, times), dtype=np.uint64, count=n))
        first = np.empty(codes.max() + 1, dtype=np.int64)
        first[codes[::-1]] = np.arange(n - 1, -1, -1)
        ts = np.array([_timestamp(times[i]) for i in first.tolist()])[codes]
        valid = ~np.isnan(ts)
        if not valid.all():
            idx = np.where(valid, np.arange(n), -1)
            np.maximum.accumulate(idx, out=idx)
            fallback = 0.0 if math.isnan(self._now) else self._now
            ts = np.where(idx >= 0, ts[np.maximum(idx, 0)], fallback)
        if valid.any():
            self._saw_time = True
        self._now = float(ts[-1])
        self._clock = max(self._clock, float(ts.max()))
        return ts

    def _path_flags(self, paths: list) -> np.ndarray:
        cache = self._path_cache
        got = list(map(cache.get, paths))  # str hashes are cached: a dict hit is the cheapest lookup
        if None in got:
            if len(cache) > _CACHE_MAX:
                cache.clear()
            for j, v in enumerate(got):
                if v is None:
                    p = paths[j]
                    got[j] = cache[p] = classify_path(p)
        return np.array(got, dtype=np.int64)

    def _agent_columns(self, agents: list) -> tuple[np.ndarray, np.ndarray]:
        """(flags, hash) per record; the cache packs both in one int: ``hash << 8 | flags``."""
        cache = self._agent_cache
        got = list(map(cache.get, agents))
        if None in got:
            if len(cache) > _CACHE_MAX:
                cache.clear()
            for j, v in enumerate(got):
                if v is None:
                    a = agents[j]
                    h = (hash(a) & 0x007F_FFFF_FFFF_FFFF) or 1
                    got[j] = cache[a] = (h << 8) | classify_agent(a)
        packed = np.array(got, dtype=np.int64)
        return packed & 0xFF, packed >> 8

    # ---------------------------------------------------------------- batch
    def _observe(self, records: Sequence[LogRecord], verdicts: Sequence[Verdict]) -> list[Alert]:
        cfg = self.config
        table = self._table
        n = len(records)
        self.records_seen += n
        ts = self._timestamps(records)
        if self._clock - self._last_sweep >= 60.0:
            self._last_sweep = self._clock
            for s in table.expire(self._clock, cfg.expire_after):
                self._evidence.pop(s, None)

        ips = list(map(_IP, records))
        if None in ips:
            ips = ["-" if ip is None else ip for ip in ips]
        slot_of = table.slot_of
        slots = list(map(slot_of.get, ips))
        if None in slots:
            fresh = list(dict.fromkeys(ip for ip, s in zip(ips, slots, strict=True) if s is None))
            pinned = np.array([s for s in slots if s is not None], dtype=np.int64)
            _, released = table.allocate(fresh, pinned, self._clock, cfg.expire_after)
            for s in released:
                self._evidence.pop(s, None)
            slots = list(map(slot_of.__getitem__, ips))
        slot_arr = np.array(slots, dtype=np.int64)

        pf = self._path_flags(list(map(_PATH, records)))
        af, uah = self._agent_columns(list(map(_AGENT, records)))
        status = np.array(list(map(_STATUS, records)), dtype=np.float64)
        methods = list(map(_METHOD, records))
        post = np.fromiter(map(eq, methods, repeat("POST", n)), dtype=bool, count=n)
        head = np.fromiter(map(eq, methods, repeat("HEAD", n)), dtype=bool, count=n)
        nbytes = np.array(list(map(_BYTES, records)), dtype=np.float64)
        logbytes = np.log1p(np.fmax(nbytes, 0.0))
        logbytes[np.isnan(logbytes)] = 0.0
        flagged = np.fromiter(map(_FLAGGED, verdicts), dtype=bool, count=n)
        score = np.fromiter(map(_SCORE, verdicts), dtype=np.float64, count=n)

        is4xx = (status >= 400) & (status < 500)
        is3xx = (status >= 300) & (status < 400)
        served = (status >= 200) & (status < 400)
        auth = (status == 401) | ((status == 403) & ((pf & (LOGIN | ADMIN)) != 0))
        enum = np.fromiter(("author=" in q if q else False for q in map(_QUERY, records)), dtype=bool, count=n)
        interesting = (is4xx | enum | ((pf & (SENSITIVE | SENSITIVE_WEAK)) != 0)
                       | (post & ((pf & (LOGIN | FORM)) != 0)) | ((af & (BAD_TOOL | BAD_BOT)) != 0) | flagged)
        self._learn_served_extensions(records, np.flatnonzero(served & ((pf & SCRIPT) != 0)))

        # ---- sort by IP then time; segments = one IP within one minute bucket
        order = np.lexsort((ts, slot_arr))
        slot_rec = slot_arr[order]
        ts_s = np.fmax(ts[order], table.last_ts[slot_rec])  # never step back in an IP's own time
        bucket_s = np.floor(ts_s / 60.0).astype(np.int64)
        brk = np.empty(n, dtype=bool)
        brk[0] = True
        brk[1:] = (slot_rec[1:] != slot_rec[:-1]) | (bucket_s[1:] != bucket_s[:-1])
        starts = np.flatnonzero(brk)
        ends = np.append(starts[1:], n) - 1
        nseg = len(starts)
        seg_slot = slot_rec[starts]
        seg_b = bucket_s[starts]
        seg_t0, seg_t1 = ts_s[starts], ts_s[ends]
        seg_n = (ends - starts + 1).astype(np.float64)
        first_ip = np.empty(nseg, dtype=bool)
        first_ip[0] = True
        first_ip[1:] = seg_slot[1:] != seg_slot[:-1]
        last_ip = np.append(first_ip[1:], True)

        prev_t = np.empty(nseg)
        prev_t[1:] = seg_t1[:-1]
        prev_t[first_ip] = table.last_ts[seg_slot[first_ip]]
        new_burst = np.isnan(prev_t) | (seg_t0 - prev_t > cfg.idle_gap)
        gstart = new_burst | first_ip
        cont_first = first_ip & ~new_burst
        gi = np.maximum.accumulate(np.where(gstart, np.arange(nseg), 0))

        n_new = int(new_burst.sum())
        bid = np.zeros(nseg, dtype=np.int64)
        bid[new_burst] = np.arange(self._next_burst, self._next_burst + n_new)
        self._next_burst += n_new
        bid[cont_first] = table.burst_id[seg_slot[cont_first]]
        bid = bid[gi]
        bstart = np.where(new_burst, seg_t0, table.burst_start[seg_slot])[gi]
        bline = table.first_line[seg_slot].copy()
        bfile = table.first_file[seg_slot].copy()
        nb_idx = np.flatnonzero(new_burst)
        if len(nb_idx):
            firsts = [records[i] for i in order[starts[nb_idx]].tolist()]
            bline[nb_idx] = [r.line for r in firsts]
            bfile[nb_idx] = [r.file for r in firsts]
        bline, bfile = bline[gi], bfile[gi]

        # ---- cumulative burst counters (segmented cumulative sum)
        m = np.column_stack([np.ones(n), is4xx, is3xx, auth, post, head, (pf & STATIC) != 0,
                             (af & GOOD_CRAWLER) != 0, flagged, score, logbytes])[order]
        seg_sum = np.add.reduceat(m, starts, axis=0)
        seg_sum[cont_first] += table.counters[seg_slot[cont_first]]
        cs = np.cumsum(seg_sum, axis=0)
        gpos = np.flatnonzero(gstart)
        before = np.zeros((len(gpos), cs.shape[1]))
        before[1:] = cs[gpos[1:] - 1]
        cum = cs - before[np.cumsum(gstart) - 1]

        # ---- request rate: current and previous minute per IP (sliding-window estimate)
        cur = seg_n.copy()
        prev = np.zeros(nseg)
        fs = seg_slot[first_ip]
        sb, fb = table.bucket[fs], seg_b[first_ip]
        cur[first_ip] += np.where(sb == fb, table.cur[fs], 0.0)
        prev[first_ip] = np.where(sb == fb - 1, table.cur[fs], np.where(sb == fb, table.prev[fs], 0.0))
        k = np.flatnonzero(~first_ip)
        prev[k] = np.where(seg_b[k - 1] == seg_b[k] - 1, cur[k - 1], 0.0)
        frac = np.clip((seg_t1 - seg_b * 60.0) / 60.0, 0.0, 1.0)
        est = prev * (1.0 - frac) + cur
        thr = self.flood_threshold()
        # short bursts: non-static requests per 10-second bucket (carried across batches)
        b10_s = np.floor(ts_s / 10.0).astype(np.int64)
        rb = brk.copy()
        rb[1:] |= b10_s[1:] != b10_s[:-1]
        rstarts = np.flatnonzero(rb)
        rsum = np.add.reduceat(((pf & STATIC) == 0)[order].astype(np.float64), rstarts)
        r_slot = slot_rec[rstarts]
        r_first = np.flatnonzero(np.append(True, r_slot[1:] != r_slot[:-1]))
        carry = table.b10[r_slot[r_first]] == b10_s[rstarts[r_first]]
        rsum[r_first[carry]] += table.c10[r_slot[r_first[carry]]]
        peak10 = np.maximum.reduceat(rsum, np.searchsorted(rstarts, starts))
        thr10 = max(cfg.flood_min_per_10s, thr / 6.0)
        r_last = np.append(r_first[1:] - 1, len(rstarts) - 1)
        crawler = cum[:, _C["ncrawler"]] >= cum[:, _C["count"]]
        flood = ((est > thr) | (peak10 > thr10)) & ~crawler
        closed = np.concatenate([cur[k - 1], table.cur[fs][(sb < fb) & (table.cur[fs] > 0)]])
        self._learn_norm(closed)

        # ---- user agents: segments whose agents differ from the burst's first agent
        uah_s = uah[order]
        smin, smax = np.minimum.reduceat(uah_s, starts), np.maximum.reduceat(uah_s, starts)
        ref = np.where(new_burst, uah_s[starts], table.ua_hash[seg_slot])[gi]
        ua_py = (smin != smax) | (smin != ref)

        # ---- baseline checkpoints (burst reaches min, 2xmin, 4xmin ... requests)
        if self.baseline is not None or self.feature_sink is not None:
            after = cum[:, 0]
            lo = cfg.baseline_min_requests

            def level(c: np.ndarray) -> np.ndarray:
                return np.where(c >= lo, np.floor(np.log2(np.maximum(c, lo) / lo)), -1.0)

            ckpt = level(after) > level(after - seg_n)
        else:
            ckpt = np.zeros(nseg, dtype=bool)

        inter_s = interesting[order]
        seg_inter = np.add.reduceat(inter_s.astype(np.int64), starts) > 0
        todo = np.flatnonzero(seg_inter | flood | ua_py | ckpt)
        alerts: list[Alert] = []
        if len(todo):
            ipos = np.flatnonzero(inter_s)
            lo_i = np.searchsorted(ipos, starts[todo]).tolist()
            hi_i = np.searchsorted(ipos, ends[todo], side="right").tolist()
            orig = order[ipos]  # the interesting records, in segment order, as plain lists
            ctx = _Batch(records=records, verdicts=verdicts, order=order, idx=orig.tolist(),
                         pf=pf[orig].tolist(), af=af[orig].tolist(), status=status[orig].tolist(),
                         post=post[orig].tolist(), uah_s=uah_s, starts=starts, ends=ends, seg_slot=seg_slot,
                         bid=bid, ref=ref, ua_py=ua_py, cum=cum, seg_t1=seg_t1, bstart=bstart, bline=bline,
                         bfile=bfile, est=est, peak10=peak10, flood=flood, ckpt=ckpt, thr=thr, thr10=thr10)
            for j, kk in enumerate(todo.tolist()):
                alerts += self._segment(ctx, kk, lo_i[j], hi_i[j])

        # ---- write back each IP's state from its last segment
        li = np.flatnonzero(last_ip)
        s = seg_slot[li]
        table.last_ts[s] = seg_t1[li]
        table.burst_id[s] = bid[li]
        table.burst_start[s] = bstart[li]
        table.first_line[s] = bline[li]
        table.first_file[s] = bfile[li]
        table.counters[s] = cum[li]
        table.bucket[s] = seg_b[li]
        table.cur[s] = cur[li]
        table.prev[s] = prev[li]
        table.ua_hash[s] = ref[li]
        rs = r_slot[r_last]
        table.b10[rs] = b10_s[rstarts[r_last]]
        table.c10[rs] = rsum[r_last]
        return alerts

    def _segment(self, ctx: _Batch, k: int, lo: int, hi: int) -> list[Alert]:
        """Look closely at segment ``k`` (interesting records ``lo:hi``): update evidence, run the rules."""
        cfg = self.config
        slot, burst = int(ctx.seg_slot[k]), int(ctx.bid[k])
        ev = self._evidence.get(slot)
        if ev is None or ev.burst != burst:
            ev = self._evidence[slot] = Evidence(burst=burst)
            ev.add_agent(int(ctx.ref[k]))
        records, verdicts = ctx.records, ctx.verdicts
        for j in range(lo, hi):
            i = ctx.idx[j]
            r = records[i]
            flags = ctx.pf[j]
            st = ctx.status[j]
            path = r.path or ""
            ev.interesting += 1
            agent = ctx.af[j]
            if agent & GOOD_CRAWLER:
                ev.crawler_claims += 1
            if 400 <= st < 500:
                if path not in ev.missing:
                    if len(ev.missing) < 512:
                        known = (flags & SCRIPT) != 0 and _extension(path) in self._served_ext
                        w = _missing_weight(flags, known)
                        ev.missing[path] = w
                        ev.missing_weight += w
                    else:
                        ev.missing_overflow += 1
                        ev.missing_weight += 0.5
                if flags & (ADMIN | PROBE):
                    ev.add_bounded(ev.admin, path)
            weak = flags & SENSITIVE_WEAK and not 200 <= st < 400  # config-like file the site does not serve
            if (flags & SENSITIVE or weak) and path not in ev.sensitive:
                ev.add_bounded(ev.sensitive, path, int(st) if st == st else 0)
            if r.query and "author=" in r.query:
                m = _AUTHOR.search(r.query)
                if m is not None:
                    ev.add_bounded(ev.users, m.group(1))
            if ctx.post[j]:
                target = ev.login if flags & LOGIN else ev.form if flags & FORM else None
                if target is not None and (path in target or len(target) < 16):
                    target[path] = target.get(path, 0) + 1
            if agent & (BAD_TOOL | BAD_BOT) and ev.bad_tool is None:
                ev.bad_tool = bad_tool_name(r.user_agent or "")
                ev.bad_tool_is_bot = not agent & BAD_TOOL
            v = verdicts[i]
            if v[1]:
                ev.flagged += 1
                if not PAYLOAD_CATEGORIES.isdisjoint(v[2]):
                    ev.payload_flagged += 1
                for c in v.categories:
                    ev.categories[c] = None
                for reason in v.reasons[:2]:
                    if len(ev.reasons) < 8:
                        ev.reasons[printable(reason, 60)] = None
        start, end = int(ctx.starts[k]), int(ctx.ends[k])
        if ctx.ua_py[k]:
            for h in np.unique(ctx.uah_s[start:end + 1]).tolist():
                ev.add_agent(h)
        cum, now = ctx.cum[k], float(ctx.seg_t1[k])
        burst_start = float(ctx.bstart[k])
        counts = dict(zip(COUNTERS, cum.tolist(), strict=True))
        found = evaluate(ev, counts, cfg)
        if ctx.flood[k]:
            rate, peak, thr, thr10 = float(ctx.est[k]), float(ctx.peak10[k]), ctx.thr, ctx.thr10
            value, limit = (rate, thr) if rate / thr >= peak / thr10 else (peak, thr10)
            found.append(("crawl_flood", value, strength(value, limit), (
                f"{rate:.0f} requests/minute (threshold {thr:.0f})",
                f"{peak:.0f} non-static requests in 10 s (threshold {thr10:.0f})")))
        if ctx.ckpt[k]:
            duration = now - burst_start
            feats = window_features(cum[None, :], np.array([duration]), np.array([max(len(ev.agents), 1)]),
                                    np.array([len(ev.missing) + ev.missing_overflow]))
            if self.feature_sink is not None:
                self.feature_sink.append(feats[0])
            if self.baseline is not None:
                anomaly = float(self.baseline.score(feats)[0])
                if anomaly >= self.baseline.threshold:
                    limit = self.baseline.threshold
                    found.append(("anomalous_behaviour", anomaly, strength(anomaly, limit, 0.5), (
                        f"far outside this site's learned behaviour (anomaly {anomaly:.2f} >= {limit:.2f})",
                        f"{int(counts['count'])} requests in {duration:.0f} s")))
        if not found:
            return []
        last = records[int(ctx.order[end])]
        out = []
        for kind, value, score, reasons in found:
            if should_emit(ev, kind, value, now, cfg):
                out.append(Alert(
                    ip=self._table.ip[slot], kind=kind, file=str(ctx.bfile[k]), first_line=int(ctx.bline[k]),
                    last_line=last.line, count=int(counts["count"]), score=score, reasons=reasons,
                    categories=categories_for(kind, ev), first_time=self._time(burst_start),
                    last_time=self._time(now)))
        return out

    # ---------------------------------------------------------------- site context
    def _time(self, ts: float) -> datetime | None:
        return datetime.fromtimestamp(ts, UTC) if self._saw_time else None

    def _learn_served_extensions(self, records: Sequence[LogRecord], idx: np.ndarray) -> None:
        if len(self._served_ext) >= _MAX_SERVED_EXT or not len(idx):
            return
        for i in idx[:256].tolist():
            ext = _extension(records[i].path or "")
            if ext:
                self._served_ext.add(ext)

    def _learn_norm(self, samples: np.ndarray) -> None:
        if not len(samples):
            return
        bins = np.clip((np.log2(np.maximum(samples, 1.0)) * 4).astype(np.int64), 0, _NORM_BINS - 1)
        self._norm += np.bincount(bins, minlength=_NORM_BINS)
        if self._norm.sum() > 1_000_000:
            self._norm *= 0.5


@dataclass(slots=True, frozen=True)
class _Batch:
    """Columns of the current batch and its segments, shared with the per-segment slow path."""

    records: Sequence[LogRecord]
    verdicts: Sequence[Verdict]
    order: np.ndarray
    idx: list[int]  #: original index of each interesting record (the lists below are parallel)
    pf: list[int]
    af: list[int]
    status: list[float]
    post: list[bool]
    uah_s: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    seg_slot: np.ndarray
    bid: np.ndarray
    ref: np.ndarray
    ua_py: np.ndarray
    cum: np.ndarray
    seg_t1: np.ndarray
    bstart: np.ndarray
    bline: np.ndarray
    bfile: np.ndarray
    est: np.ndarray
    peak10: np.ndarray
    flood: np.ndarray
    ckpt: np.ndarray
    thr: float
    thr10: float
