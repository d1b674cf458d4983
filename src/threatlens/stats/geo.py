"""Offline IP → country lookup: a MaxMind-format database when present, else embedded ``iptocc``.

``GeoLookup.open()`` picks the source, in this order:

1. the explicit ``db_path`` (``--geoip-db``);
2. the ``THREATLENS_GEOIP_DB`` environment variable;
3. the standard places (``DEFAULT_DIRS``), the first file matching ``DB_PATTERNS`` (country
   editions before city editions, commercial before free);
4. the embedded ``iptocc`` data (RIR delegation files, IPv4 and IPv6, no file, no network).

A missing, unreadable or corrupt database gives a warning (``on_warning``, default the
``threatlens.stats.geo`` logger; also kept in ``GeoLookup.warnings``) and the next choice; an
explicit path or the environment variable that fails falls back to the embedded data directly.

Addresses that are not public are labelled, never looked up:

* ``"private"``: where your own clients can legitimately come from: RFC 1918 (10/8, 172.16/12,
  192.168/16), CGNAT shared space (100.64/10), loopback (127/8, ::1), link-local (169.254/16,
  fe80::/10), IPv6 unique-local (fc00::/7);
* ``"reserved"``: everything else IANA sets apart, which no real client should have: "this network"
  (0/8), IETF protocol assignments (192.0.0/24), documentation (192.0.2/24, 198.51.100/24,
  203.0.113/24, 2001:db8::/32), benchmarking (198.18/15), 6to4 relay anycast (192.88.99/24),
  multicast (224/4, ff00::/8), future use and broadcast (240/4), the unspecified address (::),
  discard-only (100::/64), IETF IPv6 assignments (2001::/23, including Teredo).

IPv4 addresses wrapped in IPv6 (IPv4-mapped ``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4
``2002::/16``) are looked up by their IPv4 address. Results are memoised in a bounded LRU cache.
"""

from __future__ import annotations

import glob
import ipaddress
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from threatlens.stats.countries import country_label, country_name

__all__ = [
    "DB_PATTERNS",
    "DEFAULT_DIRS",
    "EMBEDDED_SOURCE",
    "ENV_VAR",
    "GeoLookup",
    "classify_special",
    "country_label",
    "country_name",
    "find_databases",
]

log = logging.getLogger(__name__)

ENV_VAR = "THREATLENS_GEOIP_DB"
DEFAULT_DIRS: tuple[str, ...] = ("/usr/share/GeoIP", "/var/lib/GeoIP", "/usr/local/share/GeoIP")
#: File name patterns tried in each directory, best first.
DB_PATTERNS: tuple[str, ...] = (
    "GeoIP2-Country.mmdb",
    "GeoLite2-Country.mmdb",
    "dbip-country-lite*.mmdb",
    "dbip-country*.mmdb",
    "GeoIP2-City.mmdb",
    "GeoLite2-City.mmdb",
    "dbip-city-lite*.mmdb",
    "dbip-city*.mmdb",
)
EMBEDDED_SOURCE = "iptocc (embedded)"
DEFAULT_CACHE_SIZE = 1 << 16

_N = ipaddress.ip_network
_PRIVATE_NETS = tuple(
    _N(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "::1/128",
        "fe80::/10",
        "fc00::/7",
    )
)
_RESERVED_NETS = tuple(
    _N(n)
    for n in (
        "0.0.0.0/8",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "ff00::/8",
    )
)
_NAT64 = _N("64:ff9b::/96")
_SIXTOFOUR = _N("2002::/16")
#: First octets of IPv4 addresses that may be special: anything else skips the slow check.
_V4_SPECIAL_FIRST = frozenset(
    ["0", "10", "100", "127", "169", "172", "192", "198", "203"] + [str(i) for i in range(224, 256)]
)


def _parse(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(ip.partition("%")[0])
    except ValueError:
        return None


def _unwrap(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address embedded in an IPv6 one (mapped, NAT64, 6to4), if any."""
    if addr.version != 6:
        return None
    assert isinstance(addr, ipaddress.IPv6Address)
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr in _NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    if addr in _SIXTOFOUR:
        return addr.sixtofour
    return None


def classify_special(ip: str) -> str | None:
    """``"private"``, ``"reserved"``, or None for a public (or unparseable) address."""
    addr = _parse(ip)
    if addr is None:
        return None
    inner = _unwrap(addr)
    if inner is not None:
        addr = inner
    for net in _PRIVATE_NETS:
        if addr.version == net.version and addr in net:
            return "private"
    for net in _RESERVED_NETS:
        if addr.version == net.version and addr in net:
            return "reserved"
    return None


def _country_from_record(rec: Any) -> str | None:
    """The ISO code in a MaxMind/DB-IP/ipinfo-style record, or None."""
    if not isinstance(rec, Mapping):
        return None
    for key in ("country", "registered_country", "represented_country"):
        val = rec.get(key)
        if isinstance(val, Mapping):
            code = val.get("iso_code")
            if isinstance(code, str) and code:
                return code.upper()
        elif isinstance(val, str) and len(val) == 2:
            return val.upper()
    code = rec.get("country_code")
    if isinstance(code, str) and code:
        return code.upper()
    return None


class GeoLookup:
    """Country of an IP address from one source; build with ``GeoLookup.open()``.

    Attributes:
        source: human description of the active source, e.g. ``"iptocc (embedded)"`` or
            ``"maxmind: /usr/share/GeoIP/GeoLite2-Country.mmdb"``.
        warnings: the warnings given while choosing the source (or later, on a failing database).
        country: ``country(ip) -> str | None``: the ISO 3166-1 alpha-2 code, ``"private"`` or
            ``"reserved"`` (see the module docstring), or None when unknown or unparseable.
            Memoised (bounded LRU, ``cache_size`` addresses); ``cache_info()`` reports hits.
    """

    country: Callable[[str | None], str | None]

    def __init__(
        self,
        *,
        reader: Any = None,
        path: str | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self._on_warning = on_warning
        self.warnings: list[str] = []
        import iptocc

        self._embedded = iptocc.country_code
        self._reader = reader
        self._v6_embedded = False
        if reader is not None:
            self.source = f"maxmind: {path}"
            if getattr(reader.metadata(), "ip_version", 6) == 4:
                self._v6_embedded = True
                self.source += " (IPv6 via iptocc)"
        else:
            self.source = EMBEDDED_SOURCE
        self.country = lru_cache(maxsize=cache_size)(self._lookup)

    # -- choosing the source -------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        db_path: str | os.PathLike[str] | None = None,
        *,
        env: Mapping[str, str] = os.environ,
        search_dirs: Iterable[str] = DEFAULT_DIRS,
        on_warning: Callable[[str], None] | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> GeoLookup:
        """The best available source (see the module docstring); never raises for a bad database."""
        pending: list[str] = []
        explicit: list[tuple[str, str]] = []
        if db_path is not None and str(db_path):
            explicit.append((os.fspath(db_path), "--geoip-db"))
        elif env.get(ENV_VAR):
            explicit.append((env[ENV_VAR], ENV_VAR))
        candidates = explicit or [(p, "standard place") for p in find_databases(search_dirs)]
        for path, origin in candidates:
            reader, problem = _open_reader(path)
            if reader is not None:
                geo = cls(reader=reader, path=path, cache_size=cache_size, on_warning=on_warning)
                for msg in pending:
                    geo._warn(msg)
                return geo
            pending.append(f"GeoIP database {path} ({origin}) {problem}")
        geo = cls(cache_size=cache_size, on_warning=on_warning)
        for msg in pending:
            geo._warn(f"{msg}; using {geo.source}")
        return geo

    def _warn(self, msg: str) -> None:
        self.warnings.append(msg)
        if self._on_warning is not None:
            self._on_warning(msg)
        else:
            log.warning("%s", msg)

    # -- lookups -------------------------------------------------------------------------------

    def _lookup(self, ip: str | None) -> str | None:
        if not ip:
            return None
        if ":" in ip or ip.partition(".")[0] in _V4_SPECIAL_FIRST:
            special = classify_special(ip)
            if special is not None:
                return special
            addr = _parse(ip)
            if addr is None:
                return None
            inner = _unwrap(addr)
            ip = str(inner if inner is not None else addr)
        reader = self._reader
        if reader is not None and not (self._v6_embedded and ":" in ip):
            try:
                return _country_from_record(reader.get(ip))
            except ValueError:  # not an address, or IPv6 in an IPv4-only database
                return None
            except Exception as exc:  # InvalidDatabaseError and friends: corrupt data section
                self._warn(f"GeoIP database failed on lookup ({exc}); switching to {EMBEDDED_SOURCE}")
                self._drop_reader()
        return self._embedded(ip)

    def countries(self, ips: Sequence[str | None]) -> list[str | None]:
        """``country()`` of many addresses at once (one native call for the embedded data).

        The embedded data has no entry for any private or reserved range (a test checks), so it
        is asked first about every address, as fast as a cache hit, and only the addresses it does
        not know go through ``country()`` to be labelled (or unwrapped, for IPv4 in IPv6).
        """
        embedded = self._embedded
        country = self.country
        if self._reader is not None:
            return [country(ip) for ip in ips]
        out: list[str | None] = embedded([ip or "" for ip in ips])
        for i in [i for i, cc in enumerate(out) if cc is None]:
            out[i] = country(ips[i])
        return out

    def _drop_reader(self) -> None:
        reader, self._reader = self._reader, None
        self.source = EMBEDDED_SOURCE
        self.country.cache_clear()  # type: ignore[attr-defined]  # no answers from two sources
        try:
            reader.close()
        except Exception:  # pragma: no cover - best effort
            log.debug("closing GeoIP reader failed", exc_info=True)

    def country_name(self, code: str | None) -> str:
        """Display name of a code this lookup returned (see ``countries.country_name``)."""
        return country_name(code)

    def label(self, ip: str | None) -> str:
        """``"DE Germany"``-style label for an address."""
        return country_label(self.country(ip))

    def cache_info(self) -> Any:
        """Hits, misses and size of the lookup cache."""
        return self.country.cache_info()  # type: ignore[attr-defined]

    def close(self) -> None:
        """Release the database file, if any (lookups then use the embedded data)."""
        if self._reader is not None:
            self._drop_reader()

    def __repr__(self) -> str:
        return f"GeoLookup(source={self.source!r})"


def find_databases(search_dirs: Iterable[str] = DEFAULT_DIRS) -> list[str]:
    """Database files in the standard places, best first."""
    found: list[str] = []
    for directory in search_dirs:
        for pattern in DB_PATTERNS:
            for path in sorted(glob.glob(os.path.join(glob.escape(directory), pattern)), reverse=True):
                if path not in found and os.path.isfile(path):
                    found.append(path)
    return found


def _open_reader(path: str) -> tuple[Any, str]:
    """``(reader, "")`` or ``(None, why not)``."""
    if not os.path.exists(path):
        return None, "does not exist"
    if not os.path.isfile(path):
        return None, "is not a file"
    import maxminddb

    try:
        reader = maxminddb.open_database(path)
    except Exception as exc:  # InvalidDatabaseError, OSError, ValueError, ...
        return None, f"cannot be read ({exc.__class__.__name__}: {exc})"
    try:
        dbtype = str(reader.metadata().database_type)
        if not any(word in dbtype.lower() for word in ("country", "city")):
            reader.close()
            return None, f"is a {dbtype!r} database, not a country or city database"
        reader.get("8.8.8.8")  # touch the data section so a truncated file fails here
    except Exception as exc:
        try:
            reader.close()
        except Exception:  # pragma: no cover - best effort
            log.debug("closing GeoIP reader failed", exc_info=True)
        return None, f"is corrupt ({exc.__class__.__name__}: {exc})"
    return reader, ""
