"""Aggregates of firewall records: the ports panel and each source IP's packet timeline.

Ports are counted exactly (one slot per TCP and UDP port: a few MB of numpy arrays): packets,
blocked and allowed, and distinct sources (exact up to 64 per port, then a HyperLogLog estimate,
about 1.6% error). Per source IP the latest ``ips`` active sources are kept (least recently seen
dropped first), each with its totals, its ports and its latest ``per_ip`` packets.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import numpy as np

from threatlens.parsers.firewall import FirewallRecord
from threatlens.stats.distinct import DistinctCounters
from threatlens.stats.rates import per_minute
from threatlens.stats.services import service_name

__all__ = ["FirewallIpSummary", "FirewallPortRow", "FirewallStats"]

_PROTO_BASE = {"TCP": 0, "UDP": 65536}
_KEYS = 2 * 65536
_MAX_PORTS_PER_IP = 256


class FirewallPortRow(NamedTuple):
    """A destination port: packets, distinct sources (``sources_exact`` False: an estimate), actions."""

    port: int
    proto: str
    service: str
    packets: int
    sources: int
    sources_exact: bool
    blocked: int
    allowed: int


@dataclass(frozen=True)
class FirewallIpSummary:
    """One source IP as the firewall saw it: totals, ports (most packets first), latest packets."""

    ip: str
    packets: int
    blocked: int
    allowed: int
    first_seen: datetime | None
    last_seen: datetime | None
    distinct_ports: int
    ports: list[tuple[int, str, int]]
    recent: list[FirewallRecord]
    per_minute: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _Source:
    packets: int = 0
    blocked: int = 0
    allowed: int = 0
    first: datetime | None = None
    last: datetime | None = None
    ports: dict[tuple[int, str], int] = field(default_factory=dict)
    recent: deque[FirewallRecord] = field(default_factory=deque)


class FirewallStats:
    """Counts firewall records; ``top_ports`` and ``ip_summary`` answer at any moment."""

    def __init__(self, *, ips: int = 5000, per_ip: int = 100) -> None:
        self.packets = self.blocked = self.allowed = 0
        self.ips_max = ips
        self.per_ip = per_ip
        self._hits = np.zeros(_KEYS, dtype=np.int64)
        self._blocked = np.zeros(_KEYS, dtype=np.int64)
        self._allowed = np.zeros(_KEYS, dtype=np.int64)
        self._sources = DistinctCounters(max_keys=_KEYS)
        self._ips: OrderedDict[str, _Source] = OrderedDict()

    def update(self, packets: Sequence[FirewallRecord]) -> None:
        """Count a batch of records."""
        if not packets:
            return
        self.packets += len(packets)
        keys: list[int] = []
        srcs: list[str] = []
        blocked: list[int] = []
        allowed: list[int] = []
        for rec in packets:
            action = rec.action
            if action == "block":
                self.blocked += 1
            elif action == "allow":
                self.allowed += 1
            base = _PROTO_BASE.get(rec.proto or "")
            if base is not None and rec.dport is not None:
                key = base + rec.dport
                keys.append(key)
                srcs.append(rec.src)
                if action == "block":
                    blocked.append(key)
                elif action == "allow":
                    allowed.append(key)
            self._per_ip(rec)
        if keys:
            np.add.at(self._hits, keys, 1)
            if blocked:
                np.add.at(self._blocked, blocked, 1)
            if allowed:
                np.add.at(self._allowed, allowed, 1)
            self._sources.update_pairs(keys, srcs)

    def _per_ip(self, rec: FirewallRecord) -> None:
        table = self._ips
        src = table.get(rec.src)
        if src is None:
            if len(table) >= self.ips_max:
                table.popitem(last=False)
            src = table[rec.src] = _Source(recent=deque(maxlen=self.per_ip))
        else:
            table.move_to_end(rec.src)
        src.packets += 1
        if rec.action == "block":
            src.blocked += 1
        elif rec.action == "allow":
            src.allowed += 1
        if rec.time is not None:
            if src.first is None:
                src.first = rec.time
            src.last = rec.time
        if rec.dport is not None:
            key = (rec.dport, (rec.proto or "").lower())
            if key in src.ports or len(src.ports) < _MAX_PORTS_PER_IP:
                src.ports[key] = src.ports.get(key, 0) + 1
        src.recent.append(rec)

    @property
    def seen(self) -> bool:
        """Whether any firewall record was counted."""
        return self.packets > 0

    def top_ports(self, n: int = 10) -> list[FirewallPortRow]:
        """Destination ports with the most packets (ties: lower port first)."""
        hits = self._hits
        present = np.flatnonzero(hits)
        if not len(present) or n <= 0:
            return []
        order = present[np.lexsort((present, -hits[present]))][:n]
        rows = []
        for key in order.tolist():
            port, proto = (key, "tcp") if key < 65536 else (key - 65536, "udp")
            rows.append(FirewallPortRow(port, proto, service_name(port), int(hits[key]), self._sources.count(key),
                                        self._sources.exact(key), int(self._blocked[key]), int(self._allowed[key])))
        return rows

    def ip_summary(self, ip: str) -> FirewallIpSummary | None:
        """What the firewall saw of ``ip`` (``None`` if it is not, or no longer, held)."""
        src = self._ips.get(ip)
        if src is None:
            return None
        ports = sorted(((p, proto, c) for (p, proto), c in src.ports.items()), key=lambda x: (-x[2], x[0]))
        recent = list(reversed(src.recent))
        return FirewallIpSummary(ip, src.packets, src.blocked, src.allowed, src.first, src.last, len(src.ports),
                                 ports, recent, per_minute(r.seconds for r in src.recent))

