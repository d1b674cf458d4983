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

Entries are read in one pass over integers: a plain dotted quad or a plain IPv6 address, with or
without ``/PREFIX``, is parsed without building :mod:`ipaddress` objects (a 100,000-entry allowlist
loads in a fraction of a second, see ``bench/allowlist.py``); every other form (brackets, zone
indexes, IPv4-mapped or -compatible IPv6, anything odd) goes through :func:`parse_network` and
:func:`~threatlens.parsers.fields.parse_address`, which decide what is valid.

Anything else is refused with an ``AllowlistError`` that names the entry.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from bisect import bisect_right
from collections.abc import Iterable
from fnmatch import translate

from threatlens.errors import AllowlistError
from threatlens.parsers.fields import parse_address
from threatlens.parsers.record import LogRecord

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: A network entry: (address family 4 or 6, first address, last address) as integers.
Span = tuple[int, int, int]
_CACHE_MAX = 100_000
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_PTON, _NTOP, _AF4, _AF6 = socket.inet_pton, socket.inet_ntop, socket.AF_INET, socket.AF_INET6
_V4_ALL = (1 << 32) - 1
_V6_ALL = (1 << 128) - 1


class _Ranges:
    """Disjoint, sorted ``[first, last]`` integer ranges of one address family."""

    __slots__ = ("firsts", "lasts")

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        firsts: list[int] = []
        lasts: list[int] = []
        for first, last in sorted(spans):
            if lasts and first <= lasts[-1] + 1:
                if last > lasts[-1]:
                    lasts[-1] = last
            else:
                firsts.append(first)
                lasts.append(last)
        self.firsts = firsts
        self.lasts = lasts

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


def _fast_entry(text: str) -> tuple[str, str, str | Span] | None:
    """(key, kind, value) of a plain address or network, read as integers; ``None``: not a plain form.

    The C parser and printer of the socket module read and write the plain forms exactly as
    :mod:`ipaddress` does (strict dotted quads, RFC 5952 text for IPv6); IPv4-compatible and -mapped
    IPv6 (and ``::``, ``::1``), zone indexes, brackets, odd prefixes and every error are left to the
    general path.
    """
    host, slash, prefix = text.partition("/")
    bits = -1
    if slash:
        if not (prefix.isascii() and prefix.isdigit()) or (prefix[0] == "0" and len(prefix) > 1):
            return None
        bits = int(prefix)
    if ":" in host:
        if "." in host or "%" in host or "[" in host or bits > 128:
            return None
        try:
            packed = _PTON(_AF6, host)
        except OSError:
            return None
        value = int.from_bytes(packed, "big")
        if value >> 32 in (0, 0xFFFF):
            return None
        if bits < 0:
            key = _NTOP(_AF6, packed)
            return key, "ip", key
        rest = _V6_ALL >> bits
        first = value & (_V6_ALL ^ rest)
        if first != value:
            packed = first.to_bytes(16, "big")
        return f"{_NTOP(_AF6, packed)}/{bits}", "net", (6, first, first | rest)
    if bits > 32:
        return None
    try:
        packed = _PTON(_AF4, host)
    except OSError:
        return None
    if bits < 0:
        return host, "ip", host
    value = int.from_bytes(packed, "big")
    rest = _V4_ALL >> bits
    first = value & (_V4_ALL ^ rest)
    key = text if first == value else f"{_NTOP(_AF4, first.to_bytes(4, 'big'))}/{bits}"  # a strict quad is its text
    return key, "net", (4, first, first | rest)


def normalise_entry(entry: str) -> tuple[str, str, str | Span]:
    """(canonical text, kind, value) of one entry; kind is ``ip``, ``net``, ``path`` or ``agent``.

    ``value`` is the address text for ``ip``, the :data:`Span` for ``net`` and the glob for the others.
    Raises :class:`~threatlens.errors.AllowlistError` naming the entry.
    """
    text = entry.strip()
    for prefix in ("path:", "agent:"):
        if text.startswith(prefix):
            pattern = text[len(prefix):]
            if not pattern:
                raise AllowlistError(f"allowlist entry {entry!r}: empty {prefix[:-1]} pattern")
            return text, prefix[:-1], pattern
    fast = _fast_entry(text)
    if fast is not None:
        return fast
    try:
        if "/" in text:
            net = parse_network(text)
            return str(net), "net", (net.version, int(net.network_address), int(net.broadcast_address))
        addr = parse_address(text)
    except ValueError:
        raise AllowlistError(f"allowlist entry {entry!r} is not an address, network, "
                             "path:GLOB or agent:GLOB") from None
    return str(addr), "ip", str(addr)


class Allowlist:
    """A set of allowlist entries; ``matches(record)`` says whether a request is trusted."""

    def __init__(self) -> None:
        self._entries: dict[str, None] = {}
        self._ips: set[str] = set()
        self._networks: dict[str, Span] = {}
        self._paths: list[tuple[str, re.Pattern[str]]] = []
        self._agents: list[tuple[str, re.Pattern[str]]] = []
        self._ip_cache: dict[str, bool] = {}
        self._ranges: dict[int, _Ranges] | None = None

    @classmethod
    def parse(cls, entries: Iterable[str], *, built: Allowlist | None = None) -> Allowlist:
        """Build an allowlist from entry strings (blank lines and lines starting with ``#`` are skipped).

        ``built``: an allowlist already made of these entries (the one :meth:`threatlens.config.Config.load`
        builds as it checks them); when its entries are exactly ``entries``, a copy of it is returned
        instead of reading them all again.
        """
        if built is not None:
            entries = entries if isinstance(entries, list) else list(entries)
            if entries == built.entries:
                return built.copy()
        allow = cls()
        add = allow.add
        seen = allow._entries
        ips = allow._ips
        networks = allow._networks
        for entry in entries:
            text = entry.strip()
            if not text or text[0] == "#":
                continue
            fast = _fast_entry(text)  # the common case in one step; add() does the rest
            if fast is None:
                add(text)
            elif fast[0] not in seen:
                key, kind, value = fast
                if kind == "ip":
                    ips.add(key)
                else:
                    networks[key] = value  # type: ignore[assignment]
                seen[key] = None
        return allow

    def copy(self) -> Allowlist:
        """An allowlist with the same entries that changes on its own."""
        other = Allowlist()
        other._entries = dict(self._entries)
        other._ips = set(self._ips)
        other._networks = dict(self._networks)
        other._paths = list(self._paths)
        other._agents = list(self._agents)
        other._ranges = self._ranges  # replaced, never changed, when entries change
        return other

    @property
    def entries(self) -> list[str]:
        """The entries in the order they were added (normalised)."""
        return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __bool__(self) -> bool:
        return bool(self._entries)

    def add(self, entry: str) -> None:
        """Add one entry; raise ``AllowlistError`` if it is not a valid address, network or pattern."""
        key, kind, value = normalise_entry(entry)
        if key in self._entries:
            return
        if kind == "ip":
            self._ips.add(key)
        elif kind == "net":
            self._networks[key] = value  # type: ignore[assignment]
        elif kind == "path":
            self._paths.append((key, re.compile(translate(value))))  # type: ignore[arg-type]
        else:
            self._agents.append((key, re.compile(translate(value), re.IGNORECASE)))  # type: ignore[arg-type]
        self._entries[key] = None
        if self._ip_cache:
            self._ip_cache.clear()
        self._ranges = None

    def remove(self, entry: str) -> None:
        """Remove one entry (as given to ``add``); raise ``KeyError`` if it is not present."""
        key, kind, _ = normalise_entry(entry)
        if key not in self._entries:
            raise KeyError(entry)
        del self._entries[key]
        if kind == "ip":
            self._ips.discard(key)
        elif kind == "net":
            del self._networks[key]
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
                    ranges = self._ranges = {
                        v: _Ranges((first, last) for version, first, last in self._networks.values() if version == v)
                        for v in (4, 6)}
                hit = str(addr) in self._ips or int(addr) in ranges[addr.version]
            if len(self._ip_cache) >= _CACHE_MAX:
                self._ip_cache.clear()
            self._ip_cache[ip] = hit
        return hit
