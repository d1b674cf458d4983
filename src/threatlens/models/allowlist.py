"""Allowlist: clients and requests the user trusts (monitoring probes, own offices, health checks).

Entries, one per string:

* ``1.2.3.4`` or ``2001:db8::1``: one client address;
* ``10.0.0.0/8`` or ``2001:db8::/32``: a network;
* ``path:/health*``: request paths matching a shell-style glob (``*``, ``?``, ``[...]``);
* ``agent:*UptimeRobot*``: user agents matching a glob (case-insensitive).

Addresses on both sides are compared in one form (:func:`threatlens.parsers.fields.parse_address`):
``::ffff:1.2.3.4`` is ``1.2.3.4`` and an IPv6 zone index is dropped (``fe80::1%eth0`` is
``fe80::1``, on any interface). Networks are kept as merged, sorted integer ranges per
address family, so a lookup is one binary search however many there are.

Anything else is refused with an ``AllowlistError`` that names the entry.
"""

from __future__ import annotations

import ipaddress
import re
from bisect import bisect_right
from collections.abc import Iterable
from fnmatch import translate

from threatlens.errors import AllowlistError
from threatlens.parsers.fields import parse_address
from threatlens.parsers.record import LogRecord

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_CACHE_MAX = 100_000
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


class _Ranges:
    """Disjoint, sorted ``[first, last]`` integer ranges of one address family."""

    __slots__ = ("firsts", "lasts")

    def __init__(self, networks: Iterable[_Network]) -> None:
        merged: list[list[int]] = []
        for first, last in sorted((int(n.network_address), int(n.broadcast_address)) for n in networks):
            if merged and first <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        self.firsts = [r[0] for r in merged]
        self.lasts = [r[1] for r in merged]

    def __contains__(self, value: int) -> bool:
        i = bisect_right(self.firsts, value) - 1
        return i >= 0 and value <= self.lasts[i]


def parse_network(text: str) -> _Network:
    """``ADDRESS/PREFIX`` with the address read as :func:`parse_address` does (host bits cleared).

    ``::ffff:1.2.3.0/120`` is ``1.2.3.0/24``; a zone index before the ``/`` is dropped.
    Raises ``ValueError``.
    """
    host, _, prefix = text.partition("/")
    if not prefix.isascii() or not prefix.isdigit():
        raise ValueError(f"not a network: {text!r}")
    bits = int(prefix)
    candidate = host.partition("%")[0] if ":" in host else host
    net = ipaddress.ip_network(f"{candidate}/{bits}", strict=False)
    if isinstance(net, ipaddress.IPv6Network) and bits >= 96 and net.subnet_of(_MAPPED):
        return ipaddress.IPv4Network((int(net.network_address) & 0xFFFFFFFF, bits - 96))
    parse_address(host)  # the same refusals as a single address (``1.2.3.0%x/24``)
    return net


class Allowlist:
    """A set of allowlist entries; ``matches(record)`` says whether a request is trusted."""

    def __init__(self) -> None:
        self._entries: dict[str, None] = {}
        self._ips: set[str] = set()
        self._networks: list[_Network] = []
        self._paths: list[tuple[str, re.Pattern[str]]] = []
        self._agents: list[tuple[str, re.Pattern[str]]] = []
        self._ip_cache: dict[str, bool] = {}
        self._ranges: dict[int, _Ranges] | None = None

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Allowlist:
        """Build an allowlist from entry strings (blank lines and lines starting with ``#`` are skipped)."""
        allow = cls()
        for entry in entries:
            text = entry.strip()
            if text and not text.startswith("#"):
                allow.add(text)
        return allow

    @property
    def entries(self) -> list[str]:
        """The entries in the order they were added (normalised)."""
        return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __bool__(self) -> bool:
        return bool(self._entries)

    def add(self, entry: str) -> None:
        """Add one entry; raise ``ValueError`` if it is not a valid address, network or pattern."""
        key, kind, value = self._normalise(entry)
        if key in self._entries:
            return
        if kind == "ip":
            self._ips.add(value)
        elif kind == "net":
            self._networks.append(ipaddress.ip_network(value))
        elif kind == "path":
            self._paths.append((key, re.compile(translate(value))))
        else:
            self._agents.append((key, re.compile(translate(value), re.IGNORECASE)))
        self._entries[key] = None
        self._ip_cache.clear()
        self._ranges = None

    def remove(self, entry: str) -> None:
        """Remove one entry (as given to ``add``); raise ``KeyError`` if it is not present."""
        key, kind, value = self._normalise(entry)
        if key not in self._entries:
            raise KeyError(entry)
        del self._entries[key]
        if kind == "ip":
            self._ips.discard(value)
        elif kind == "net":
            self._networks.remove(ipaddress.ip_network(value))
        elif kind == "path":
            self._paths = [p for p in self._paths if p[0] != key]
        else:
            self._agents = [a for a in self._agents if a[0] != key]
        self._ip_cache.clear()
        self._ranges = None

    def matches(self, record: LogRecord) -> bool:
        """True when the record's client, path or agent is allowlisted."""
        ip = record.ip
        if ip is not None and (self._ips or self._networks) and self.matches_ip(ip):
            return True
        if self._paths and record.path is not None:
            path = record.path
            if any(p.match(path) for _, p in self._paths):
                return True
        if self._agents and record.user_agent is not None:
            agent = record.user_agent
            if any(a.match(agent) for _, a in self._agents):
                return True
        return False

    def matches_ip(self, ip: str) -> bool:
        """True when the address itself (or a network containing it) is allowlisted."""
        if ip in self._ips:
            return True
        hit = self._ip_cache.get(ip)
        if hit is None:
            try:
                addr = parse_address(ip)
            except ValueError:
                hit = False
            else:
                ranges = self._ranges
                if ranges is None:
                    ranges = self._ranges = {v: _Ranges(n for n in self._networks if n.version == v) for v in (4, 6)}
                hit = str(addr) in self._ips or int(addr) in ranges[addr.version]
            if len(self._ip_cache) >= _CACHE_MAX:
                self._ip_cache.clear()
            self._ip_cache[ip] = hit
        return hit

    @staticmethod
    def _normalise(entry: str) -> tuple[str, str, str]:
        text = entry.strip()
        for prefix in ("path:", "agent:"):
            if text.startswith(prefix):
                pattern = text[len(prefix):]
                if not pattern:
                    raise AllowlistError(f"allowlist entry {entry!r}: empty {prefix[:-1]} pattern")
                return text, prefix[:-1], pattern
        if "/" in text:
            try:
                net = parse_network(text)
            except ValueError:
                raise AllowlistError(f"allowlist entry {entry!r} is not an address, network, "
                                 "path:GLOB or agent:GLOB") from None
            return str(net), "net", str(net)
        try:
            addr = parse_address(text)
        except ValueError:
            raise AllowlistError(f"allowlist entry {entry!r} is not an address, network, "
                             "path:GLOB or agent:GLOB") from None
        return str(addr), "ip", str(addr)
