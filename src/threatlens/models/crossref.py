"""One IP across sources: a port scan in the firewall log, then attacks on the web server.

``CrossSource`` remembers each IP's first port-scan alert and its flagged requests (both bounded,
least recently active dropped first) and raises ``port_scan_then_web`` when an IP that scanned
ports later sent ``min_probes`` flagged requests, in log time, whichever log was read first:
"port scan (vertical, 120 ports) at 06:02:11, then 12 probes on /wp-*". It is raised again when
the count of probes grew ``escalate_factor``-fold.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from threatlens.models.portscan import KINDS as SCAN_KINDS
from threatlens.models.verdict import Alert, Verdict
from threatlens.parsers.record import LogRecord

__all__ = ["KIND", "CrossSource", "describe_paths"]

KIND = "port_scan_then_web"


#: Flagged requests kept per IP (the latest; older ones are counted, not kept).
_MAX_PROBES = 64


@dataclass(slots=True)
class _Ip:
    scan: Alert | None = None
    #: the latest flagged requests, oldest first (a list: an empty bounded deque costs 600 bytes per IP)
    probes: list[tuple[datetime, str, str, int, tuple[str, ...]]] = field(default_factory=list)
    probe_count: int = 0  # probes after the scan (all of them, not only those kept)
    raised: int = 0


def describe_paths(paths: Sequence[str]) -> str:
    """``/wp-*`` for paths sharing a prefix, else the first few distinct paths."""
    if not paths:
        return "-"
    first, last = min(paths), max(paths)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    prefix = first[:size]
    if len(set(paths)) == 1:
        return paths[0]
    if len(prefix) >= 3 or (len(prefix) == 2 and prefix != "/"):
        return f"{prefix}*"
    distinct = list(dict.fromkeys(paths))
    return ", ".join(distinct[:3]) + (", …" if len(distinct) > 3 else "")


class CrossSource:
    """Relates port-scan alerts and flagged requests of the same IP (see the module docstring)."""

    def __init__(self, *, min_probes: int = 3, escalate_factor: float = 4.0, max_ips: int = 20_000,
                 footprint: Callable[[str], tuple[int, int, float] | None] | None = None) -> None:
        #: the scan's size now (``PortScanDetector.footprint``), else the count in its first alert
        self.footprint = footprint
        self.min_probes = min_probes
        self.escalate_factor = escalate_factor
        self.max_ips = max_ips
        self._ips: OrderedDict[str, _Ip] = OrderedDict()

    def _entry(self, ip: str) -> _Ip:
        ips = self._ips
        entry = ips.get(ip)
        if entry is None:
            if len(ips) >= self.max_ips:
                ips.popitem(last=False)
            entry = ips[ip] = _Ip()
        else:
            ips.move_to_end(ip)
        return entry

    def observe(self, records: Sequence[LogRecord], verdicts: Sequence[Verdict] | None,
                alerts: Sequence[Alert]) -> list[Alert]:
        """Take one batch; return the new cross-source alerts."""
        touched: dict[str, _Ip] = {}
        for alert in alerts:
            if alert.kind in SCAN_KINDS and alert.first_time is not None:
                entry = self._entry(alert.ip)
                if entry.scan is None or alert.first_time < entry.scan.first_time:  # type: ignore[operator]
                    entry.scan = alert
                    entry.probe_count = sum(1 for p in entry.probes if p[0] >= alert.first_time)
                elif alert.first_time == entry.scan.first_time:
                    entry.scan = alert  # the same scan, now bigger
                    entry.probe_count = sum(1 for p in entry.probes if p[0] >= alert.first_time)
                touched[alert.ip] = entry
        if verdicts:
            for rec, verdict in zip(records, verdicts, strict=True):
                if verdict.flagged and rec.ip is not None and rec.time is not None:
                    entry = self._entry(rec.ip)
                    probes = entry.probes
                    probes.append((rec.time, rec.path or "", rec.file, rec.line, verdict.categories))
                    if len(probes) > _MAX_PROBES:
                        del probes[0]
                    scan = entry.scan
                    if scan is not None and rec.time >= scan.first_time:  # type: ignore[operator]
                        entry.probe_count += 1
                    touched[rec.ip] = entry
        out = []
        for ip, entry in touched.items():
            if entry.scan is None or entry.probe_count < self.min_probes:
                continue
            if entry.raised and entry.probe_count < entry.raised * self.escalate_factor:
                continue
            entry.raised = entry.probe_count
            out.append(self._alert(ip, entry))
        return out

    def _alert(self, ip: str, entry: _Ip) -> Alert:
        scan = entry.scan
        assert scan is not None and scan.first_time is not None
        after = [p for p in entry.probes if p[0] >= scan.first_time]
        n = entry.probe_count
        what = scan.kind.removeprefix("port_scan_")
        size = self.footprint(ip) if self.footprint is not None else None
        if size is not None:
            ports, hosts, seconds = size
            count = hosts if what == "horizontal" else ports
            took = f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
            scope = f"{count} {'hosts' if what == 'horizontal' else 'ports'} in {took}"
        else:
            scope = f"{scan.events} {'hosts' if what == 'horizontal' else 'ports'}"
        categories = tuple(dict.fromkeys(c for p in after for c in p[4]))
        return Alert(
            ip=ip, kind=KIND, file=after[-1][2], first_line=after[0][3], last_line=after[-1][3], events=n,
            score=max(0.97, scan.score),
            reasons=(f"port scan ({what}, {scope}) at {scan.first_time:%H:%M:%S}, then {n} probes on "
                     f"{describe_paths([p[1] for p in after])}", *scan.reasons[:1]),
            categories=tuple(dict.fromkeys(("scanner", *categories))), first_time=scan.first_time,
            last_time=after[-1][0], severity="attack")
