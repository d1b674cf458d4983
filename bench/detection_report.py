"""The issue-#9 detection report: IP-level figures with severity, and why each benign IP was alerted.

python bench/detection_report.py             # all figures
python bench/detection_report.py --why 20    # also list up to 20 benign IPs alerted, with their reasons

An IP is *alerted* when it has any flagged request or any alert (any severity); *attack-alerted* when one
of those is of severity ``attack``. Figures: the elastic log (benign IPs alerted, hand-labelled probe IPs
caught; also on the half of its IPs that training held out), the CrowdSec hub scenario logs (attacking IPs
caught) and the seeded sample generator (IPs alerted per role).
"""

from __future__ import annotations

import argparse
import sys
import zlib
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from detection import SHARED, elastic_log, load_log
from threatlens.models.detection import Detection
from threatlens.parsers import LogRecord, RawLine, get_parser
from threatlens.samplegen import Traffic, generate


def run(records: Sequence[LogRecord], batch: int = 2000) -> tuple[dict[str, set[str]], dict[str, list[str]]]:
    """Per IP: the severities it was alerted with, and a few reasons."""
    det = Detection.load()
    sev: dict[str, set[str]] = defaultdict(set)
    why: dict[str, list[str]] = defaultdict(list)
    for i in range(0, len(records), batch):
        chunk = records[i:i + batch]
        verdicts, alerts = det.process(chunk)
        for r, v in zip(chunk, verdicts, strict=True):
            if v.flagged and r.ip:
                sev[r.ip].add(getattr(v, "severity", "") or "?")
                if len(why[r.ip]) < 4:
                    why[r.ip].append(f"req {r.method} {(r.path or '')[:60]}?{(r.query or '')[:40]} {r.status}: "
                                     f"{v.score:.2f} {'; '.join(v.reasons)[:120]}")
        for a in alerts:
            sev[a.ip].add(getattr(a, "severity", "") or "?")
            if len(why[a.ip]) < 6:
                why[a.ip].append(f"alert {a.kind}: {'; '.join(a.reasons)[:140]}")
    return sev, why


def share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.2%})" if whole else "0/0"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--why", type=int, default=0, help="list up to N benign IPs alerted, with reasons")
    ap.add_argument("--batch", type=int, default=2000)
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"../shared/data absent at {SHARED}: nothing to report")

    records, ips, probes, benign = elastic_log()
    sev, why = run(records, args.batch)
    alerted = {ip for ip in sev}
    attack = {ip for ip, s in sev.items() if "attack" in s}
    held = {ip for ip in ips if zlib.crc32(f"0:{ip}".encode()) % 2 == 0}
    print(f"== elastic log: {len(records)} lines, {len(ips)} IPs, {len(probes)} hand-labelled probe IPs")
    print(f"  benign IPs alerted {share(len(alerted & benign), len(benign))}; "
          f"attack-severity {share(len(attack & benign), len(benign))}")
    print(f"  probe IPs caught {share(len(alerted & probes), len(probes))}; "
          f"attack-severity {share(len(attack & probes), len(probes))}")
    print(f"  held-out half: benign alerted {share(len(alerted & benign & held), len(benign & held))}; "
          f"probes caught {share(len(alerted & probes & held), len(probes & held))}")
    missed = sorted(probes - alerted)
    if missed:
        print(f"  probes missed: {', '.join(missed)}")
    for ip in sorted(alerted & benign)[:args.why]:
        print(f"    benign {ip} {sorted(sev[ip])}: " + " | ".join(why[ip]))

    hub = SHARED / "logs" / "crowdsec_hub_tests"
    got = tot = full = n = 0
    for folder in sorted(p for p in hub.iterdir() if p.is_dir()):
        recs = [r for log in sorted(folder.glob("*.log")) for r in load_log(log)]
        hips = {r.ip for r in recs if r.ip}
        if not hips:
            continue
        s, _ = run(recs, args.batch)
        caught = set(s) & hips
        got += len(caught)
        tot += len(hips)
        full += caught == hips
        n += 1
    print(f"== crowdsec hub: attacking IPs caught {got}/{tot} ({got / tot:.2f}); scenarios fully caught {full}/{n}")

    traffic = Traffic(11, 20.0, 0.05)
    parser = get_parser("combined")
    gen = [parser.parse_raw(RawLine("gen.log", i, 0, s.encode()))
           for i, s in enumerate(generate(60_000, "combined", traffic=traffic), 1)]
    gen_records = [r for r in gen if isinstance(r, LogRecord)]
    s, why = run(gen_records, args.batch)
    by_role: dict[str, list[int]] = {}
    for ip, role in traffic.labels.items():
        key = role.split(":")[0]
        by_role.setdefault(key, [0, 0])
        by_role[key][0] += ip in s
        by_role[key][1] += 1
    print(f"== sample generator (seed 11, {len(gen_records)} lines): IPs alerted per role")
    print("  " + ", ".join(f"{k} {c}/{t}" for k, (c, t) in sorted(by_role.items())))
    wrong = [ip for ip, role in traffic.labels.items() if ip in s and not role.startswith("attacker")]
    for ip in wrong[:args.why]:
        print(f"    {traffic.labels[ip]} {ip} {sorted(s[ip])}: " + " | ".join(why[ip]))


if __name__ == "__main__":
    main()
