"""JSON-lines access logs: nginx ``escape=json`` formats, Caddy and Traefik, via a field mapping."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from threatlens.parsers.base import LineParser, decode, describe_garbage, precheck
from threatlens.parsers.fields import FieldError, IpValidator, RequestSplitter, split_target, unescape
from threatlens.parsers.record import LogRecord, RawLine, Unparsed
from threatlens.parsers.timeparse import parse_clf, parse_epoch, parse_iso
from threatlens.parsers.tokens import FormatError

#: For each record field, the keys tried in order (dotted keys walk nested objects).
DEFAULT_MAPPING: dict[str, tuple[str, ...]] = {
    "ip": ("remote_addr", "ClientHost", "request.client_ip", "request.remote_ip", "client_ip",
           "remote_ip", "clientip", "ip"),
    "time": ("time_iso8601", "time_local", "StartUTC", "time", "ts", "timestamp", "@timestamp", "msec"),
    "request": ("request",),
    "method": ("request_method", "RequestMethod", "request.method", "method"),
    "uri": ("request_uri", "RequestPath", "request.uri", "uri", "url", "path"),
    "query": ("args", "query_string", "query"),
    "protocol": ("server_protocol", "RequestProtocol", "request.proto", "protocol"),
    "status": ("status", "DownstreamStatus", "status_code", "response.status"),
    "bytes": ("body_bytes_sent", "DownstreamContentSize", "size", "bytes_sent", "bytes"),
    "referer": ("http_referer", "request_Referer", "request.headers.Referer", "referer", "referrer"),
    "user_agent": ("http_user_agent", "request_User-Agent", "request.headers.User-Agent", "user_agent",
                   "agent"),
    "user": ("remote_user", "ClientUsername", "user_id", "user"),
    "vhost": ("host", "server_name", "RequestHost", "request.host", "vhost"),
    "server_port": ("server_port", "RequestPort"),
    "client_port": ("remote_port", "ClientPort", "request.remote_port"),
    "duration": ("request_time", "Duration", "duration"),
}
# Traefik writes Duration in nanoseconds; the others write seconds.
_DURATION_SCALE = {"Duration": 1e-9}
#: A ``\\uD800``-``\\uDFFF`` escape: JSON allows it alone, but the text it makes cannot be encoded.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_surrogates(value: Any) -> Any:
    r"""``value`` with every lone surrogate in its strings (keys too) written as the text ``\udXXX``."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8") if _SURROGATE.search(value) else value
    if isinstance(value, dict):
        return {_no_surrogates(k): _no_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_surrogates(v) for v in value]
    return value


def _get(obj: Mapping[str, Any], key: str) -> Any:
    value: Any = obj.get(key)
    if value is None and "." in key:
        value = obj
        for part in key.split("."):
            if not isinstance(value, Mapping):
                return None
            value = value.get(part)
    if isinstance(value, list):  # Caddy header values are lists
        value = value[0] if value else None
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return None if text in ("", "-") else unescape(text)


def _int(value: Any) -> int | None:
    if value is None or value in ("", "-"):
        return None
    if isinstance(value, bool):
        raise FieldError(f"not a number: {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise FieldError(f"not a number: {str(value)[:40]!r}") from None


def _time(value: Any) -> Any:
    if value is None or value in ("", "-"):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return parse_epoch(value)
    text = str(value)
    if text[:1].isdigit() and "/" in text[:6]:
        return parse_clf(text)
    if text.replace(".", "", 1).isdigit():
        return parse_epoch(text)
    return parse_iso(text)


def parse_mapping(spec: str) -> dict[str, tuple[str, ...]]:
    """``ip=client,time=ts`` to a mapping that overrides the defaults for those fields."""
    mapping = dict(DEFAULT_MAPPING)
    for item in filter(None, (p.strip() for p in spec.split(","))):
        field, sep, key = item.partition("=")
        if not sep or field not in DEFAULT_MAPPING or not key:
            raise FormatError(
                f"bad JSON field mapping {item!r}: use FIELD=KEY with FIELD one of {', '.join(DEFAULT_MAPPING)}")
        mapping[field] = (key,)
    return mapping


class JsonParser(LineParser):
    """One JSON object per line, fields found through ``mapping``."""

    def __init__(self, name: str = "json", mapping: Mapping[str, Sequence[str]] | None = None,
                 description: str = "JSON lines (nginx escape=json, Caddy, Traefik)") -> None:
        self.name = name
        self.description = description
        self.mapping = {k: tuple(v) for k, v in (mapping or DEFAULT_MAPPING).items()}
        self.specificity = 10
        self._ip = IpValidator()
        self._request = RequestSplitter()

    def _first(self, obj: Mapping[str, Any], field: str) -> tuple[str | None, Any]:
        for key in self.mapping.get(field, ()):
            value = _get(obj, key)
            if value is not None:
                return key, value
        return None, None

    def parse_raw(self, raw: RawLine) -> LogRecord | Unparsed:
        """Parse one JSON line; never raises."""
        data = raw.data
        problem = precheck(data, self.max_bytes)
        if problem is None and data.lstrip()[:1] != b"{":
            problem = describe_garbage(data) or "not a JSON object"
        if problem is not None:
            return Unparsed(data, problem, raw.file, raw.line, raw.offset)
        try:
            text = decode(data)
            obj = json.loads(text)
            if _SURROGATE_ESCAPE.search(text):
                obj = _no_surrogates(obj)
            if not isinstance(obj, dict):
                raise FieldError("not a JSON object")
            return self._record(obj, raw)
        except json.JSONDecodeError as exc:
            return Unparsed(data, f"invalid JSON: {exc.msg} at column {exc.colno}", raw.file, raw.line,
                            raw.offset)
        except FieldError as exc:
            return Unparsed(data, str(exc), raw.file, raw.line, raw.offset)
        except (ValueError, TypeError, OverflowError, RecursionError) as exc:
            return Unparsed(data, f"bad field value: {exc}"[:200], raw.file, raw.line, raw.offset)

    def _record(self, obj: dict[str, Any], raw: RawLine) -> LogRecord:
        first = self._first
        _, ip_value = first(obj, "ip")
        if ip_value is None:
            raise FieldError("no client address field in JSON object")
        method = path = query = protocol = None
        _, request = first(obj, "request")
        if isinstance(request, str):
            method, path, query, protocol = self._request(request)
        if method is None:
            method = _text(first(obj, "method")[1])
        if path is None:
            uri = _text(first(obj, "uri")[1])
            if uri is not None:
                path, query = split_target(uri)
        if query is None:
            query = _text(first(obj, "query")[1])
        if protocol is None:
            protocol = _text(first(obj, "protocol")[1])
        key, duration = first(obj, "duration")
        if duration is not None:
            duration = float(duration) * _DURATION_SCALE.get(key or "", 1.0)
        return LogRecord(
            time=_time(first(obj, "time")[1]),
            ip=self._ip(str(ip_value)),
            user=_text(first(obj, "user")[1]),
            method=method,
            path=path,
            query=query,
            protocol=protocol,
            status=_int(first(obj, "status")[1]),
            bytes=_int(first(obj, "bytes")[1]),
            referer=_text(first(obj, "referer")[1]),
            user_agent=_text(first(obj, "user_agent")[1]),
            vhost=_text(first(obj, "vhost")[1]),
            server_port=_int(first(obj, "server_port")[1]),
            client_port=_int(first(obj, "client_port")[1]),
            duration=duration,
            raw=raw.data,
            file=raw.file,
            line=raw.line,
            offset=raw.offset,
        )
