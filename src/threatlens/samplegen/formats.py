r"""Render generator events as access-log lines in the formats real servers write.

Text formats escape like the servers do: Apache writes ``"`` as ``\"`` and ``\`` as ``\\``,
nginx writes them as ``\x22`` and ``\x5C``; both write control and non-ASCII bytes as ``\xHH``.
Traefik's JSON escapes ``<``, ``>`` and ``&`` like Go's encoder; Caddy's does not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

from threatlens.samplegen.events import Request

#: Format names accepted by :func:`make_formatter`; ``json`` is Traefik's JSON access log.
FORMATS: tuple[str, ...] = ("combined", "vhost_combined", "common", "nginx", "nginx_main", "traefik", "caddy")
ALIASES = {"json": "traefik", "nginx_combined": "nginx"}

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\\x7f-\U0010ffff]')

Formatter = Callable[[str, Request, float], str]


def _escape(text: str, quote: str, backslash: str, hexfmt: str) -> str:
    if not _NEEDS_ESCAPE.search(text):
        return text
    out = []
    for byte in text.encode("utf-8", "surrogateescape"):
        if byte == 0x22:
            out.append(quote)
        elif byte == 0x5C:
            out.append(backslash)
        elif byte < 0x20 or byte >= 0x7F:
            out.append(hexfmt % byte)
        else:
            out.append(chr(byte))
    return "".join(out)


def apache_escape(text: str) -> str:
    """Escape a logged string the way Apache httpd does (``ap_escape_logitem``)."""
    return _escape(text, '\\"', "\\\\", "\\x%02x")


def nginx_escape(text: str) -> str:
    """Escape a logged string the way nginx does for its default (non-JSON) escaping."""
    return _escape(text, "\\x22", "\\x5C", "\\x%02X")


def parse_tz(spec: str) -> timezone:
    """``+0530``, ``-07:00``, ``Z`` or ``UTC`` to a fixed-offset timezone."""
    spec = spec.strip()
    if spec.upper() in ("Z", "UTC"):
        return UTC
    m = re.fullmatch(r"([+-])(\d\d):?(\d\d)", spec)
    if not m:
        raise ValueError(f"bad timezone offset {spec!r} (want e.g. +0000, -0700, +05:30)")
    minutes = int(m[2]) * 60 + int(m[3])
    return timezone(timedelta(minutes=-minutes if m[1] == "-" else minutes))


class _ClfClock:
    """``10/Oct/2026:13:55:36 +0200`` for an epoch, cached per second (lines come in time order)."""

    def __init__(self, tz: timezone) -> None:
        self.tz = tz
        self.last = -1
        self.text = ""
        off = int(tz.utcoffset(None).total_seconds()) // 60
        sign = "-" if off < 0 else "+"
        self.offset = f"{sign}{abs(off) // 60:02d}{abs(off) % 60:02d}"

    def __call__(self, epoch: float) -> str:
        sec = int(epoch // 1)
        if sec != self.last:
            d = datetime.fromtimestamp(sec, self.tz)
            self.text = (
                f"{d.day:02d}/{_MONTHS[d.month - 1]}/{d.year}:{d.hour:02d}:{d.minute:02d}:{d.second:02d} "
                f"{self.offset}"
            )
            self.last = sec
        return self.text


def _rfc3339_nano(epoch: float, tz: timezone) -> str:
    sec = int(epoch // 1)
    nanos = round((epoch - sec) * 1e9) % 1_000_000_000
    d = datetime.fromtimestamp(sec, tz)
    base = d.strftime("%Y-%m-%dT%H:%M:%S")
    off = d.strftime("%z")
    suffix = "Z" if off == "+0000" else f"{off[:3]}:{off[3:]}"
    return f"{base}.{nanos:09d}{suffix}"


def _header_bytes(req: Request) -> int:
    return req.size + 210 + (len(req.target) % 37) + (25 if req.status != 200 else 0)


def make_formatter(fmt: str, tz: timezone = UTC) -> Formatter:
    """Return ``f(ip, request, epoch_seconds) -> line`` (without newline) for format ``fmt``."""
    fmt = ALIASES.get(fmt, fmt)
    clock = _ClfClock(tz)
    if fmt in ("common", "combined", "vhost_combined"):
        esc = apache_escape

        def apache(ip: str, r: Request, t: float) -> str:
            rl = esc(f"{r.method} {r.target} {r.protocol}")
            if fmt == "common":
                return f'{ip} - - [{clock(t)}] "{rl}" {r.status} {r.size or "-"}'
            tail = f'"{esc(r.referer or "-")}" "{esc(r.user_agent or "-")}"'
            if fmt == "combined":
                return f'{ip} - - [{clock(t)}] "{rl}" {r.status} {r.size or "-"} {tail}'
            return f'{r.host}:{r.port} {ip} - - [{clock(t)}] "{rl}" {r.status} {_header_bytes(r)} {tail}'

        return apache
    if fmt in ("nginx", "nginx_main"):
        esc = nginx_escape
        xff = fmt == "nginx_main"

        def nginx(ip: str, r: Request, t: float) -> str:
            line = (
                f'{ip} - - [{clock(t)}] "{esc(f"{r.method} {r.target} {r.protocol}")}" {r.status} {r.size} '
                f'"{esc(r.referer or "-")}" "{esc(r.user_agent or "-")}"'
            )
            return f'{line} "-"' if xff else line

        return nginx
    if fmt == "traefik":
        return _traefik_formatter(tz)
    if fmt == "caddy":
        return _caddy_formatter()
    raise ValueError(f"unknown sample format {fmt!r}; choose from {', '.join(FORMATS)} (or json)")


def _traefik_formatter(tz: timezone) -> Formatter:
    counter = [0]

    def traefik(ip: str, r: Request, t: float) -> str:
        counter[0] += 1
        dur = int(r.duration * 1e9)
        addr = f"[{ip}]:{r.client_port}" if ":" in ip else f"{ip}:{r.client_port}"
        start_local = _rfc3339_nano(t, tz)
        start_utc = _rfc3339_nano(t, UTC)
        row = {
            "ClientAddr": addr,
            "ClientHost": ip,
            "ClientPort": str(r.client_port),
            "ClientUsername": "-",
            "DownstreamContentSize": r.size,
            "DownstreamStatus": r.status,
            "Duration": dur,
            "OriginContentSize": r.size,
            "OriginDuration": dur - 9000,
            "OriginStatus": r.status,
            "Overhead": 9000,
            "RequestAddr": r.host,
            "RequestContentSize": 0 if r.method in ("GET", "HEAD") else 60 + len(r.target) % 90,
            "RequestCount": counter[0],
            "RequestHost": r.host,
            "RequestMethod": r.method,
            "RequestPath": r.target,
            "RequestPort": "-",
            "RequestProtocol": r.protocol,
            "RequestScheme": "https" if r.port == 443 else "http",
            "RetryAttempts": 0,
            "RouterName": "shop@docker",
            "ServiceAddr": "172.18.0.3:8080",
            "ServiceName": "shop@docker",
            "ServiceURL": {
                "Scheme": "http",
                "Opaque": "",
                "User": None,
                "Host": "172.18.0.3:8080",
                "Path": "",
                "RawPath": "",
                "ForceQuery": False,
                "RawQuery": "",
                "Fragment": "",
                "RawFragment": "",
            },
            "StartLocal": start_local,
            "StartUTC": start_utc,
            "entryPointName": "websecure" if r.port == 443 else "web",
            "level": "info",
            "msg": "",
        }
        if r.referer is not None:
            row["request_Referer"] = r.referer
        if r.user_agent is not None:
            row["request_User-Agent"] = r.user_agent
        row["time"] = start_utc[:19] + "Z"
        text = json.dumps(row, separators=(",", ":"), ensure_ascii=False)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

    return traefik


def _caddy_formatter() -> Formatter:
    def caddy(ip: str, r: Request, t: float) -> str:
        headers: dict[str, list[str]] = {"Accept": ["*/*"]}
        if r.user_agent is not None:
            headers["User-Agent"] = [r.user_agent]
        if r.referer is not None:
            headers["Referer"] = [r.referer]
        request = {
            "remote_ip": ip,
            "remote_port": str(r.client_port),
            "client_ip": ip,
            "proto": r.protocol,
            "method": r.method,
            "host": r.host,
            "uri": r.target,
            "headers": headers,
        }
        if r.port == 443:
            request["tls"] = {
                "resumed": False,
                "version": 772,
                "cipher_suite": 4865,
                "proto": "h2",
                "server_name": r.host,
            }
        row = {
            "level": "info",
            "ts": round(t, 7),
            "logger": "http.log.access.log0",
            "msg": "handled request",
            "request": request,
            "bytes_read": 0 if r.method in ("GET", "HEAD") else 60 + len(r.target) % 90,
            "user_id": "",
            "duration": round(r.duration, 7),
            "size": r.size,
            "status": r.status,
            "resp_headers": {"Server": ["Caddy"], "Content-Type": ["text/html; charset=utf-8"]},
        }
        return json.dumps(row, separators=(",", ":"), ensure_ascii=False)

    return caddy
