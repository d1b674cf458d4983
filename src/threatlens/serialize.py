"""The stable JSON-lines contract of ``threatlens scan --output jsonl`` (and JSON exports)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import date, datetime
from json.encoder import encode_basestring as _str  # type: ignore[attr-defined, unused-ignore]
from typing import Any

from threatlens.errors import ReadError
from threatlens.models.verdict import Alert, Verdict
from threatlens.parsers.firewall import FirewallRecord
from threatlens.parsers.record import LogRecord, Unparsed

#: Column order for CSV output of request rows.
REQUEST_COLUMNS = (
    "type", "file", "line", "ip", "time", "method", "path", "query", "protocol", "status", "bytes",
    "referer", "user_agent", "vhost", "port", "country", "score", "flagged", "severity", "possibly_succeeded",
    "categories", "reasons",
)


#: Characters that some readers take for a line end (``str.splitlines``, JavaScript): kept escaped.
_LINE_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_line(row: Any) -> str:
    r"""One JSON object as one line, the same for stdout and export files: UTF-8 text, not ``\uXXXX``.

    A lone surrogate stays in the text; written with ``errors="backslashreplace"`` it becomes the
    JSON escape ``\udXXX`` again.
    """
    return json.dumps(row, ensure_ascii=False, default=_json_default).translate(_LINE_BREAKS)


def request_dict(record: LogRecord, verdict: Verdict | None = None, country: str | None = None) -> dict[str, Any]:
    """One parsed request as a JSON-ready dict."""
    row: dict[str, Any] = {
        "type": "request",
        "file": record.file,
        "line": record.line,
        "ip": record.ip,
        "time": record.time.isoformat() if record.time is not None else None,
        "method": record.method,
        "path": record.path,
        "query": record.query,
        "protocol": record.protocol,
        "status": record.status,
        "bytes": record.bytes,
        "referer": record.referer,
        "user_agent": record.user_agent,
        "vhost": record.vhost,
        "port": record.server_port,
        "country": country,
    }
    if verdict is not None:
        row["score"] = round(verdict.score, 4)
        row["flagged"] = verdict.flagged
        row["severity"] = verdict.severity or None
        row["possibly_succeeded"] = verdict.possibly_succeeded
        row["categories"] = list(verdict.categories)
        row["reasons"] = list(verdict.reasons)
    return row


#: Bound of the memo tables of :func:`request_json` (timestamps, verdicts); past it a table starts again.
_MEMO_CAP = 4096
_times: dict[int, tuple[datetime, str]] = {}  #: by id (equal aware times may print differently), object kept
_verdicts: dict[Verdict | None, str] = {}


def _json(value: Any) -> str:
    """One field as :func:`json_line` encodes it (line breaks left to the caller), without the encoder's set-up."""
    if value is None:
        return "null"
    kind = type(value)
    if kind is str:
        return _str(value)  # type: ignore[no-any-return, unused-ignore]
    if kind is int:
        return int.__repr__(value)
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _json_tail(verdict: Verdict | None) -> str:
    """The verdict's fields of a request's JSON line, and its closing brace."""
    if verdict is None:
        return "}"
    return (f', "score": {_json(round(verdict.score, 4))}, "flagged": {_json(verdict.flagged)}, '
            f'"severity": {_json(verdict.severity or None)}, '
            f'"possibly_succeeded": {_json(verdict.possibly_succeeded)}, '
            f'"categories": {_json(list(verdict.categories))}, '
            f'"reasons": {_json(list(verdict.reasons))}}}')


def memo_stamp(memo: dict[int, tuple[datetime, str]], stamp: datetime, encode: Callable[[str], str]) -> str:
    """``encode(stamp.isoformat())``, remembered by object: equal aware times may print differently."""
    known = memo.get(id(stamp))
    if known is not None and known[0] is stamp:
        return known[1]
    if len(memo) >= _MEMO_CAP:
        memo.clear()
    text = encode(stamp.isoformat())
    memo[id(stamp)] = (stamp, text)
    return text


def memo_verdict(memo: dict[Verdict | None, str], verdict: Verdict | None,
                 encode: Callable[[Verdict | None], str]) -> str:
    """``encode(verdict)``, remembered for the equal verdicts that are sure to encode alike."""
    # equal verdicts encode alike only when their numbers have the same types (0 == 0.0 == False) and the
    # score is not a zero whose sign the output shows (-0.0 == 0.0)
    shared = verdict is None or (type(verdict.score) is float and type(verdict.flagged) is bool
                                 and type(verdict.possibly_succeeded) is bool
                                 and (verdict.score != 0.0 or math.copysign(1.0, verdict.score) > 0))
    text = memo.get(verdict) if shared else None
    if text is None:
        if len(memo) >= _MEMO_CAP:
            memo.clear()
        text = encode(verdict)
        if shared:
            memo[verdict] = text
    return text


def request_json(record: LogRecord, verdict: Verdict | None = None, country: str | None = None) -> str:
    """``json_line(request_dict(record, verdict, country))``, byte for byte, in a third of the time.

    The scan's JSONL output writes one per request; the fields are encoded one by one with the stdlib
    encoder's own string escaping, and a timestamp or a verdict shared by many lines is encoded once.
    """
    time = "null" if record.time is None else memo_stamp(_times, record.time, _str)
    tail = memo_verdict(_verdicts, verdict, _json_tail)
    line = (f'{{"type": "request", "file": {_json(record.file)}, "line": {_json(record.line)}, '
            f'"ip": {_json(record.ip)}, "time": {time}, "method": {_json(record.method)}, '
            f'"path": {_json(record.path)}, "query": {_json(record.query)}, "protocol": {_json(record.protocol)}, '
            f'"status": {_json(record.status)}, "bytes": {_json(record.bytes)}, '
            f'"referer": {_json(record.referer)}, "user_agent": {_json(record.user_agent)}, '
            f'"vhost": {_json(record.vhost)}, "port": {_json(record.server_port)}, "country": {_json(country)}'
            f'{tail}')
    return line if line.isascii() else line.translate(_LINE_BREAKS)  # isascii() is O(1)


def packet_dict(record: FirewallRecord, country: str | None = None) -> dict[str, Any]:
    """One firewall record (a logged packet) as a JSON-ready dict; ``ip`` is its source address."""
    return {
        "type": "packet",
        "file": record.file,
        "line": record.line,
        "ip": record.src,
        "time": record.time.isoformat() if record.time is not None else None,
        "uptime": record.uptime,
        "host": record.host,
        "prefix": record.prefix,
        "action": record.action,
        "in": record.in_iface,
        "out": record.out_iface,
        "dst": record.dst,
        "proto": record.proto,
        "sport": record.sport,
        "port": record.dport,
        "tcp_flags": record.tcp_flags,
        "icmp_type": record.icmp_type,
        "length": record.length,
        "ttl": record.ttl,
        "country": country,
    }


def unparsed_dict(item: Unparsed) -> dict[str, Any]:
    r"""One unparsed line: where it is, why, and its text (invalid bytes as ``\\xHH``)."""
    return {
        "type": "unparsed",
        "file": item.file,
        "line": item.line,
        "error": item.reason,
        "raw": item.raw.decode("utf-8", "backslashreplace"),
    }


def read_error_dict(error: ReadError) -> dict[str, Any]:
    """An input not read to its end: its name, its last line read (0: it could not be opened), why."""
    return {"type": "read_error", "file": error.file, "line": error.line, "error": error.reason}


def interrupted_dict(signal_name: str, lines: int) -> dict[str, Any]:
    """The end of a scan that a signal stopped: the output covers the ``lines`` read until then."""
    return {"type": "interrupted", "signal": signal_name, "lines": lines,
            "error": f"{signal_name}: stopped after {lines} lines; the output covers those only"}


def alert_dict(alert: Alert, country: str | None = None) -> dict[str, Any]:
    """One behaviour alert; a ``campaign`` also lists its ``members``."""
    row = {
        "type": "alert",
        "ip": alert.ip,
        "kind": alert.kind,
        "file": alert.file,
        "first_line": alert.first_line,
        "last_line": alert.last_line,
        "count": alert.events,
        "score": round(alert.score, 4),
        "severity": alert.severity,
        "categories": list(alert.categories),
        "reasons": list(alert.reasons),
        "first_time": alert.first_time.isoformat() if alert.first_time else None,
        "last_time": alert.last_time.isoformat() if alert.last_time else None,
        "country": country,
    }
    if alert.kind == "campaign":
        row["members"] = list(alert.members)
    return row
