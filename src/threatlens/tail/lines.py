"""Cut a byte stream into ``RawLine`` objects, keeping line numbers, offsets and a partial tail."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import accumulate, count, islice, repeat

from threatlens.parsers.record import RawLine

Notify = Callable[[str, str], None]
_new = tuple.__new__  # RawLine without its Python-level __new__: the reader's hottest line


def _next_offset(offset: int, length: int) -> int:
    return offset + length + 1

#: Longest line kept whole; a longer one is delivered in pieces that share its line number.
DEFAULT_MAX_LINE_BYTES = 1 << 20


class LineAssembler:
    r"""Turn consecutive chunks of one source into complete lines.

    ``pos`` is the offset of the next byte to be fed, ``line`` the number of the last
    complete line. A line split across chunks is held back until its ``\n`` arrives (or
    until :meth:`flush`). A line longer than ``max_line_bytes`` is delivered in pieces of
    that size, all carrying the same line number, so memory stays bounded.
    """

    __slots__ = ("_notify", "_split_noted", "carried", "line", "max_line_bytes", "name", "partial", "pos")

    def __init__(
        self,
        name: str,
        *,
        pos: int = 0,
        line: int = 0,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        notify: Notify | None = None,
    ) -> None:
        self.name = name
        self.pos = pos
        self.line = line
        self.partial = b""
        #: bytes at the start of ``partial`` that came from before ``pos`` was reset (a line begun before a
        #: truncation): they join the first line but not its offset
        self.carried = 0
        self.max_line_bytes = max_line_bytes
        self._notify = notify
        self._split_noted = False

    def carry(self, data: bytes) -> None:
        """Start the next line with ``data`` (the unfinished line of the same writer, before a truncation)."""
        self.partial = data + self.partial
        self.carried += len(data)

    @property
    def partial_start(self) -> int:
        """Offset of the first byte of the held-back partial line."""
        return self.pos - len(self.partial)

    def feed(self, data: bytes) -> list[RawLine]:
        """Add ``data`` and return the lines it completes."""
        buf = self.partial + data if self.partial else data
        start = self.pos - len(self.partial)  # below the real offset by ``carried`` while carrying
        self.pos += len(data)
        parts = buf.split(b"\n")
        rest = parts.pop()
        name = self.name
        if parts:
            offsets: Iterable[int] = accumulate(map(len, parts), _next_offset, initial=start)
            if self.carried:  # only the first line holds carried bytes: its offset is where the file starts
                offsets = [start + self.carried, *islice(offsets, 1, None)]
                self.carried = 0
            if b"\r" in buf:
                parts = [p[:-1] if p[-1:] == b"\r" else p for p in parts]
            lines = list(map(_new, repeat(RawLine), zip(repeat(name), count(self.line + 1), offsets, parts)))
            self.line += len(parts)
        else:
            lines = []
        if len(rest) >= self.max_line_bytes:
            lines.append(RawLine(name, self.line + 1, self.pos - len(rest) + self.carried, rest))
            self.carried = 0
            if not self._split_noted and self._notify is not None:
                self._split_noted = True
                self._notify(
                    "warning",
                    f"{name}: line {self.line + 1} is longer than {self.max_line_bytes} bytes; "
                    "delivered in pieces that share its line number",
                )
            rest = b""
        self.partial = rest
        return lines

    def skip(self, nbytes: int) -> None:
        """Advance past ``nbytes`` that are not log data (only valid with no partial line held)."""
        self.pos += nbytes

    def flush(self) -> RawLine | None:
        """Return the held-back partial line as a complete line (source ended or went away)."""
        if not self.partial:
            return None
        data = self.partial[:-1] if self.partial[-1:] == b"\r" else self.partial
        self.line += 1
        raw = RawLine(self.name, self.line, self.pos - len(self.partial) + self.carried, data)
        self.partial = b""
        self.carried = 0
        return raw


class FirstPieces:
    """Keep one record per line: of a line delivered in pieces (see :class:`LineAssembler`), only the first piece.

    The pieces of a line longer than ``max_line_bytes`` share its number and follow each other in the file;
    every piece but the last is at least ``max_line_bytes`` long. Call with each batch, in order.
    """

    __slots__ = ("_open", "max_line_bytes")

    def __init__(self, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self.max_line_bytes = max_line_bytes
        self._open: dict[str, tuple[int, int]] = {}  # file -> (line number, offset of the next piece)

    def __call__(self, batch: list[RawLine]) -> list[RawLine]:
        """``batch`` without the second and later pieces of over-long lines."""
        limit = self.max_line_bytes
        if not batch or (not self._open and max(map(len, map(_data, batch))) < limit):
            return batch
        out = []
        for raw in batch:
            opened = self._open.get(raw.file)
            if opened is not None and opened == (raw.line, raw.offset):  # a later piece of an open line
                if len(raw.data) < limit:
                    del self._open[raw.file]
                else:
                    self._open[raw.file] = (raw.line, raw.offset + len(raw.data))
                continue
            if len(raw.data) >= limit:
                self._open[raw.file] = (raw.line, raw.offset + len(raw.data))
            out.append(raw)
        return out


def _data(raw: RawLine) -> bytes:
    return raw.data
