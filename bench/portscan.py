"""Port-scan detection figures on generated traffic, and firewall parsing/detection speed against peers.

python bench/portscan.py              # 3 seeds: a day of background + 20 scans of each type; background alone
python bench/portscan.py --seeds 5

Figures (see ``threatlens.samplegen.scaneval``): per scan type, the share of scans that got the
alert naming their type (recall) and any port-scan alert; per alert kind, the share raised on a
scanning source (precision); on a day of background alone (3,000 knocking sources, 20 brute
forcers, 3,000 stragglers, 4 pingers), the alerts and the share of background sources alerted.
Speed, as ratios in the same process: ``FirewallParser`` lines/s against the ``combined`` access-log
parser on as many generated access lines, and ``PortScanDetector`` packets/s against the parser.
"""

from __future__ import annotations

import argparse
import time

from threatlens.models.portscan import KINDS, PortScanDetector
from threatlens.parsers import FirewallRecord, RawLine, get_parser
from threatlens.samplegen import generate
from threatlens.samplegen.firewall import SCAN_TYPES, FirewallTraffic, format_lines
from threatlens.samplegen.scaneval import DSTS, START, evaluate


def figures(seeds: int) -> None:
    found: dict[str, list[float]] = {t: [] for t in SCAN_TYPES}
    caught: dict[str, list[float]] = {t: [] for t in SCAN_TYPES}
    delay: dict[str, list[float]] = {t: [] for t in SCAN_TYPES}
    precision: dict[str, list[float]] = {k: [] for k in KINDS}
    for seed in range(seeds):
        mixed = evaluate(seed)
        for t in SCAN_TYPES:
            found[t].append(mixed.recall(t))
            caught[t].append(mixed.caught.get(t, 0) / mixed.scans[t])
            if t in mixed.delay:
                delay[t].append(mixed.delay[t])
        for k in KINDS:
            p = mixed.precision(k)
            if p is not None:
                precision[k].append(p)
        print(f"seed {seed}: {mixed.packets:,} packets from {mixed.sources:,} sources, "
              f"{mixed.false_alarm_sources} background sources alerted")

    def span(values: list[float], fmt: str = "{:.2f}") -> str:
        if not values:
            return "-"
        lo, hi = min(values), max(values)
        return fmt.format(lo) if lo == hi else f"{fmt.format(lo)}-{fmt.format(hi)}"

    print(f"\n{'scan type':<12} {'recall (named)':>15} {'any alert':>10} {'median s to alert':>18}")
    for t in SCAN_TYPES:
        print(f"{t:<12} {span(found[t]):>15} {span(caught[t]):>10} {span(delay[t], '{:.0f}'):>18}")
    print(f"\n{'alert kind':<22} {'precision':>10}")
    for k in KINDS:
        print(f"{k:<22} {span(precision[k]):>10}")
    print()
    for seed in range(seeds):
        quiet = evaluate(100 + seed, scans=False)
        total = sum(quiet.alerts_by_kind.values())
        print(f"background only, seed {100 + seed}: {quiet.packets:,} packets, {quiet.background_sources:,} sources, "
              f"{total} alerts, {quiet.false_alarm_sources / quiet.background_sources:.4%} of sources alerted")


def speed() -> None:
    traffic = FirewallTraffic(0, START, DSTS)
    packets = traffic.background(knockers=3000)
    for t in SCAN_TYPES:
        packets += traffic.scan(t)
    fw_raw = [RawLine("fw", i + 1, 0, s.encode()) for i, s in enumerate(format_lines(packets))]
    web_raw = [RawLine("web", i + 1, 0, s.encode()) for i, s in enumerate(generate(len(fw_raw), "combined"))]
    fw_parser, web_parser = get_parser("firewall"), get_parser("combined")
    rows = []
    for _ in range(3):
        began = time.perf_counter()
        records = [r for r in fw_parser.parse_batch(fw_raw) if isinstance(r, FirewallRecord)]
        fw_s = time.perf_counter() - began
        began = time.perf_counter()
        web_parser.parse_batch(web_raw)
        web_s = time.perf_counter() - began
        began = time.perf_counter()
        PortScanDetector().observe(records)
        det_s = time.perf_counter() - began
        rows.append((len(fw_raw) / fw_s, len(web_raw) / web_s, len(records) / det_s))
    print(f"\n{len(fw_raw):,} firewall lines, {len(web_raw):,} access lines, 3 rounds:")
    for fw, web, det in rows:
        print(f"  firewall parser {fw:,.0f} lines/s = {fw / web:.2f}x the combined parser ({web:,.0f}/s); "
              f"detector {det:,.0f} packets/s = {det / fw:.1f}x the parser")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args()
    figures(args.seeds)
    if not args.no_speed:
        speed()


if __name__ == "__main__":
    main()
