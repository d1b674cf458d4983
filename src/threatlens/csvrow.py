"""CSV rows of ``threatlens scan --output csv``, byte for byte what ``csv.writer`` makes of :func:`csv_safe` cells.

``csv.writer`` (the ``excel`` dialect) quotes a cell that holds ``,``, ``"``, CR or LF and doubles its
quotes; :func:`csv_safe` has already turned CR and LF into visible escapes, so only the first two are
left to look for. A request row is built as one string, and the cells many lines share (the file, a
timestamp, a verdict's six cells) are built once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from threatlens.export import _FORMULA_START, csv_safe
from threatlens.models.verdict import Verdict
from threatlens.parsers.record import LogRecord
from threatlens.serialize import memo_stamp, memo_verdict
from threatlens.textsafe import visible

#: Bound of the memo table of repeated text; past it the table starts again.
_MEMO_CAP = 4096
_times: dict[int, tuple[datetime, str]] = {}  #: by id (equal aware times may print differently), object kept
_verdicts: dict[Verdict | None, str] = {}
_INT_OR_NONE = frozenset((int, type(None)))


def cell(value: Any) -> str:
    """``value`` as one cell of a ``csv.writer`` row: :func:`csv_safe`, then quoted where the writer quotes."""
    if value is None:
        return ""
    kind = type(value)
    if kind is int:
        return int.__repr__(value)
    if kind is str:
        text = visible(value)
        if text.startswith(_FORMULA_START):
            text = "'" + text
    else:
        text = csv_safe(value)
    return _quoted(text)


def row_line(row: dict[str, Any], columns: Sequence[str]) -> str:
    """One CSV line, ended by CR LF, of ``row``'s ``columns``."""
    return ",".join([cell(row.get(c)) for c in columns]) + "\r\n"


class _Cells(dict[str | None, str]):
    """:func:`cell` of the few-valued text fields (file, method, protocol, vhost, country), by value."""

    def __missing__(self, value: str | None) -> str:
        if len(self) >= _MEMO_CAP:
            self.clear()
        got = self[value] = cell(value)
        return got


_texts = _Cells()


def _csv_tail(verdict: Verdict | None) -> str:
    """The verdict's cells of a request's CSV line, the empty ``error`` cell and the line end."""
    if verdict is None:
        return ",,,,,,,\r\n"
    return (f",{cell(round(verdict.score, 4))},{cell(verdict.flagged)},{cell(verdict.severity or None)},"
            f"{cell(verdict.possibly_succeeded)},{cell(list(verdict.categories))},{cell(list(verdict.reasons))},\r\n")


def request_csv(record: LogRecord, verdict: Verdict | None = None, country: str | None = None) -> str:
    """The ``scan`` CSV line of a request (``CSV_COLUMNS``, ``error`` empty), faster than ``csv.writer``."""
    time = "" if record.time is None else memo_stamp(_times, record.time, cell)
    tail = memo_verdict(_verdicts, verdict, _csv_tail)
    ip, path, query, referer, agent = (record.ip or "", record.path or "", record.query or "", record.referer or "",
                                       record.user_agent or "")  # None and "" are both an empty cell
    text = f" {ip} {path} {query} {referer} {agent}"
    plain = text.isascii() and text.isprintable()  # printable ASCII needs no escapes
    if plain and (" -" in text or " =" in text or " +" in text or " @" in text):  # a field may start like a formula
        plain = not any(f.startswith(_FORMULA_START) for f in (ip, path, query, referer, agent))
    if plain:
        if '"' in text or "," in text:
            ip, path, query, referer, agent = (_quoted(ip), _quoted(path), _quoted(query), _quoted(referer),
                                               _quoted(agent))
    else:
        ip, path, query, referer, agent = cell(ip), cell(path), cell(query), cell(referer), cell(agent)
    number, status, size, port = record.line, record.status, record.bytes, record.server_port
    if type(number) is int and type(status) in _INT_OR_NONE and type(size) in _INT_OR_NONE \
            and type(port) in _INT_OR_NONE:
        status = "" if status is None else status
        size = "" if size is None else size
        port = "" if port is None else port
    else:
        number, status, size, port = cell(number), cell(status), cell(size), cell(port)
    few = _texts
    return (f"request,{few[record.file]},{number},{ip},{time},{few[record.method]},{path},{query},"
            f"{few[record.protocol]},{status},{size},{referer},{agent},{few[record.vhost]},{port},"
            f"{few[country]}{tail}")


def _quoted(text: str) -> str:
    """A cell whose text needs no escape: quoted if ``csv.writer`` would."""
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    return '"' + text + '"' if "," in text else text
