"""IP-level detection figures on the data we have, and BehaviourTracker throughput against a naive peer.

python bench/detection.py            # figures + 200k-record throughput (seconds)
python bench/detection.py --full     # 1M-record throughput
python bench/detection.py --no-scorer

Figures (an IP is *caught* when it has any flagged request or any alert):
* crowdsec hub test scenarios (../shared/data/logs/crowdsec_hub_tests): per scenario, the share of
  the scenario's IPs caught (the logs are attack fixtures: every IP in them counts as attacking);
* the elastic log: share of benign IPs alerted, and of the hand-labelled probe IPs
  (tests/data/elastic_probe_ips.txt) caught;
* the seeded sample generator's traffic: share of IPs alerted per role;
each with the behaviour detectors alone and with the shipped per-request scorer when it loads.
Throughput: ``BehaviourTracker.observe`` records/s on generated traffic, against a naive peer that
re-runs a pandas groupby over the sliding window after every batch; ``CampaignTracker.observe`` on
the same records, as a share of the behaviour tracker's time (the cost campaigns add to detection).
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from threatlens.errors import ModelError
from threatlens.models.behaviour import BehaviourTracker
from threatlens.models.campaigns import CampaignTracker
from threatlens.models.detection import Detection
from threatlens.models.verdict import Verdict
from threatlens.parsers import AUTO_CANDIDATES, LogRecord, RawLine, UnknownFormatError, detect_format, get_parser
from threatlens.samplegen import Traffic, generate

ROOT = Path(__file__).resolve().parents[1]
SHARED = (ROOT / ".." / "shared" / "data").resolve()
PROBES = ROOT / "tests" / "data" / "elastic_probe_ips.txt"
_SYSLOG = re.compile(rb"^[A-Z][a-z]{2} +\d+ [\d:]+ \S+ \S+: ")
CLEAN = Verdict(0.0, False)


def load_log(path: Path) -> list[LogRecord]:
    """Records of a log file (syslog prefixes stripped, ``#`` lines skipped, other presets as fallback)."""
    data = [_SYSLOG.sub(b"", d) for d in path.read_bytes().splitlines()]
    data = [d for d in data if d.strip() and not d.startswith(b"#")]
    try:
        main = detect_format(data).parser
    except UnknownFormatError:
        return []
    parsers = [main, *(get_parser(n) for n in AUTO_CANDIDATES if n != main.name)]
    out = []
    for number, raw in enumerate(data, 1):
        for p in parsers:
            r = p.parse_raw(RawLine(path.name, number, 0, raw))
            if isinstance(r, LogRecord):
                out.append(r)
                break
    return out


def elastic_log() -> tuple[list[LogRecord], set[str], set[str], set[str]]:
    """The elastic log's records, its client IPs, the hand-labelled probe IPs and the rest (benign)."""
    rows = [r.split("\t", 1) for r in PROBES.read_text().splitlines() if r.strip() and not r.startswith("#")]
    probes = {ip for ip, _ in rows}
    records = load_log(SHARED / "logs" / "elastic_apache_logs" / "apache_logs")
    ips = {r.ip for r in records if r.ip}
    return records, ips, probes, ips - probes


def caught_ips(records: Sequence[LogRecord], make: Callable[[], Detection], batch: int = 2000) -> set[str]:
    """IPs with a flagged request or an alert."""
    det = make()
    caught: set[str] = set()
    for i in range(0, len(records), batch):
        chunk = records[i:i + batch]
        verdicts, alerts = det.process(chunk)
        caught.update(r.ip for r, v in zip(chunk, verdicts, strict=True) if v.flagged and r.ip)
        caught.update(a.ip for a in alerts)
        caught.update(ip for a in alerts for ip in a.members)  # a campaign's member IPs
    return caught


def figures(makers: dict[str, Callable[[], Detection]]) -> None:
    names = list(makers)
    hub = SHARED / "logs" / "crowdsec_hub_tests"
    print("== crowdsec hub scenarios: attacking IPs caught (" + " | ".join(names) + ")")
    totals = {n: [0, 0] for n in names}
    scen_full = {n: 0 for n in names}
    n_scen = 0
    for folder in sorted(p for p in hub.iterdir() if p.is_dir()):
        records = [r for log in sorted(folder.glob("*.log")) for r in load_log(log)]
        ips = {r.ip for r in records if r.ip}
        if not ips:
            continue
        n_scen += 1
        row = []
        for n in names:
            got = caught_ips(records, makers[n]) & ips
            totals[n][0] += len(got)
            totals[n][1] += len(ips)
            scen_full[n] += len(got) == len(ips)
            row.append(f"{len(got)}/{len(ips)}")
        print(f"  {folder.name:38s} " + "  ".join(f"{c:>7s}" for c in row))
    for n in names:
        got, tot = totals[n]
        print(f"  {n}: {got}/{tot} attacking IPs caught ({got / tot:.2f}); "
              f"scenarios fully caught {scen_full[n]}/{n_scen}")

    records, ips, probes, benign = elastic_log()
    print(f"== elastic log: {len(records)} lines, {len(ips)} IPs, {len(probes)} hand-labelled probe IPs")
    for n in names:
        caught = caught_ips(records, makers[n])
        fp = caught & benign
        print(f"  {n}: benign IPs alerted {len(fp)}/{len(benign)} ({len(fp) / len(benign):.2%}); "
              f"probe IPs caught {len(caught & probes)}/{len(probes)} ({len(caught & probes) / len(probes):.2f})"
              + (f"; false: {sorted(fp)[:8]}" if fp else ""))

    traffic = Traffic(11, 20.0, 0.05)
    parser = get_parser("combined")
    gen = [parser.parse_raw(RawLine("gen.log", i, 0, s.encode()))
           for i, s in enumerate(generate(60_000, "combined", traffic=traffic), 1)]
    gen_records = [r for r in gen if isinstance(r, LogRecord)]
    roles = traffic.labels
    print(f"== sample generator (seed 11, {len(gen_records)} lines): IPs alerted per role")
    for n in names:
        caught = caught_ips(gen_records, makers[n])
        by_role: dict[str, list[int]] = {}
        for ip, role in roles.items():
            key = role.split(":")[0]
            by_role.setdefault(key, [0, 0])
            by_role[key][0] += ip in caught
            by_role[key][1] += 1
        print(f"  {n}: " + ", ".join(f"{k} {c}/{t}" for k, (c, t) in sorted(by_role.items())))


def naive_peer(records: Sequence[LogRecord], batch: int, window: float = 600.0) -> float:
    """Re-run a pandas groupby over the sliding window after each batch; return CPU seconds."""
    ts = np.array([r.time.timestamp() for r in records])
    frame = pd.DataFrame({"ip": [r.ip for r in records], "path": [r.path for r in records],
                          "status": [r.status for r in records], "ts": ts})
    began = time.process_time()
    win = frame.iloc[:0]
    for i in range(0, len(frame), batch):
        win = pd.concat([win, frame.iloc[i:i + batch]])
        win = win[win["ts"] >= win["ts"].iloc[-1] - window]
        miss = win[(win["status"] >= 400) & (win["status"] < 500)]
        g = win.groupby("ip").agg(n=("ts", "size"), first=("ts", "min"), last=("ts", "max"))
        m = miss.groupby("ip")["path"].nunique()
        g = g.join(m.rename("missing"), how="left").fillna({"missing": 0})
        _ = g[(g["missing"] >= 6) | (g["n"] / np.maximum(g["last"] - g["first"], 60.0) * 60 > 240)]
    return time.process_time() - began


def throughput(n: int, batch: int) -> None:
    parser = get_parser("combined")
    lines = generate(n, "combined", seed=7, rate=50.0)
    records = [r for i, s in enumerate(lines, 1)
               if isinstance(r := parser.parse_raw(RawLine("bench.log", i, 0, s.encode())), LogRecord)]
    verdicts = [CLEAN] * len(records)
    print(f"== throughput: {len(records):,} generated records, batches of {batch}")
    results: dict[int, float] = {}
    cpu_rate = 0.0
    for size in (batch, 10_000):
        tracker = BehaviourTracker()
        began, cpu = time.perf_counter(), time.process_time()
        alerts = 0
        for i in range(0, len(records), size):
            alerts += len(tracker.observe(records[i:i + size], verdicts[i:i + size]))
        took, cpu = time.perf_counter() - began, time.process_time() - cpu
        results[size] = len(records) / took
        if size == batch:
            cpu_rate = len(records) / cpu
        print(f"  BehaviourTracker.observe (batch {size}): {results[size]:,.0f} records/s wall, "
              f"{len(records) / cpu:,.0f} records/s of CPU time ({took:.2f} s, {alerts} alerts, "
              f"{len(tracker)} IPs tracked)")
    campaigns = CampaignTracker()
    cpu = time.process_time()
    found = 0
    for i in range(0, len(records), batch):
        found += len(campaigns.observe(records[i:i + batch], verdicts[i:i + batch]))
    cpu = time.process_time() - cpu
    print(f"  CampaignTracker.observe (batch {batch}): {len(records) / cpu:,.0f} records/s of CPU time "
          f"({found} campaign alerts); its time / the behaviour tracker's: {cpu_rate * cpu / len(records):.2f}")
    peer_n = min(len(records), 200_000)
    took = naive_peer(records[:peer_n], batch)
    peer = peer_n / took
    print(f"  naive pandas groupby per batch (batch {batch}): {peer:,.0f} records/s of CPU time")
    print(f"  ratio tracker/peer at batch {batch} (CPU time): {cpu_rate / peer:.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="1,000,000 records for the throughput run")
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--no-scorer", action="store_true", help="behaviour detectors only")
    ap.add_argument("--speed-only", action="store_true", help="throughput only")
    args = ap.parse_args()
    makers: dict[str, Callable[[], Detection]] = {"behaviour": lambda: Detection(None)}
    if not args.no_scorer:
        try:
            from threatlens.models.classifier import RequestScorer

            RequestScorer.load()
            makers["scorer+behaviour"] = lambda: Detection(RequestScorer.load())
        except ModelError as exc:
            print(f"(shipped scorer not available: {exc}; behaviour only)")
    if args.speed_only:
        pass
    elif SHARED.is_dir():
        figures(makers)
    else:
        print(f"(../shared/data absent at {SHARED}: detection figures skipped)")
    throughput(1_000_000 if args.full else 200_000, args.batch)


if __name__ == "__main__":
    main()
