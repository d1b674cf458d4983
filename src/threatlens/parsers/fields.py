"""Converters from the text of one log field to its typed value (``-`` becomes ``None``)."""

from __future__ import annotations

import ipaddress
import re
import socket

from threatlens.errors import FieldError

#: Entries of each converter cache (then it starts again): a hit saves the work, a miss costs a dict insert.
_CACHE_MAX = 65_536
#: One copy of each method and protocol token (``GET``, ``HTTP/1.1``) for every record and cache entry.
_TOKENS: dict[str, str] = {}
_TOKENS_MAX = 1024
_ESCAPE = re.compile(rb'\\(x[0-9A-Fa-f]{2}|["\\])')
_METHOD = re.compile(r"[A-Za-z][A-Za-z0-9_.+-]{0,31}")


def unescape(text: str) -> str:
    r"""Decode Apache/nginx escapes in a quoted field: ``\"``, ``\\`` and ``\xHH`` (UTF-8 aware)."""
    if "\\" not in text:
        return text
    data = text.encode("utf-8", "surrogateescape")

    def _one(match: re.Match[bytes]) -> bytes:
        esc = match.group(1)
        return bytes((int(esc[1:], 16),)) if len(esc) == 3 else esc

    return _ESCAPE.sub(_one, data).decode("utf-8", "backslashreplace")


def dash_none(text: str | None) -> str | None:
    """``-`` and the empty string mean "not logged"."""
    return None if text is None or text == "-" or text == "" else text


def quoted(text: str | None) -> str | None:
    """A quoted string field: unescaped, ``-`` to ``None``."""
    return None if text is None or text == "-" else unescape(text)


def to_int(text: str | None) -> int | None:
    """Integer field (status, bytes, port)."""
    if text is None or text == "-" or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise FieldError(f"not a number: {text[:40]!r}") from None


def to_seconds(scale: float):
    """Duration converter: ``scale`` is the unit in seconds (1e-6 for microseconds)."""

    def convert(text: str | None) -> float | None:
        if text is None or text == "-" or text == "":
            return None
        try:
            return float(text) * scale
        except ValueError:
            raise FieldError(f"not a duration: {text[:40]!r}") from None

    return convert


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_ZONE = re.compile(r"[0-9A-Za-z_.-]{1,64}")


def parse_address(text: str) -> Address:
    """One address in the form every part of ThreatLens compares: raises ``ValueError`` if it is not one.

    ``[...]`` brackets are removed; an IPv6 zone index (``fe80::1%eth0``) is dropped, since the
    same link-local address on two interfaces is one client as far as a log can tell; a ``%``
    after an IPv4 address is refused (IPv4 has no zones, so ``1.2.3.4%x`` is not an address);
    an IPv4-mapped IPv6 address (``::ffff:1.2.3.4``) becomes the IPv4 address.
    """
    candidate = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    host, pct, zone = candidate.partition("%")
    if pct and (":" not in host or not _ZONE.fullmatch(zone)):
        raise ValueError(f"not an IP address: {text[:60]!r}")
    addr = ipaddress.ip_address(host)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def _canonical_ipv4(text: str) -> bool:
    """``text`` is a dotted quad exactly as ``parse_address`` would write it (the C parser, 8x faster).

    ``inet_pton`` refuses leading zeros, short forms and spaces, and writing the address back must give
    ``text``: anything else (IPv6, zones, brackets, oddities) is left to ``parse_address``.
    """
    try:
        return _ntop(_AF_INET, _pton(_AF_INET, text)) == text
    except (OSError, ValueError):  # not IPv4, or a NUL / non-ASCII character
        return False


_AF_INET = socket.AF_INET
_pton = socket.inet_pton
_ntop = socket.inet_ntop


class IpValidator:
    """Validates and normalises client addresses with :func:`parse_address`, cached."""

    __slots__ = ("cache",)

    def __init__(self) -> None:
        self.cache: dict[str, str] = {}

    def __call__(self, text: str | None) -> str | None:
        """Return the canonical address text, ``None`` for ``-``; raise ``FieldError`` otherwise."""
        if text is None or text == "-" or text == "":
            return None
        cache = self.cache
        value = cache.get(text)
        if value is None:
            if _canonical_ipv4(text):
                value = text
            else:
                try:
                    value = str(parse_address(text))
                    if value == text:
                        value = text  # the key and the value: one string
                except ValueError:
                    raise FieldError(f"client address is not an IP address: {text[:60]!r}") from None
            if len(cache) >= _CACHE_MAX:
                cache.clear()
            cache[text] = value
        return value


RequestParts = tuple[str | None, str | None, str | None, str | None]


def split_target(target: str) -> tuple[str, str | None]:
    """``/a?b=1`` to (``/a``, ``b=1``); no ``?`` means query ``None``."""
    path, sep, query = target.partition("?")
    return path, (query if sep else None)


class RequestSplitter:
    """Splits a request line into method, path, query and protocol (cached: requests repeat).

    A request line that is not ``METHOD TARGET [PROTOCOL]`` (TLS handshake bytes, garbage,
    a bare ``-``) keeps its text in ``path`` with ``method`` ``None``, so it is never lost
    and detection can see it as malformed.
    """

    __slots__ = ("cache",)

    def __init__(self) -> None:
        self.cache: dict[str, RequestParts] = {}

    def __call__(self, text: str | None) -> RequestParts:
        """Return ``(method, path, query, protocol)``."""
        if text is None or text == "-" or text == "":
            return (None, None, None, None)
        cache = self.cache
        parts = cache.get(text)
        if parts is None:
            parts = self._split(unescape(text))
            if len(cache) >= _CACHE_MAX:
                cache.clear()
            cache[text] = parts
        return parts

    @staticmethod
    def _split(request: str) -> RequestParts:
        pieces = request.split(" ")
        if len(pieces) >= 3 and pieces[-1].startswith("HTTP/"):
            method, protocol = pieces[0], pieces[-1]
            target = " ".join(pieces[1:-1])  # unencoded spaces inside the target
        elif len(pieces) == 2:
            method, protocol, target = pieces[0], None, pieces[1]
        else:
            return (None, request, None, None)
        if not _METHOD.fullmatch(method) or not target:
            return (None, request, None, None)
        path, query = split_target(target)
        if len(_TOKENS) < _TOKENS_MAX:
            method = _TOKENS.setdefault(method, method)
            protocol = _TOKENS.setdefault(protocol, protocol) if protocol is not None else None
        return (method, path, query, protocol)
