"""The typed results of parsing one access-log line."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import NamedTuple


class LogRecord(NamedTuple):
    """One parsed request: immutable, slotted (a tuple), typed.

    Every field the log did not have, or had as ``-``, is ``None``. ``raw`` is the
    line's original bytes without the line ending, so exports are byte-exact.
    ``line`` is 1-based within ``file``; ``offset`` is the byte offset of the line start.
    """

    time: datetime | None
    ip: str | None
    user: str | None
    method: str | None
    path: str | None
    query: str | None
    protocol: str | None
    status: int | None
    bytes: int | None
    referer: str | None
    user_agent: str | None
    vhost: str | None
    server_port: int | None
    client_port: int | None
    duration: float | None
    raw: builtins.bytes  # the field ``bytes`` above hides the builtin inside this class body
    file: str
    line: int
    offset: int

    @property
    def target(self) -> str:
        """Path plus query, as the client asked for it."""
        path = self.path or ""
        return f"{path}?{self.query}" if self.query is not None else path


#: Position of each ``LogRecord`` field, for ``itemgetter`` and index access in hot loops. Derived
#: from the field list, so reordering the fields moves every reader with it (tests pin the layout).
RECORD_INDEX: dict[str, int] = {name: i for i, name in enumerate(LogRecord._fields)}


class Unparsed(NamedTuple):
    """A line that could not be parsed, with the reason; counted, never dropped."""

    raw: bytes
    reason: str
    file: str
    line: int
    offset: int


ParseResult = LogRecord | Unparsed


class RawLine(NamedTuple):
    r"""One complete line as read from a source, before parsing.

    ``data`` excludes the line terminator (``\\n`` or ``\\r\\n``). ``line`` is 1-based within
    ``file`` (the path as the user named it, or ``-`` for standard input); ``offset`` is the
    byte offset of the line's first byte in the file it was read from.
    """

    file: str
    line: int
    offset: int
    data: bytes
