"""Port-scan detection from firewall records, per source IP, in log time, in bounded memory.

Rules (defaults in ``PortScanConfig``; "ports" and "hosts" are distinct destination ports and
addresses first probed within the window):

* **vertical** — many ports (on one or a few hosts): ``vertical_ports`` within ``fast_window``;
* **horizontal** — one port across many addresses: ``horizontal_hosts`` within ``fast_window``;
* **slow** — the same, spread over ``slow_window`` (``slow_ports`` / ``slow_hosts``), for scans paced
  below the fast thresholds (nmap ``-T0``/``-T1``) and lasting longer than ``fast_window``;
* **stealth** — TCP probes no normal stack sends: NULL (no flag), FIN, XMAS (FIN PSH URG) or other
  flag sets without SYN, ACK or RST, on ``stealth_ports`` ports within ``slow_window``.

A fast scan is an ``attack`` once it reaches twice its threshold (``suspicious`` before that); a
slow scan is ``suspicious``; a stealth scan is an ``attack``. Reasons name the evidence: counts,
window, a sample of the ports, and the flag pattern (``SYN-only`` marks a SYN scan). Each IP
raises each kind once per burst (a burst ends after ``slow_window`` of silence), again only when
its severity rises, or its count grew ``escalate_factor``-fold and ``escalate_cooldown`` passed.
Once a stealth scan is raised, the same burst raises no vertical, horizontal or slow alert.
Only probes count (``is_probe``): so the ACK/FIN/RST stragglers of closed connections that host
firewalls log all day, and late UDP answers, are never a scan; single knocks (one or a few ports,
retries, brute force on one port) never reach a threshold.

State: at most ``max_ips`` IPs (least recently active dropped first, and any IP idle longer than
``slow_window``), each holding at most ``max_keys`` ports and hosts per window.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from threatlens.models.verdict import SEVERITY_RANK, Alert
from threatlens.parsers.firewall import FirewallRecord

__all__ = ["KINDS", "PortScanConfig", "PortScanDetector", "flag_pattern", "is_probe"]

#: Alert kinds this detector raises.
KINDS: tuple[str, ...] = ("port_scan_vertical", "port_scan_horizontal", "port_scan_slow", "port_scan_stealth")
_CATEGORIES = ("scanner",)


@dataclass(frozen=True, slots=True)
class PortScanConfig:
    """Thresholds of the port-scan rules (seconds of log time)."""

    fast_window: float = 120.0
    slow_window: float = 7200.0
    vertical_ports: int = 12
    horizontal_hosts: int = 8
    slow_ports: int = 12
    slow_hosts: int = 10
    stealth_ports: int = 3
    escalate_factor: float = 4.0
    escalate_cooldown: float = 600.0
    max_keys: int = 4096


def flag_pattern(flags: str | None) -> str | None:
    """Name a TCP flag set: ``SYN``, ``NULL``, ``FIN``, ``XMAS``, ``odd`` (other probe-only sets), or None.

    ``None`` for non-TCP packets and for anything with ACK or RST (what an established or closing
    connection sends); SYN alone, or with ECE CWR (an ECN setup), is ``SYN``.
    """
    if flags is None:
        return None
    if flags == "SYN":
        return "SYN"
    if flags == "":
        return "NULL"
    if flags == "FIN":
        return "FIN"
    parts = set(flags.split())
    if "ACK" in parts or "RST" in parts:
        return None
    if parts == {"FIN", "PSH", "URG"}:
        return "XMAS"
    if "SYN" in parts:
        return "odd" if parts - {"SYN", "ECE", "CWR"} else "SYN"  # SYN+FIN and friends; an ECN-setup SYN
    return "odd"


def is_probe(rec: FirewallRecord) -> bool:
    """Whether a packet could start a conversation (so may be a scan probe).

    TCP: SYN alone and the stealth patterns (not ACK or RST: the stragglers of closed connections
    that host firewalls log all day). UDP: anything but what looks like a reply from a service port
    (source port below 1024 to a port above it: late DNS or NTP answers). ICMP: echo requests.
    """
    proto = rec.proto
    if proto == "TCP":
        return flag_pattern(rec.tcp_flags) is not None
    if proto == "UDP":
        sport, dport = rec.sport, rec.dport
        return not (sport is not None and dport is not None and sport < 1024 <= dport)
    if proto == "ICMP":
        return rec.icmp_type == 8
    if proto == "ICMPv6":
        return rec.icmp_type == 128
    return False


def _crafted(rec: FirewallRecord) -> bool:
    """A SYN without the TCP options every OS sends (at most MSS): nmap -sS, masscan, zmap."""
    if rec.length is None:
        return False
    return rec.length <= (64 if ":" in rec.src else 44)


class _Window:
    """Distinct keys first seen within the last ``span`` seconds (first-sighting queue, capped)."""

    __slots__ = ("cap", "keys", "queue", "span")

    def __init__(self, span: float, cap: int) -> None:
        self.span = span
        self.cap = cap
        self.keys: dict[object, float] = {}
        self.queue: deque[tuple[float, object]] = deque()

    def add(self, key: object, t: float) -> bool:
        """Record ``key`` at ``t``; True if it is new within the window."""
        self.expire(t)
        if key in self.keys or len(self.keys) >= self.cap:
            return False
        self.keys[key] = t
        self.queue.append((t, key))
        return True

    def expire(self, t: float) -> None:
        limit = t - self.span
        queue, keys = self.queue, self.keys
        while queue and queue[0][0] < limit:
            _t, key = queue.popleft()
            keys.pop(key, None)

    def __len__(self) -> int:
        return len(self.keys)


@dataclass(slots=True)
class _Source:
    """What is kept about one source IP."""

    first_t: float
    last_t: float
    first_time: datetime | None
    first_file: str
    first_line: int
    ports_fast: _Window
    hosts_fast: _Window
    ports_slow: _Window
    hosts_slow: _Window
    stealth: _Window
    packets: int = 0
    syn_only: int = 0
    crafted: int = 0
    tcp: int = 0
    patterns: dict[str, int] = field(default_factory=dict)
    port_hits: dict[int, int] = field(default_factory=dict)
    host_hits: dict[str, int] = field(default_factory=dict)
    raised: dict[str, tuple[str, int, float]] = field(default_factory=dict)  # kind -> (severity, count, t)


class PortScanDetector:
    """Watches firewall records per source IP; ``observe`` returns the alerts a batch raised.

    Records are taken in the order given; a record's time is its wall-clock time, else its kernel
    uptime, else the last time seen. Only packets that arrived on an interface (``IN=`` set) or
    carry no interface at all are considered, so a host's own outgoing traffic is not its scan.
    """

    def __init__(self, config: PortScanConfig | None = None, *, max_ips: int = 100_000) -> None:
        if max_ips < 1:
            raise ValueError("max_ips must be at least 1")
        self.config = config or PortScanConfig()
        self.max_ips = max_ips
        self._sources: OrderedDict[str, _Source] = OrderedDict()
        self._now = 0.0

    def __len__(self) -> int:
        return len(self._sources)

    def observe(self, records: Sequence[FirewallRecord]) -> list[Alert]:
        """Feed a batch; return the new alerts."""
        alerts: list[Alert] = []
        for rec in records:
            if rec.in_iface is None and rec.out_iface is not None:
                continue
            t = rec.seconds
            if t is None:
                t = self._now
            self._now = t
            alert = self._one(rec, t)
            if alert:
                alerts.extend(alert)
        return alerts

    def _source(self, rec: FirewallRecord, t: float) -> _Source:
        sources = self._sources
        src = sources.get(rec.src)
        span = self.config.slow_window
        if src is not None and t - src.last_t > span:
            del sources[rec.src]
            src = None
        if src is None:
            if len(sources) >= self.max_ips:
                self._evict(t)
            cfg = self.config
            cap = cfg.max_keys
            src = _Source(t, t, rec.time, rec.file, rec.line, _Window(cfg.fast_window, cap),
                          _Window(cfg.fast_window, cap), _Window(span, cap), _Window(span, cap), _Window(span, cap))
            sources[rec.src] = src
        else:
            sources.move_to_end(rec.src)
        return src

    def _evict(self, t: float) -> None:
        sources = self._sources
        span = self.config.slow_window
        while sources:
            ip, oldest = next(iter(sources.items()))
            if t - oldest.last_t <= span and len(sources) < self.max_ips:
                break
            del sources[ip]

    def _one(self, rec: FirewallRecord, t: float) -> list[Alert] | None:
        if not is_probe(rec):
            return None
        src = self._source(rec, t)
        src.last_t = t
        src.packets += 1
        pattern = flag_pattern(rec.tcp_flags)
        if pattern is not None:
            src.tcp += 1
            src.patterns[pattern] = src.patterns.get(pattern, 0) + 1
            if pattern == "SYN":
                src.syn_only += 1
                src.crafted += _crafted(rec)
        port = rec.dport
        new_port = new_host = new_stealth = False
        if port is not None:
            new_port = src.ports_fast.add(port, t)
            new_port = src.ports_slow.add(port, t) or new_port
            if pattern is not None and pattern != "SYN":
                new_stealth = src.stealth.add(port, t)
            if len(src.port_hits) < 64 or port in src.port_hits:
                src.port_hits[port] = src.port_hits.get(port, 0) + 1
        new_host = src.hosts_fast.add(rec.dst, t)
        new_host = src.hosts_slow.add(rec.dst, t) or new_host
        if len(src.host_hits) < 64 or rec.dst in src.host_hits:
            src.host_hits[rec.dst] = src.host_hits.get(rec.dst, 0) + 1
        if not (new_port or new_host or new_stealth):
            return None
        return self._check(rec, src)

    def _check(self, rec: FirewallRecord, src: _Source) -> list[Alert] | None:
        cfg = self.config
        out: list[Alert] = []
        if len(src.stealth) >= cfg.stealth_ports:
            self._raise(out, rec, src, "port_scan_stealth", "attack", len(src.stealth), self._stealth_reasons(src))
        if "port_scan_stealth" in src.raised:  # the more specific finding already names this scan
            return out or None
        ports_fast, hosts_fast = len(src.ports_fast), len(src.hosts_fast)
        fast = False
        if ports_fast >= cfg.vertical_ports:
            fast = True
            sev = "attack" if ports_fast >= 2 * cfg.vertical_ports else "suspicious"
            self._raise(out, rec, src, "port_scan_vertical", sev, ports_fast, self._vertical_reasons(src))
        elif hosts_fast >= cfg.horizontal_hosts:
            fast = True
            sev = "attack" if hosts_fast >= 2 * cfg.horizontal_hosts else "suspicious"
            self._raise(out, rec, src, "port_scan_horizontal", sev, hosts_fast, self._horizontal_reasons(src))
        spread = src.last_t - src.first_t >= cfg.fast_window  # paced slower than a fast scan
        if spread and not fast and "port_scan_vertical" not in src.raised and "port_scan_horizontal" not in src.raised:
            ports_slow, hosts_slow = len(src.ports_slow), len(src.hosts_slow)
            if ports_slow >= cfg.slow_ports or hosts_slow >= cfg.slow_hosts:
                self._raise(out, rec, src, "port_scan_slow", "suspicious", max(ports_slow, hosts_slow),
                            self._slow_reasons(src))
        return out or None

    def footprint(self, ip: str) -> tuple[int, int, float] | None:
        """``(ports, hosts, seconds)`` probed by ``ip`` in its current burst, or None if it is not held."""
        src = self._sources.get(ip)
        if src is None:
            return None
        return len(src.ports_slow), len(src.hosts_slow), src.last_t - src.first_t

    def _raise(self, out: list[Alert], rec: FirewallRecord, src: _Source, kind: str, severity: str, count: int,
               reasons: tuple[str, ...]) -> None:
        before = src.raised.get(kind)
        if before is not None:
            old_sev, old_count, old_t = before
            cfg = self.config
            grew = count >= old_count * cfg.escalate_factor and src.last_t - old_t >= cfg.escalate_cooldown
            if SEVERITY_RANK[severity] <= SEVERITY_RANK[old_sev] and not grew:
                return
        src.raised[kind] = (severity, count, src.last_t)
        score = 0.95 if severity == "attack" else 0.7
        out.append(Alert(
            ip=rec.src, kind=kind, file=src.first_file if src.first_file == rec.file else rec.file,
            first_line=src.first_line if src.first_file == rec.file else rec.line, last_line=rec.line,
            events=count, score=score, reasons=reasons, categories=_CATEGORIES, first_time=src.first_time,
            last_time=rec.time, severity=severity))

    # -- evidence --------------------------------------------------------------------------------

    def _span(self, src: _Source) -> str:
        seconds = max(0.0, src.last_t - src.first_t)
        if seconds < 10:
            return f"{seconds:.1f} s"
        return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"

    def _flags(self, src: _Source) -> tuple[str, ...]:
        if src.tcp and src.syn_only == src.tcp:
            if src.crafted * 10 >= src.tcp * 9:
                return (f"SYN scan: {src.tcp} SYN-only probes without TCP options (nmap -sS, masscan, zmap)",)
            return (f"SYN-only probes ({src.tcp}): a connect or SYN scan",)
        odd = {k: v for k, v in src.patterns.items() if k != "SYN"}
        if odd:
            return (", ".join(f"{k} {v}" for k, v in sorted(odd.items(), key=lambda kv: -kv[1])) + " probes",)
        return ()

    @staticmethod
    def _port_sample(src: _Source) -> str:
        ports = sorted(src.port_hits)
        text = ",".join(map(str, ports[:20]))
        return f"ports {text}{',…' if len(ports) > 20 or len(src.ports_slow) > len(ports) else ''}"

    def _vertical_reasons(self, src: _Source) -> tuple[str, ...]:
        hosts = len(src.hosts_fast)
        where = next(iter(src.host_hits)) if hosts == 1 else f"{hosts} hosts"
        return (f"vertical scan: {len(src.ports_fast)} ports on {where} within {self._span(src)}",
                self._port_sample(src), *self._flags(src))

    def _horizontal_reasons(self, src: _Source) -> tuple[str, ...]:
        top = max(src.port_hits.items(), key=lambda kv: kv[1])[0] if src.port_hits else None
        what = f"port {top}" if top is not None and len(src.ports_fast) <= 3 else f"{len(src.ports_fast)} ports"
        return (f"horizontal sweep: {what} on {len(src.hosts_fast)} addresses within {self._span(src)}",
                self._port_sample(src), *self._flags(src))

    def _slow_reasons(self, src: _Source) -> tuple[str, ...]:
        hosts = len(src.hosts_slow)
        return (f"slow scan: {len(src.ports_slow)} ports on {hosts} host{'s' if hosts != 1 else ''} over "
                f"{self._span(src)} "
                f"({src.packets} packets)", self._port_sample(src), *self._flags(src))

    def _stealth_reasons(self, src: _Source) -> tuple[str, ...]:
        return (f"stealth scan: flag patterns no TCP stack sends, on {len(src.stealth)} ports within "
                f"{self._span(src)}", self._port_sample(src), *self._flags(src))

