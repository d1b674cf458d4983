"""``BehaviourTracker``: per-IP windows over log time, vectorised per batch, judged record by record.

A batch is grouped by IP with each IP's records kept in line order (numpy); an IP's time is the
running maximum of its own timestamps (it never steps back), and its burst counters, request rate
and short-burst count are cumulated per record. Only the records where a rule can change its mind
are looked at one by one, each with the counts as of that record: records carrying evidence (4xx
answers, sensitive paths, POSTs to login/forms, attack tools, flagged requests), a user agent new
to the burst, the request counts where the learned baseline is asked (20, 40, 80 ...), and per
IP-minute the first record whose rate passes the flood threshold and may be reported.

Nothing a record is judged against comes from a later record: the served script extensions are
those answered 2xx by earlier lines, and what is learned across IPs (the flood threshold, idle
expiry) changes only at fixed points of the record sequence (the first record whose log time is ten
minutes past the previous such point). So the same records give the same alerts whatever batch
sizes they arrive in: replaying an old log gives the alerts that following it live gave. (The one
exception is a table full of active IPs, ``max_ips``: which IPs are evicted then depends on the
batches.)
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import blake2b
from itertools import pairwise, repeat
from operator import eq, itemgetter
from typing import Any, Protocol

import numpy as np

from threatlens.models.behaviour.config import KINDS, BehaviourConfig
from threatlens.models.behaviour.features import window_features
from threatlens.models.behaviour.rules import (
    AGENT_DIGEST,
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
from threatlens.models.memo import epoch_seconds
from threatlens.models.verdict import Alert, Verdict, alert_severity
from threatlens.parsers.record import LogRecord

#: Column getters by field name, derived from the record types (never hard-coded positions).
RECORD_FIELDS = {name: itemgetter(LogRecord._fields.index(name))
                 for name in ("time", "ip", "method", "path", "query", "status", "bytes", "user_agent")}
VERDICT_FIELDS = {name: itemgetter(Verdict._fields.index(name)) for name in ("score", "flagged")}
_TIME, _IP, _METHOD, _PATH, _QUERY, _STATUS, _BYTES, _AGENT = RECORD_FIELDS.values()
_SCORE, _FLAGGED = VERDICT_FIELDS.values()
#: WordPress user enumeration: ``/?author=2`` redirects to the account's slug.
_AUTHOR = re.compile(r"(?:^|&)author=(\d{1,9})(?:&|$)")
_C = {name: i for i, name in enumerate(COUNTERS)}
#: User agents are told apart by a digest of their text: 128 bits of BLAKE2b, the same in every run and
#: process (``hash()`` is salted per run), and no two agents share one (finding a pair is a 2**64 search).
AGENT_DIGEST_SIZE = AGENT_DIGEST
_AGENT_DTYPE = np.dtype(f"S{AGENT_DIGEST_SIZE}")
_KIND_RANK = {kind: i for i, kind in enumerate(KINDS)}
_CACHE_MAX = 65_536
_OTHER_ONLY = ("other",)
_NORM_BINS = 80  # quarter-octave bins of requests per IP-minute, 1 .. 2**20
_MAX_SERVED_EXT = 64
_MAX_EXT_CODES = 255  # script extensions get a small code (the vocabulary's list is far shorter)
_EXT_SHIFT = 32  # the path cache packs ``ext_code << _EXT_SHIFT | flags``
_LEARN_EVERY = 600.0  # seconds of log time between updates of what is learned across IPs
# Per-record sums are kept exact (dyadic rationals) so that cutting a burst into batches cannot
# change a counter by a rounding step.
_SCORE_QUANTUM = 2.0 ** 20
_BYTES_QUANTUM = 2.0 ** 16
# Why a record is looked at one by one (bits of the per-record event mask).
_EV_EVIDENCE, _EV_AGENT, _EV_CHECKPOINT, _EV_FLOOD = 1, 2, 4, 8


class BaselineModel(Protocol):
    """What the tracker needs of a learned baseline (``threatlens.models.baseline.Baseline``)."""

    threshold: float

    def score(self, features: np.ndarray) -> np.ndarray:
        """Anomaly score per row (higher = stranger)."""
        ...


def _extension(path: str) -> str:
    last = path.rpartition("/")[2]
    stem, dot, ext = last.rpartition(".")
    return ext.lower() if dot and stem else ""


def agent_digest(agent: str | None) -> bytes:
    """The digest a user agent is compared by (no agent at all has its own: UTF-8 never yields a lone 0xFF)."""
    data = b"\xff" if agent is None else agent.encode("utf-8", "surrogatepass")
    return blake2b(data, digest_size=AGENT_DIGEST_SIZE).digest()


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


def _group_cummax(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Running maximum restarted at each ``first`` (groups are contiguous); exact for any floats."""
    rise = np.diff(values) >= 0
    if (rise | first[1:]).all():
        return values
    uniq, rank = np.unique(values, return_inverse=True)
    group = np.cumsum(first) - 1
    key = group * len(uniq) + rank
    np.maximum.accumulate(key, out=key)
    return uniq[key - group * len(uniq)]


def _run_position(starts_mask: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run (runs begin where ``starts_mask`` is set)."""
    n = len(starts_mask)
    idx = np.arange(n)
    return idx - np.maximum.accumulate(np.where(starts_mask, idx, 0))


class BehaviourTracker:
    """Per-IP behaviour detectors over a stream of (record, verdict) batches.

    ``observe`` returns the alerts the batch raised, in the order of the lines that triggered them:
    at most one per IP, kind and burst (a burst ends after ``config.idle_gap`` seconds of silence),
    re-raised within a burst only on strong escalation. State is bounded by ``max_ips`` (LRU with
    expiry).
    """

    def __init__(self, *, config: BehaviourConfig | None = None, baseline: BaselineModel | None = None,
                 max_ips: int = 100_000) -> None:
        self.config = config or BehaviourConfig()
        self.baseline = baseline
        self.max_ips = max_ips
        self._table = IpTable(max_ips)
        self._evidence: dict[int, Evidence] = {}
        self._path_cache: dict[str | None, int] = {}
        self._agent_cache: dict[str | None, bytes] = {}  # agent -> flags byte + digest
        self._ext_codes: dict[str, int] = {}
        self._served_code = np.zeros(_MAX_EXT_CODES + 1, dtype=bool)  #: script extensions answered 2xx
        self._now = math.nan  # time of the last record (line order), for records without a time
        self._clock = -math.inf  # latest time seen
        self._saw_time = False
        self._last_learn = -math.inf
        self._next_burst = 1
        self._norm = np.zeros(_NORM_BINS)
        self._norm_pending = np.zeros(_NORM_BINS, dtype=np.int64)  # closed minutes not yet in the norm
        self._flood_thr = self.flood_threshold()
        #: When a list, every baseline checkpoint's feature row is appended (used to train the baseline).
        self.feature_sink: list[np.ndarray] | None = None
        self.records_seen = 0

    def __len__(self) -> int:
        """Number of IPs currently tracked."""
        return len(self._table)

    # ---------------------------------------------------------------- public
    def observe(self, records: Sequence[LogRecord], verdicts: Sequence[Verdict]) -> list[Alert]:
        """Feed one batch (records with their verdicts, parallel, in line order); return the new alerts."""
        if len(verdicts) != len(records):
            raise ValueError(f"{len(records)} records but {len(verdicts)} verdicts")
        n = len(records)
        if n == 0:
            return []
        ts, timed = self._timestamps(records)
        clock = np.maximum.accumulate(ts)
        np.maximum(clock, self._clock, out=clock)
        # Learning points: the first record whose log time is _LEARN_EVERY past the previous one.
        cuts: list[int] = []
        learn_at = self._last_learn
        while True:
            i = int(np.searchsorted(clock, learn_at + _LEARN_EVERY))
            if i >= n:
                break
            cuts.append(i)
            learn_at = float(clock[i])
        chunk = max(1, self.max_ips // 2)  # never more new IPs in one step than the table can hold
        bounds = sorted({0, n, *cuts, *range(chunk, n, chunk)})
        learn = set(cuts)
        alerts: list[Alert] = []
        for a, b in pairwise(bounds):
            if a in learn:
                self._learn(float(clock[a]))
            self._clock = float(clock[b - 1])
            whole = a == 0 and b == n
            alerts += self._observe(records if whole else records[a:b], verdicts if whole else verdicts[a:b],
                                    ts[a:b], timed[a:b])
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

    # ---------------------------------------------------------------- learning points
    def _learn(self, now: float) -> None:
        """Expire idle IPs and fold the minutes closed so far into the flood norm."""
        self._last_learn = now
        for s in self._table.expire(now, self.config.expire_after):
            self._evidence.pop(s, None)
        if self._norm_pending.any():
            self._norm += self._norm_pending
            self._norm_pending[:] = 0
            if self._norm.sum() > 1_000_000:
                self._norm *= 0.5
            self._flood_thr = self.flood_threshold()

    def _closed_minutes(self, samples: np.ndarray) -> None:
        if len(samples):
            bins = np.clip((np.log2(np.maximum(samples, 1.0)) * 4).astype(np.int64), 0, _NORM_BINS - 1)
            self._norm_pending += np.bincount(bins, minlength=_NORM_BINS)

    # ---------------------------------------------------------------- columns
    def _timestamps(self, records: Sequence[LogRecord]) -> tuple[np.ndarray, np.ndarray]:
        """Seconds per record, and whether any record up to it had a time.

        A record without a time takes the time of the last record before it that had one.
        """
        n = len(records)
        ts = epoch_seconds(list(map(_TIME, records)))
        valid = ~np.isnan(ts)
        if valid.all():
            timed = np.ones(n, dtype=bool)
        else:
            idx = np.where(valid, np.arange(n), -1)
            np.maximum.accumulate(idx, out=idx)
            fallback = 0.0 if math.isnan(self._now) else self._now
            ts = np.where(idx >= 0, ts[np.maximum(idx, 0)], fallback)
            timed = (idx >= 0) | self._saw_time
        self._saw_time = bool(timed[-1])
        self._now = float(ts[-1])
        return ts, timed

    def _path_columns(self, paths: list) -> tuple[np.ndarray, np.ndarray]:
        """(flags, script extension code or 0) per record, cached per path."""
        cache = self._path_cache
        got = list(map(cache.get, paths))  # str hashes are cached: a dict hit is the cheapest lookup
        if None in got:
            if len(cache) > _CACHE_MAX:
                cache.clear()
            for j, v in enumerate(got):
                if v is None:
                    p = paths[j]
                    flags = classify_path(p)
                    code = self._ext_code(p) if flags & SCRIPT else 0
                    got[j] = cache[p] = (code << _EXT_SHIFT) | flags
        packed = np.array(got, dtype=np.int64)
        return packed & ((1 << _EXT_SHIFT) - 1), packed >> _EXT_SHIFT

    def _ext_code(self, path: str) -> int:
        ext = _extension(path)
        code = self._ext_codes.get(ext)
        if code is None:
            if len(self._ext_codes) >= _MAX_EXT_CODES:
                return 0
            code = self._ext_codes[ext] = len(self._ext_codes) + 1
        return code

    def _agent_columns(self, agents: list) -> tuple[np.ndarray, np.ndarray]:
        """(flags, digest) per record; the cache keeps both in one bytes value: the flags byte, then the digest."""
        cache = self._agent_cache
        got: list[Any] = list(map(cache.get, agents))
        if None in got:
            if len(cache) > _CACHE_MAX:
                cache.clear()
            for j, v in enumerate(got):
                if v is None:
                    a = agents[j]
                    got[j] = cache[a] = bytes((classify_agent(a),)) + agent_digest(a)
        packed = np.array(got, dtype=f"S{1 + AGENT_DIGEST_SIZE}").view(np.uint8).reshape(len(got), -1)
        return packed[:, 0].astype(np.int64), np.ascontiguousarray(packed[:, 1:]).view(_AGENT_DTYPE).ravel()

    def _known_script_ext(self, codes: np.ndarray, ok2xx: np.ndarray, need: np.ndarray) -> np.ndarray:
        """Per record: was its script extension answered 2xx for an earlier record.

        ``need`` marks the records asked about; the extensions served in this batch are learned
        afterwards, in line order (at most ``_MAX_SERVED_EXT`` in all).
        """
        served = self._served_code
        known = np.zeros(len(codes), dtype=bool)
        sp = np.flatnonzero(ok2xx & (codes > 0))
        since = np.full(len(served), len(codes))  # line position from which each code counts as served
        since[served] = -1
        if len(sp):
            new, first = np.unique(codes[sp], return_index=True)
            fresh = ~served[new]
            new, first = new[fresh], sp[first[fresh]]
            room = _MAX_SERVED_EXT - int(served.sum())
            if len(new) and room > 0:
                keep = np.argsort(first, kind="stable")[:room]
                since[new[keep]] = first[keep]
                served[new[keep]] = True
        q = np.flatnonzero(need)
        known[q] = since[codes[q]] < q
        return known

    # ---------------------------------------------------------------- batch
    def _observe(self, records: Sequence[LogRecord], verdicts: Sequence[Verdict], ts: np.ndarray,
                 timed: np.ndarray) -> list[Alert]:
        cfg = self.config
        table = self._table
        n = len(records)
        self.records_seen += n

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

        pf, ext_code = self._path_columns(list(map(_PATH, records)))
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
        auth = (status == 401) | ((status == 403) & ((pf & (LOGIN | ADMIN)) != 0))
        queries = list(map(_QUERY, records))
        if "author=" in "\n".join(filter(None, queries)):  # rare: look at each query only then
            enum = np.fromiter(("author=" in q if q else False for q in queries), dtype=bool, count=n)
        else:
            enum = np.zeros(n, dtype=bool)
        interesting = (is4xx | enum | ((pf & (SENSITIVE | SENSITIVE_WEAK)) != 0)
                       | (post & ((pf & (LOGIN | FORM)) != 0)) | ((af & (BAD_TOOL | BAD_BOT)) != 0) | flagged)
        known_ext = self._known_script_ext(ext_code, (status >= 200) & (status < 300), is4xx & (ext_code > 0))

        # ---- group by IP, line order within an IP; segments = one IP within one minute bucket
        order = np.argsort(slot_arr, kind="stable")
        slot_rec = slot_arr[order]
        first_rec = np.empty(n, dtype=bool)
        first_rec[0] = True
        first_rec[1:] = slot_rec[1:] != slot_rec[:-1]
        t_own = ts[order]
        t_own[first_rec] = np.fmax(t_own[first_rec], table.last_ts[slot_rec[first_rec]])
        ts_s = _group_cummax(t_own, first_rec)  # never step back in an IP's own time
        bucket_s = np.floor(ts_s / 60.0).astype(np.int64)
        brk = first_rec.copy()
        brk[1:] |= bucket_s[1:] != bucket_s[:-1]
        starts = np.flatnonzero(brk)
        ends = np.append(starts[1:], n) - 1
        seg_of = np.cumsum(brk) - 1
        nseg = len(starts)
        seg_slot = slot_rec[starts]
        seg_b = bucket_s[starts]
        seg_t0, seg_t1 = ts_s[starts], ts_s[ends]
        seg_n = (ends - starts + 1).astype(np.float64)
        first_ip = first_rec[starts]

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

        # ---- burst counters as of each record (exact sums, so any batching gives the same values)
        columns = {
            "count": np.ones(n), "n4xx": is4xx, "n3xx": is3xx, "nauth": auth, "npost": post, "nhead": head,
            "nstatic": (pf & STATIC) != 0, "ncrawler": (af & GOOD_CRAWLER) != 0, "nflag": flagged,
            "sum_score": np.rint(score * _SCORE_QUANTUM) / _SCORE_QUANTUM,
            "sum_logbytes": np.rint(logbytes * _BYTES_QUANTUM) / _BYTES_QUANTUM,
        }
        cum = np.cumsum(np.column_stack([columns[c] for c in COUNTERS])[order], axis=0)
        gpos = np.flatnonzero(gstart)
        gfirst = starts[gpos]
        base = np.zeros((len(gpos), len(COUNTERS)))
        base[gfirst > 0] = cum[gfirst[gfirst > 0] - 1]
        carried = cont_first[gpos]
        base[carried] -= table.counters[seg_slot[gpos[carried]]]
        cum -= base[(np.cumsum(gstart) - 1)[seg_of]]

        # ---- request rate as of each record: this minute so far plus the previous minute's share
        carry = np.zeros(nseg)
        prev = np.zeros(nseg)
        fs = seg_slot[first_ip]
        sb, fb = table.bucket[fs], seg_b[first_ip]
        carry[first_ip] = np.where(sb == fb, table.cur[fs], 0.0)
        prev[first_ip] = np.where(sb == fb - 1, table.cur[fs], np.where(sb == fb, table.prev[fs], 0.0))
        cur = seg_n + carry  # the minute's count at the segment's end
        k = np.flatnonzero(~first_ip)
        prev[k] = np.where(seg_b[k - 1] == seg_b[k] - 1, cur[k - 1], 0.0)
        self._closed_minutes(np.concatenate([cur[k - 1], table.cur[fs][(sb < fb) & (table.cur[fs] > 0)]]))
        cur_rec = _run_position(brk) + 1.0 + carry[seg_of]
        frac = np.clip((ts_s - bucket_s * 60.0) / 60.0, 0.0, 1.0)
        est = prev[seg_of] * (1.0 - frac) + cur_rec
        # short bursts: non-static requests in the record's 10-second bucket so far (carried across batches)
        b10_s = np.floor(ts_s / 10.0).astype(np.int64)
        rb = brk.copy()
        rb[1:] |= b10_s[1:] != b10_s[:-1]
        nonstatic = ((pf & (STATIC | DOWNLOAD)) == 0)[order]  # pages, not files or downloads
        c10 = np.cumsum(nonstatic).astype(np.float64)
        rstarts = np.flatnonzero(rb)
        rbase = np.where(rstarts > 0, c10[np.maximum(rstarts - 1, 0)], 0.0)
        r_first = first_rec[rstarts]
        r_slot = slot_rec[rstarts]
        joined = r_first & (table.b10[r_slot] == b10_s[rstarts])
        rbase[joined] -= table.c10[r_slot[joined]]
        c10 -= rbase[np.cumsum(rb) - 1]
        thr = self._flood_thr
        thr10 = max(cfg.flood_min_per_10s, thr / 6.0)
        crawler = cum[:, _C["ncrawler"]] >= cum[:, _C["count"]]
        flood = ((est > thr) | (c10 > thr10)) & ~crawler

        # ---- user agents: records whose agent differs from the burst's first, first time in the batch
        uah_s = uah[order]
        ref_seg = np.where(new_burst, uah_s[starts], table.ua[seg_slot])[gi]
        ref = ref_seg[seg_of]
        other = np.flatnonzero(uah_s != ref)
        new_agent = np.zeros(n, dtype=bool)
        if len(other):
            ob, oh = bid[seg_of[other]], uah_s[other]
            o = np.lexsort((other, oh, ob))
            head_run = np.ones(len(o), dtype=bool)
            head_run[1:] = (ob[o][1:] != ob[o][:-1]) | (oh[o][1:] != oh[o][:-1])
            new_agent[other[o[head_run]]] = True

        # ---- baseline checkpoints: the record where the burst reaches min, 2xmin, 4xmin ... requests
        if self.baseline is not None or self.feature_sink is not None:
            c = cum[:, _C["count"]].astype(np.int64)
            lo = cfg.baseline_min_requests
            steps = c // lo
            ckpt = (c % lo == 0) & (steps > 0) & ((steps & (steps - 1)) == 0)
        else:
            ckpt = np.zeros(n, dtype=bool)

        # ---- the records looked at one by one
        fl = np.flatnonzero(flood)
        flood_first = np.zeros(n, dtype=bool)
        if len(fl):
            fseg = seg_of[fl]
            flood_first[fl[np.append(True, fseg[1:] != fseg[:-1])]] = True
        events = (interesting[order] * _EV_EVIDENCE | new_agent * _EV_AGENT | ckpt * _EV_CHECKPOINT
                  | flood_first * _EV_FLOOD)
        alerts: list[tuple[int, int, Alert]] = []
        pos = np.flatnonzero(events)
        if len(pos):
            piece = _Piece(records=records, verdicts=verdicts, order=order, pf=pf, af=af, status=status,
                           post=post, known_ext=known_ext, uah_s=uah_s, seg_of=seg_of, ends=ends,
                           seg_slot=seg_slot, bid=bid, ref_seg=ref_seg, cum=cum, ts_s=ts_s, timed=timed,
                           bstart=bstart, bline=bline, bfile=bfile, est=est, c10=c10, flood=flood, thr=thr,
                           thr10=thr10)
            self._look(piece, pos, events[pos], alerts)
            alerts.sort(key=itemgetter(0, 1))

        # ---- write back each IP's state as of its last record
        li = np.flatnonzero(np.append(first_rec[1:], True))
        ls = seg_of[li]
        last = slot_rec[li]
        table.last_ts[last] = ts_s[li]
        table.burst_id[last] = bid[ls]
        table.burst_start[last] = bstart[ls]
        table.first_line[last] = bline[ls]
        table.first_file[last] = bfile[ls]
        table.counters[last] = cum[li]
        table.bucket[last] = bucket_s[li]
        table.cur[last] = cur[ls]
        table.prev[last] = prev[ls]
        table.ua[last] = ref_seg[ls]
        table.b10[last] = b10_s[li]
        table.c10[last] = c10[li]
        return [a for _, _, a in alerts]

    def _look(self, p: _Piece, pos: np.ndarray, bits: np.ndarray, out: list[tuple[int, int, Alert]]) -> None:
        """Update the evidence and run the rules at each event record (sorted positions ``pos``)."""
        cfg = self.config
        records, verdicts = p.records, p.verdicts
        idx = p.order[pos]
        seg = p.seg_of[pos]
        rows = p.cum[pos].tolist()
        evidence = self._evidence
        slot = burst = -1
        ev = Evidence(burst=0)
        checkpoints: list[_Checkpoint] = []
        for j, (q, b, i, k, s, bi, ref, flags, agent, st, post, known, h, now) in enumerate(zip(
                pos.tolist(), bits.tolist(), idx.tolist(), seg.tolist(), p.seg_slot[seg].tolist(),
                p.bid[seg].tolist(), p.ref_seg[seg].tolist(), p.pf[idx].tolist(), p.af[idx].tolist(),
                p.status[idx].tolist(), p.post[idx].tolist(), p.known_ext[idx].tolist(), p.uah_s[pos].tolist(),
                p.ts_s[pos].tolist(), strict=True)):
            if s != slot or bi != burst:
                slot, burst = s, bi
                got = evidence.get(slot)
                if got is None or got.burst != burst:
                    got = evidence[slot] = Evidence(burst=burst)
                    got.add_agent(ref)
                ev = got
            changed = False
            if b & _EV_EVIDENCE:
                self._add_evidence(ev, records[i], verdicts[i], flags, agent, st, post, known)
                changed = True
            if b & _EV_AGENT:
                before = ev.n_agents
                ev.add_agent(h)
                changed = changed or ev.n_agents != before
            if changed:
                for kind, value, score, reasons in evaluate(ev, dict(zip(COUNTERS, rows[j], strict=True)), cfg):
                    if should_emit(ev, kind, value, now, cfg):
                        out.append((i, _KIND_RANK.get(kind, -1), self._alert(p, q, k, slot, ev, kind, score,
                                                                             reasons)))
            if b & _EV_CHECKPOINT:
                checkpoints.append((i, q, k, slot, ev, rows[j], now - float(p.bstart[k]), max(ev.n_agents, 1),
                                    len(ev.missing) + ev.missing_overflow))
            if b & _EV_FLOOD:
                self._flood(p, q, k, slot, ev, out)
        if checkpoints:
            self._checkpoints(p, checkpoints, out)

    def _add_evidence(self, ev: Evidence, r: LogRecord, v: Verdict, flags: int, agent: int, st: float,
                      post: bool, known_ext: bool) -> None:
        """Fold one evidence-carrying record into its burst's evidence."""
        path = r.path or ""
        ev.interesting += 1
        if agent & GOOD_CRAWLER:
            ev.crawler_claims += 1
        if 400 <= st < 500:
            if path not in ev.missing:
                if len(ev.missing) < 512:
                    w = _missing_weight(flags, known_ext)
                    ev.put("missing", path, w)
                    ev.missing_weight += w
                else:
                    ev.missing_overflow += 1
                    ev.missing_weight += 0.5
            if flags & (ADMIN | PROBE):
                ev.add_bounded("admin", path)
        weak = flags & SENSITIVE_WEAK and not 200 <= st < 400  # config-like file the site does not serve
        if (flags & SENSITIVE or weak) and path not in ev.sensitive:
            ev.add_bounded("sensitive", path, int(st) if st == st else 0)
        if r.query and "author=" in r.query:
            m = _AUTHOR.search(r.query)
            if m is not None:
                ev.add_bounded("users", m.group(1))
        if post:
            target = "login" if flags & LOGIN else "form" if flags & FORM else None
            if target is not None:
                ev.count(target, path, 16)
        if agent & (BAD_TOOL | BAD_BOT) and ev.bad_tool is None:
            ev.bad_tool = bad_tool_name(r.user_agent or "")
            ev.bad_tool_is_bot = not agent & BAD_TOOL
        if v.flagged and v.categories != _OTHER_ONLY:  # a model-only oddity is not an attack to count
            ev.flagged += 1
            if not PAYLOAD_CATEGORIES.isdisjoint(v.categories):
                ev.payload_flagged += 1
            for c in v.categories:
                ev.put("categories", c)
            for reason in v.reasons[:2]:
                if len(ev.reasons) < 8:
                    ev.put("reasons", printable(reason, 60))

    def _checkpoints(self, p: _Piece, todo: list[_Checkpoint], out: list[tuple[int, int, Alert]]) -> None:
        """Hand the bursts' feature rows at their checkpoints to the feature sink and the learned baseline.

        The rows are taken as the records pass (evidence as of each record) and scored in one call.
        """
        feats = window_features(np.array([t[5] for t in todo]), np.array([t[6] for t in todo]),
                                np.array([t[7] for t in todo]), np.array([t[8] for t in todo]))
        if self.feature_sink is not None:
            self.feature_sink.extend(feats[np.argsort([t[0] for t in todo], kind="stable")])
        if self.baseline is None:
            return
        limit = self.baseline.threshold
        for (i, q, k, slot, ev, row, duration, _, _), anomaly in zip(todo, self.baseline.score(feats).tolist(),
                                                               strict=True):
            if anomaly >= limit and should_emit(ev, "anomalous_behaviour", anomaly, float(p.ts_s[q]), self.config):
                reasons = (f"far outside this site's learned behaviour (anomaly {anomaly:.2f} >= {limit:.2f})",
                           f"{int(row[_C['count']])} requests in {duration:.0f} s")
                out.append((i, _KIND_RANK["anomalous_behaviour"], self._alert(
                    p, q, k, slot, ev, "anomalous_behaviour", strength(anomaly, limit, 0.5), reasons)))

    def _flood(self, p: _Piece, q: int, k: int, slot: int, ev: Evidence, out: list[tuple[int, int, Alert]]) -> None:
        """Report ``crawl_flood`` at the first record of segment ``k`` (from ``q``) that may be reported."""
        cfg = self.config
        span = slice(q, int(p.ends[k]) + 1)
        cand = np.flatnonzero(p.flood[span]) + q
        rate, peak = p.est[cand], p.c10[cand]
        by_rate = rate / p.thr >= peak / p.thr10
        value = np.where(by_rate, rate, peak)
        prev = ev.alerted.get("crawl_flood")
        if prev is not None:
            ok = np.flatnonzero((value >= prev[0] * cfg.escalate_factor)
                                & (p.ts_s[cand] - prev[1] >= cfg.escalate_cooldown))
            if not len(ok):
                return
            cand, value, by_rate, rate, peak = cand[ok], value[ok], by_rate[ok], rate[ok], peak[ok]
        t = int(cand[0])
        if not should_emit(ev, "crawl_flood", float(value[0]), float(p.ts_s[t]), cfg):
            return
        r, c, thr, thr10 = float(rate[0]), float(peak[0]), p.thr, p.thr10
        reasons = (f"{r:.0f} requests/minute (threshold {thr:.0f})",
                   f"{c:.0f} non-static requests in 10 s (threshold {thr10:.0f})")
        score = strength(float(value[0]), thr if by_rate[0] else thr10)
        out.append((int(p.order[t]), _KIND_RANK["crawl_flood"],
                    self._alert(p, t, k, slot, ev, "crawl_flood", score, reasons)))

    def _alert(self, p: _Piece, q: int, k: int, slot: int, ev: Evidence, kind: str, score: float,
               reasons: tuple[str, ...]) -> Alert:
        """The alert raised by the record at sorted position ``q`` (segment ``k``)."""
        timed = bool(p.timed[p.order[q]])
        cats = categories_for(kind, ev)
        return Alert(
            ip=self._table.ip[slot], kind=kind, file=str(p.bfile[k]), first_line=int(p.bline[k]),
            last_line=p.records[int(p.order[q])].line, events=int(p.cum[q, _C["count"]]), score=score,
            reasons=reasons, categories=cats,
            first_time=datetime.fromtimestamp(float(p.bstart[k]), UTC) if timed else None,
            last_time=datetime.fromtimestamp(float(p.ts_s[q]), UTC) if timed else None,
            severity=alert_severity(kind, cats))


#: (record index, sorted position, segment, slot, evidence, counters, duration, agents, distinct missing)
_Checkpoint = tuple[int, int, int, int, Evidence, list[float], float, int, int]


@dataclass(slots=True, frozen=True)
class _Piece:
    """Columns of the batch being judged, shared with the per-record slow path.

    Record columns (``pf`` ... ``known_ext``) are in line order; ``uah_s`` ... ``c10`` and ``flood``
    are in the grouped order (``order`` maps back); segment columns are indexed by ``seg_of``.
    """

    records: Sequence[LogRecord]
    verdicts: Sequence[Verdict]
    order: np.ndarray
    pf: np.ndarray
    af: np.ndarray
    status: np.ndarray
    post: np.ndarray
    known_ext: np.ndarray
    uah_s: np.ndarray
    seg_of: np.ndarray
    ends: np.ndarray
    seg_slot: np.ndarray
    bid: np.ndarray
    ref_seg: np.ndarray
    cum: np.ndarray
    ts_s: np.ndarray
    timed: np.ndarray
    bstart: np.ndarray
    bline: np.ndarray
    bfile: np.ndarray
    est: np.ndarray
    c10: np.ndarray
    flood: np.ndarray
    thr: float
    thr10: float
