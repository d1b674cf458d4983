"""Allowlist: clients and requests the user trusts (monitoring probes, own offices, health checks).

Entries, one per string:

* ``1.2.3.4`` or ``2001:db8::1``: one client address;
* ``10.0.0.0/8`` or ``2001:db8::/32``: a network;
* ``path:/health*``: request paths matching a shell-style glob (``*``, ``?``, ``[...]``);
* ``agent:*UptimeRobot*``: user agents matching a glob (case-insensitive).

Anything else is refused with an ``AllowlistError`` that names the entry.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from fnmatch import translate

from threatlens.errors import AllowlistError
from threatlens.parsers.record import LogRecord

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_CACHE_MAX = 100_000


class Allowlist:
    """A set of allowlist entries; ``matches(record)`` says whether a request is trusted."""

    def __init__(self) -> None:
        self._entries: dict[str, None] = {}
        self._ips: set[str] = set()
        self._networks: list[_Network] = []
        self._paths: list[tuple[str, re.Pattern[str]]] = []
        self._agents: list[tuple[str, re.Pattern[str]]] = []
        self._ip_cache: dict[str, bool] = {}

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
                addr = ipaddress.ip_address(ip.strip("[]"))
            except ValueError:
                hit = False
            else:
                hit = str(addr) in self._ips or any(addr in net for net in self._networks)
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
                net = ipaddress.ip_network(text, strict=False)
            except ValueError:
                raise AllowlistError(f"allowlist entry {entry!r} is not an address, network, "
                                 "path:GLOB or agent:GLOB") from None
            return str(net), "net", str(net)
        try:
            addr = ipaddress.ip_address(text)
        except ValueError:
            raise AllowlistError(f"allowlist entry {entry!r} is not an address, network, "
                             "path:GLOB or agent:GLOB") from None
        return str(addr), "ip", str(addr)
