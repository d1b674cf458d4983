"""Benchmark ``threatlens.stats.Stats``: update throughput, memory flatness, read cost, iptocc speed.

Peer, measured in the same run: a naive exact aggregator, a dict of Counters plus a dict row per
client IP and country (what ngxtop and GoAccess do), whose memory grows with the distinct keys.

Each aggregator runs in a fresh subprocess, so its peak RSS is its own. Records are built batch by
batch outside the timed region; the timed region is ``update(batch)`` plus dropping the caller's
reference to the batch (so both sides pay for freeing records: the naive peer right away, Stats when
its recent-requests window lets them go). Rates are per CPU second of the worker (``process_time``),
i.e. per core, which is also steadier than wall time on a shared machine.

Workload: every one of the distinct IPs and paths appears (a permutation spread over the run)
among Zipf-skewed draws (heavy hitters), 2% of requests flagged, realistic field values.

    .venv/bin/python bench/stats.py           # quick: 500k records, 100k IPs, 50k paths
    .venv/bin/python bench/stats.py --full    # 5M records, 1M IPs, 500k paths (a few minutes)
    .venv/bin/python bench/stats.py --threshold 0.5   # Stats as the monitor runs it (flags at a threshold)
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from threatlens.models.verdict import Verdict
from threatlens.parsers.record import LogRecord

BATCH = 1000
SEED = 7
TABLES = ("ips", "flagged_ips", "countries", "ports", "paths", "user_agents", "referers", "vhosts", "statuses")


def rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ip_of(i: int) -> str:
    """A deterministic public IPv4 address (11.x.x.x .. 99.x.x.x) for index ``i``."""
    v = (i * 2654435761) & 0xFFFFFFFF
    return f"{11 + (v >> 24) % 89}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}"


class Workload:
    """Batches of LogRecords and parallel verdicts, generated on the fly (little memory)."""

    def __init__(self, total: int, n_ips: int, n_paths: int) -> None:
        rng = np.random.default_rng(SEED)
        self.total = total
        self.n_ips, self.n_paths = n_ips, n_paths
        self.ip_perm = rng.permutation(n_ips).astype(np.int32)
        self.path_perm = rng.permutation(n_paths).astype(np.int32)
        self.uas = [
            f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/{100 + i}.0 Safari/537.36"
            for i in range(3000)
        ]
        self.refs: list[str | None] = [None if i % 2 else f"https://example{i}.org/page" for i in range(5000)]
        self.statuses = [200, 304, 301, 404, 403, 500]
        self.vhosts = [f"site{i}.example.com" for i in range(20)]
        benign = [Verdict(score=s / 1000 * 0.3, flagged=False) for s in range(1000)]
        cats = (("sqli",), ("xss",), ("path_traversal", "sensitive_file"), ("scanner",))
        bad = [
            Verdict(0.6 + s / 1000 * 0.4, True, cats[s % 4], ("union select",), s % 10 == 0) for s in range(1000)
        ]
        self.verdicts = (benign, bad)
        self.t0 = datetime(2024, 5, 1, 0, 0, 0, tzinfo=timezone(timedelta(hours=2)))

    def _stream(self, rng: np.random.Generator, perm: np.ndarray, start: int, n: int, a: float) -> list[int]:
        """``n`` indices: this batch's share of the permutation, the rest Zipf-skewed."""
        lo = len(perm) * start // self.total
        hi = len(perm) * (start + n) // self.total
        z = (rng.zipf(a, size=n - (hi - lo)) - 1) % len(perm)
        out = np.concatenate([perm[lo:hi], z])
        rng.shuffle(out)
        return out.tolist()  # type: ignore[no-any-return]

    def batch(self, start: int, stop: int) -> tuple[list[LogRecord], list[Verdict]]:
        """Records ``start`` to ``stop`` of the run, and their verdicts."""
        n = stop - start
        rng = np.random.default_rng([SEED, start])
        ipi = self._stream(rng, self.ip_perm, start, n, 1.3)
        pai = self._stream(rng, self.path_perm, start, n, 1.2)
        uai = (rng.zipf(1.5, size=n) % 3000).tolist()
        rei = (rng.zipf(1.4, size=n) % 5000).tolist()
        sti = rng.choice(6, size=n, p=[0.80, 0.05, 0.04, 0.08, 0.02, 0.01]).tolist()
        byt = rng.integers(0, 50_000, size=n).tolist()
        fl = (rng.random(size=n) < 0.02).tolist()
        sc = rng.integers(0, 1000, size=n).tolist()
        uas, refs, sts, vhosts = self.uas, self.refs, self.statuses, self.vhosts
        benign, bad = self.verdicts
        times: dict[int, datetime] = {}
        recs = []
        vers = []
        for j in range(n):
            i = start + j
            sec = i // 200  # 200 requests per second of log time
            t = times.get(sec)
            if t is None:
                t = times[sec] = self.t0 + timedelta(seconds=sec)
            ip = ip_of(ipi[j])
            path = f"/p/{pai[j]}/index.html"
            status = sts[sti[j]]
            ua = uas[uai[j]]
            raw = f'{ip} - - [01/May/2024:00:00:00 +0200] "GET {path} HTTP/1.1" {status} {byt[j]} "-" "{ua}"'
            recs.append(
                LogRecord(
                    t, ip, None, "GET", path, None, "HTTP/1.1", status, byt[j], refs[rei[j]], ua,
                    vhosts[i % 20], 443 if i % 3 else 80, None, None, raw.encode(), "access.log", i + 1, i * 180,
                )
            )
            vers.append(bad[sc[j]] if fl[j] else benign[sc[j]])
        return recs, vers


class NaiveAggregator:
    """Exact and unbounded: a Counter per column and a dict row per client IP and country."""

    def __init__(self, geo: Any) -> None:
        self.geo = geo
        self.dims: dict[str, Counter[Any]] = {
            name: Counter() for name in ("path", "ua", "referer", "vhost", "status", "port")
        }
        self.ips: dict[str, list[Any]] = {}
        self.countries: dict[str | None, list[Any]] = {}
        self.lines = self.flagged = 0

    def update(self, records: list[LogRecord], verdicts: list[Verdict]) -> None:
        """Count one batch."""
        d = self.dims
        d["path"].update(r.path for r in records)
        d["ua"].update(r.user_agent for r in records)
        d["referer"].update(r.referer for r in records if r.referer)
        d["vhost"].update(r.vhost for r in records)
        d["status"].update(r.status for r in records)
        d["port"].update(r.server_port for r in records)
        ips = self.ips
        countries = self.countries
        geo = self.geo
        for r, v in zip(records, verdicts, strict=True):
            row = ips.get(r.ip)
            if row is None:
                cc = geo(r.ip)
                row = ips[r.ip] = [0, 0, 0.0, 0, 0, 0, r.time, r.time, cc, set()]
                crow = countries.get(cc)
                if crow is None:
                    crow = countries[cc] = [0, 0, set()]
                crow[2].add(r.ip)
            row[0] += 1
            if v.flagged:
                row[1] += 1
                self.flagged += 1
                row[9].update(v.categories)
            if v.score > row[2]:
                row[2] = v.score
            if r.status >= 500:
                row[4] += 1
            elif r.status >= 400:
                row[3] += 1
            row[5] += r.bytes
            row[7] = r.time
            crow = countries[row[8]]
            crow[0] += 1
            crow[1] += v.flagged
        self.lines += len(records)

    def top_ips(self, n: int) -> list[tuple[str, int]]:
        """Exact top client IPs (a full sort)."""
        return [(ip, row[0]) for ip, row in sorted(self.ips.items(), key=lambda kv: kv[1][0], reverse=True)[:n]]

    def read_tables(self) -> None:
        """The top-10 tables the monitor shows."""
        self.top_ips(10)
        for c in self.dims.values():
            c.most_common(10)
        sorted(self.countries.items(), key=lambda kv: kv[1][0], reverse=True)[:10]


def worker(kind: str, total: int, n_ips: int, n_paths: int, checkpoints: list[int],
           threshold: float | None = None) -> dict[str, Any]:
    from threatlens.stats import GeoLookup, Stats

    wl = Workload(total, n_ips, n_paths)
    geo = GeoLookup.open(env={}, search_dirs=())
    base_rss = rss_mb()
    agg: Any = Stats(geo=geo, threshold=threshold) if kind == "stats" else NaiveAggregator(geo.country)
    cpu = 0.0
    wall = 0.0
    marks = []
    cps = sorted(checkpoints)
    for start in range(0, total, BATCH):
        stop = min(total, start + BATCH)
        recs, vers = wl.batch(start, stop)
        w0 = time.perf_counter()
        c0 = time.process_time()
        agg.update(recs, vers)
        del recs, vers
        cpu += time.process_time() - c0
        wall += time.perf_counter() - w0
        if cps and stop >= cps[0]:
            gc.collect()
            now = rss_mb()
            marks.append({"records": stop, "rss_mb": now, "delta_mb": now - base_rss, "rate": stop / cpu})
            cps.pop(0)
    reads = 300 if kind == "stats" else 3
    t0 = time.perf_counter()
    for _ in range(reads):
        if kind == "stats":
            for name in TABLES:
                agg.table(name, 10)
            agg.totals()
            agg.rates()
        else:
            agg.read_tables()
    read_ms = (time.perf_counter() - t0) / reads * 1000
    out: dict[str, Any] = {
        "kind": kind,
        "records": total,
        "rate": total / cpu,
        "wall_rate": total / wall,
        "base_rss_mb": base_rss,
        "marks": marks,
        "peak_rss_mb": peak_mb(),
        "read_ms": read_ms,
    }
    if kind == "stats":
        out["top_ips"] = [(r.ip, r.requests, r.error) for r in agg.top_ips(10)]
        out["top_paths"] = [(k.key, k.requests, k.error) for k in agg.top_paths(10)]
        out["error_bounds"] = agg.error_bounds()
        out["countries"] = len(agg.top_countries(1000))
        out["distinct_total"] = sum(c.distinct_ips for c in agg.top_countries(1000))
        t0 = time.perf_counter()
        agg.recount(0.8)
        out["recount_ms"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        agg.ip_detail(out["top_ips"][0][0])
        out["detail_ms"] = (time.perf_counter() - t0) * 1000
    else:
        out["top_ips"] = agg.top_ips(10)
        out["top_paths"] = agg.dims["path"].most_common(10)
        out["distinct_total"] = len(agg.ips)
    return out


def geo_speed() -> dict[str, float]:
    import iptocc

    from threatlens.stats import GeoLookup

    ips = [ip_of(int(i)) for i in np.random.default_rng(1).integers(0, 2**31, size=200_000)]
    cc = iptocc.country_code
    t0 = time.perf_counter()
    for ip in ips:
        cc(ip)
    single = (time.perf_counter() - t0) / len(ips) * 1e9
    t0 = time.perf_counter()
    for i in range(0, len(ips), 500):
        cc(ips[i : i + 500])
    batch = (time.perf_counter() - t0) / len(ips) * 1e9
    geo = GeoLookup.open(env={}, search_dirs=(), cache_size=1 << 18)
    t0 = time.perf_counter()
    for i in range(0, len(ips), 500):
        geo.countries(ips[i : i + 500])
    countries = (time.perf_counter() - t0) / len(ips) * 1e9
    t0 = time.perf_counter()
    for ip in ips:
        geo.country(ip)
    miss = (time.perf_counter() - t0) / len(ips) * 1e9
    t0 = time.perf_counter()
    for ip in ips:
        geo.country(ip)
    hit = (time.perf_counter() - t0) / len(ips) * 1e9
    return {"single": single, "batch": batch, "countries": countries, "miss": miss, "hit": hit}


def run_worker(kind: str, args: argparse.Namespace, checkpoints: list[int]) -> dict[str, Any]:
    cmd = [
        sys.executable, __file__, "--worker", kind, "--records", str(args.records), "--ips", str(args.ips),
        "--paths", str(args.paths), "--checkpoints", ",".join(map(str, checkpoints)),
    ]
    if args.threshold is not None:
        cmd += ["--threshold", str(args.threshold)]
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="5M records, 1M distinct IPs, 500k distinct paths")
    ap.add_argument("--records", type=int)
    ap.add_argument("--ips", type=int)
    ap.add_argument("--paths", type=int)
    ap.add_argument("--no-peer", action="store_true", help="skip the naive aggregator")
    ap.add_argument("--threshold", type=float,
                    help="flag at this score, as the monitor counts (default: each verdict's own flag, as a scan)")
    ap.add_argument("--checkpoints", help=argparse.SUPPRESS)
    ap.add_argument("--worker", choices=("stats", "naive"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    full = (5_000_000, 1_000_000, 500_000) if args.full else (500_000, 100_000, 50_000)
    args.records = args.records or full[0]
    args.ips = args.ips or full[1]
    args.paths = args.paths or full[2]
    checkpoints = sorted({args.records // 5, args.records})
    if args.worker:
        cps = [int(x) for x in args.checkpoints.split(",")] if args.checkpoints else checkpoints
        print(json.dumps(worker(args.worker, args.records, args.ips, args.paths, cps, args.threshold)))
        return 0

    print(f"records={args.records:,}  distinct IPs={args.ips:,}  distinct paths={args.paths:,}  batch={BATCH}")
    g = geo_speed()
    print(
        f"iptocc: {g['single']:.0f} ns/lookup (one call each), {g['batch']:.0f} ns (lists of 500); "
        f"GeoLookup.countries: {g['countries']:.0f} ns; GeoLookup.country: {g['miss']:.0f} ns miss, "
        f"{g['hit']:.0f} ns cached"
    )
    results = [run_worker("stats", args, checkpoints)]
    if not args.no_peer:
        results.append(run_worker("naive", args, checkpoints))
    cols = " ".join(f"{'RSS@' + format(m['records'], ','):>14}" for m in results[0]["marks"])
    head = f"{'aggregator':<10} {'records/s/core':>14} {'(wall)':>9} {cols}"
    print(f"{head} {'peak RSS':>9} {'growth':>8} {'top-10 reads':>13}")
    for r in results:
        marks = " ".join(f"{m['rss_mb']:>11.0f} MB" for m in r["marks"])
        print(
            f"{r['kind']:<10} {r['rate']:>14,.0f} {r['wall_rate']:>9,.0f} {marks} {r['peak_rss_mb']:>6.0f} MB"
            f" {r['marks'][-1]['delta_mb']:>5.0f} MB {r['read_ms']:>10.3f} ms"
        )
    s = results[0]
    bounds = s["error_bounds"]
    print(
        f"stats: rate at {s['marks'][0]['records']:,} vs {s['records']:,}: "
        f"{s['marks'][0]['rate']:,.0f} vs {s['marks'][-1]['rate']:,.0f}/s; recount(0.8) {s['recount_ms']:.1f} ms; "
        f"ip_detail {s['detail_ms']:.1f} ms; error floor/bound: ips {bounds['ips'][0]}/{bounds['ips'][1]:.0f}, "
        f"paths {bounds['paths'][0]}/{bounds['paths'][1]:.0f}; {s['countries']} countries"
    )
    if len(results) > 1:
        n = results[1]
        growth = s["marks"][-1]["delta_mb"] / max(n["marks"][-1]["delta_mb"], 1e-9)
        print(
            f"stats vs naive: speed {s['rate'] / n['rate']:.2f}x, memory growth {growth:.2f}x, "
            f"top-10 reads {n['read_ms'] / s['read_ms']:,.0f}x faster; distinct IPs (sum over countries) "
            f"{s['distinct_total']:,} vs exact {n['distinct_total']:,} "
            f"({(s['distinct_total'] - n['distinct_total']) / n['distinct_total']:+.2%})"
        )
        exact = dict(n["top_ips"])
        worst = 0.0
        within = True
        for ip, count, err in s["top_ips"]:
            true = exact.get(ip)
            if true is not None:
                within &= count - err <= true <= count
                worst = max(worst, (count - true) / true)
        same = len({ip for ip, *_ in s["top_ips"]} & set(exact))
        same_p = len({p for p, *_ in s["top_paths"]} & set(dict(n["top_paths"])))
        print(
            f"accuracy: top-10 IPs {same}/10 as exact (counts within the stated error: {within}, worst "
            f"overcount {worst:.2%}); top-10 paths {same_p}/10 as exact"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
