"""Measure the port-scan rules on generated traffic: recall and precision per scan type, false alarms.

``evaluate`` writes a day of background (``FirewallTraffic.background``) with ``per_type`` scans of
each type mixed in at random times, runs the lines through the real parser and detector, and
scores the alerts against the ground truth. A scan of type T counts as found when its source got
the alert that names T (``vertical`` and ``syn``: a vertical alert, and for ``syn`` one that says
SYN scan; ``horizontal``, ``slow``; ``null``/``fin``/``xmas``: a stealth alert naming the pattern),
and as caught when it got any port-scan alert. An alert kind's precision counts its alerts on any
scanning source. ``background_only`` is the same day without scans: every alert is a false alarm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from statistics import median

from threatlens.models.portscan import KINDS, PortScanDetector
from threatlens.models.verdict import Alert
from threatlens.parsers.firewall import FirewallParser, FirewallRecord
from threatlens.parsers.record import RawLine
from threatlens.samplegen.firewall import SCAN_TYPES, FirewallTraffic, Packet, format_lines

__all__ = ["Evaluation", "evaluate"]

START = datetime(2026, 3, 14, 0, 0, tzinfo=UTC)
DSTS = tuple(f"198.51.100.{i}" for i in range(1, 63))  # a /26 hosting block behind the firewall
_PATTERN = {"null": "NULL", "fin": "FIN", "xmas": "XMAS"}


@dataclass
class Evaluation:
    """What ``evaluate`` measured."""

    packets: int
    sources: int
    scans: dict[str, int] = field(default_factory=dict)
    found: dict[str, int] = field(default_factory=dict)
    caught: dict[str, int] = field(default_factory=dict)
    delay: dict[str, float] = field(default_factory=dict)  # median seconds from the scan's start to its first alert
    alerts_by_kind: dict[str, int] = field(default_factory=dict)
    true_by_kind: dict[str, int] = field(default_factory=dict)
    #: the size of each scan that did not get the alert naming its type: distinct ports (hosts for horizontal)
    missed: dict[str, list[int]] = field(default_factory=dict)
    false_alarm_sources: int = 0
    background_sources: int = 0
    seconds: float = 0.0

    def recall(self, scan_type: str) -> float:
        """Share of scans of ``scan_type`` that got the alert naming their type."""
        return self.found.get(scan_type, 0) / max(1, self.scans.get(scan_type, 0))

    def precision(self, kind: str) -> float | None:
        """Share of ``kind`` alerts raised on a scanning source (None without alerts)."""
        n = self.alerts_by_kind.get(kind, 0)
        return self.true_by_kind.get(kind, 0) / n if n else None


def _names(scan_type: str, alert: Alert) -> bool:
    kind = alert.kind.removeprefix("port_scan_")
    if scan_type in ("vertical", "syn"):
        return kind == "vertical" and (scan_type == "vertical" or "SYN scan" in " ".join(alert.reasons))
    if scan_type in _PATTERN:
        return kind == "stealth" and f"{_PATTERN[scan_type]} " in " ".join(alert.reasons)
    return kind == scan_type


def run_detector(packets: Sequence[Packet], style: str = "ufw", batch: int = 2000) -> list[Alert]:
    """Format, parse and detect, as ``threatlens scan`` would on the written log."""
    parser = FirewallParser()
    detector = PortScanDetector()
    alerts: list[Alert] = []
    raws = [RawLine("fw.log", i + 1, 0, text.encode()) for i, text in enumerate(format_lines(packets, style))]
    for i in range(0, len(raws), batch):
        records = [r for r in parser.parse_batch(raws[i:i + batch]) if isinstance(r, FirewallRecord)]
        alerts.extend(detector.observe(records))
    return alerts


def evaluate(seed: int = 0, *, per_type: int = 20, scans: bool = True, style: str = "ufw",
             **background: int) -> Evaluation:
    """A day of background with (or without) ``per_type`` scans of each type; see the module docstring.

    ``background`` are ``FirewallTraffic.background`` sizes (``knockers``, ``brute``, ``strays``, ...).
    """
    import time

    traffic = FirewallTraffic(seed, START, DSTS)
    packets = traffic.background(**background)
    starts: dict[str, float] = {}
    sizes: dict[str, int] = {}
    if scans:
        for scan_type in SCAN_TYPES:
            for _ in range(per_type):
                probes = traffic.scan(scan_type)
                src = probes[0].src
                starts[src] = probes[0].t
                sizes[src] = len({p.dst if scan_type == "horizontal" else p.dport for p in probes})
                packets.extend(probes)
    began = time.perf_counter()
    alerts = run_detector(packets, style)
    labels = traffic.labels
    out = Evaluation(len(packets), len(labels), seconds=time.perf_counter() - began)
    out.background_sources = sum(1 for role in labels.values() if role == "background")
    by_ip: dict[str, list[Alert]] = {}
    for alert in alerts:
        by_ip.setdefault(alert.ip, []).append(alert)
        out.alerts_by_kind[alert.kind] = out.alerts_by_kind.get(alert.kind, 0) + 1
        if labels.get(alert.ip, "background").startswith("scan:"):
            out.true_by_kind[alert.kind] = out.true_by_kind.get(alert.kind, 0) + 1
    delays: dict[str, list[float]] = {}
    for ip, role in labels.items():
        if not role.startswith("scan:"):
            if ip in by_ip:
                out.false_alarm_sources += 1
            continue
        scan_type = role.removeprefix("scan:")
        out.scans[scan_type] = out.scans.get(scan_type, 0) + 1
        mine = by_ip.get(ip, [])
        if mine:
            out.caught[scan_type] = out.caught.get(scan_type, 0) + 1
        named = [a for a in mine if _names(scan_type, a)]
        if not named:
            out.missed.setdefault(scan_type, []).append(sizes[ip])
        if named:
            out.found[scan_type] = out.found.get(scan_type, 0) + 1
            first = min(a.last_time.timestamp() for a in named if a.last_time is not None)
            delays.setdefault(scan_type, []).append(first - starts[ip])
    out.delay = {k: median(v) for k, v in delays.items()}
    for kind in KINDS:
        out.alerts_by_kind.setdefault(kind, 0)
    return out
