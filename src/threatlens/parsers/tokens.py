"""Format strings (Apache ``LogFormat``, nginx ``log_format``) to a list of tokens.

A token is either a literal string or a ``Field``: what the directive or variable means
(``kind``), its source spelling (``name``) and an optional argument (header name, strftime format).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from threatlens.errors import FormatError


class Field(NamedTuple):
    """One variable part of a log format."""

    kind: str
    name: str
    arg: str | None = None


Token = str | Field

# Kinds understood by the compiler. "opaque" fields are matched and kept out of the record.
_APACHE_KINDS = {
    "h": "ip", "a": "ip", "A": "opaque", "l": "opaque", "u": "user", "t": "time", "r": "request",
    "s": "status", "b": "bytes", "B": "bytes", "O": "bytes_sent", "I": "number", "S": "number",
    "D": "duration_us", "T": "duration_s", "v": "vhost", "V": "vhost", "p": "server_port",
    "P": "opaque", "m": "method", "U": "path", "q": "query_q", "H": "protocol", "X": "opaque",
    "k": "number", "L": "opaque", "R": "opaque", "f": "opaque", "e": "opaque", "o": "opaque",
    "n": "opaque", "C": "opaque", "i": "header", "^": "opaque",
}
_APACHE_DIRECTIVE = re.compile(
    r"%(?P<mod>[<>]?!?(?:\d{3}(?:,\d{3})*)?)(?:\{(?P<arg>[^}]*)\})?(?P<mod2>[<>])?(?P<letter>[A-Za-z%])"
)
_HEADER_KINDS = {"referer": "referer", "user-agent": "user_agent", "host": "host_header"}


def apache_tokens(fmt: str) -> list[Token]:
    """Tokenise an Apache ``LogFormat`` string."""
    fmt = fmt.replace('\\"', '"').replace("\\t", "\t")
    tokens: list[Token] = []
    pos = 0
    for match in _APACHE_DIRECTIVE.finditer(fmt):
        if match.start() > pos:
            tokens.append(fmt[pos:match.start()])
        pos = match.end()
        letter, arg = match.group("letter"), match.group("arg")
        if letter == "%":
            tokens.append("%")
            continue
        kind = _APACHE_KINDS.get(letter)
        if kind is None:
            raise FormatError(f"unknown Apache directive %{letter} in {fmt!r}")
        if letter == "i" and arg is not None:
            kind = _HEADER_KINDS.get(arg.lower(), "opaque")
        elif letter == "t" and arg:
            kind = "time_strftime"
        elif letter == "T" and arg in ("ms", "us"):
            kind = "duration_ms" if arg == "ms" else "duration_us"
        elif letter == "p" and arg == "remote":
            kind = "client_port"
        elif letter == "p" and arg == "local":
            kind = "opaque"
        tokens.append(Field(kind, match.group(0), arg))
    if pos < len(fmt):
        tokens.append(fmt[pos:])
    if not any(isinstance(t, Field) for t in tokens):
        raise FormatError(f"no % directive in Apache format {fmt!r}")
    return tokens


_NGINX_KINDS = {
    "remote_addr": "ip", "remote_user": "user", "time_local": "time_clf", "time_iso8601": "time_iso",
    "msec": "time_epoch", "request": "request", "status": "status", "body_bytes_sent": "bytes",
    "bytes_sent": "bytes_sent", "request_time": "duration_s", "host": "vhost", "server_name": "vhost",
    "server_port": "server_port", "remote_port": "client_port", "request_method": "method",
    "request_uri": "uri", "uri": "path", "document_uri": "path", "args": "args", "query_string": "args",
    "server_protocol": "protocol", "http_referer": "referer", "http_user_agent": "user_agent",
    "upstream_response_time": "timing_list", "upstream_connect_time": "timing_list",
    "upstream_header_time": "timing_list", "request_length": "number", "connection": "number",
    "connection_requests": "number", "pipe": "opaque", "scheme": "opaque",
}
_NGINX_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z0-9_]+)\}|(?P<plain>[A-Za-z0-9_]+))")


def nginx_tokens(fmt: str) -> list[Token]:
    """Tokenise an nginx ``log_format`` string (its quoted pieces already joined)."""
    tokens: list[Token] = []
    pos = 0
    for match in _NGINX_VARIABLE.finditer(fmt):
        if match.start() > pos:
            tokens.append(fmt[pos:match.start()])
        pos = match.end()
        name = match.group("braced") or match.group("plain")
        kind = _NGINX_KINDS.get(name)
        if kind is None:
            kind = "host_header" if name == "http_host" else "opaque"
        tokens.append(Field(kind, "$" + name))
    if pos < len(fmt):
        tokens.append(fmt[pos:])
    if not any(isinstance(t, Field) for t in tokens):
        raise FormatError(f"no $variable in nginx format {fmt!r}")
    return tokens


def format_tokens(fmt: str) -> list[Token]:
    """Tokenise either dialect: ``$`` variables mean nginx, ``%`` directives mean Apache."""
    if _NGINX_VARIABLE.search(fmt) and not _APACHE_DIRECTIVE.search(fmt):
        return nginx_tokens(fmt)
    return apache_tokens(fmt)
