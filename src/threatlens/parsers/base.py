"""What every line parser offers, and the shared handling of bad input."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from threatlens.errors import ParseError
from threatlens.parsers.record import LogRecord, RawLine, Unparsed

#: Lines longer than this are reported unparsed ("line too long") rather than matched.
MAX_LINE_BYTES = 65_536


def decode(data: bytes) -> str:
    r"""Bytes to text without loss of information: invalid UTF-8 bytes become ``\xHH``."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", "backslashreplace")


def precheck(data: bytes, max_bytes: int) -> str | None:
    """The reason a line cannot be a log line at all, or ``None`` if it may be one."""
    if not data or data.isspace():
        return "empty line"
    if len(data) > max_bytes:
        return f"line too long (over {max_bytes:,} bytes)"
    if b"\x00" in data:  # no access log writes a NUL: binary data, or a line of two glued by one
        return describe_garbage(data)
    return None


def describe_garbage(data: bytes) -> str | None:
    """Name binary input such as a TLS handshake sent to a plain-HTTP port."""
    if data[:1] == b"\x16" and data[1:2] == b"\x03":
        return "binary data (TLS handshake bytes)"
    if b"\x00" in data:
        return "binary data (contains NUL bytes)"
    controls = sum(1 for b in data[:512] if b < 0x20 and b not in (0x09,))
    if controls > 4:
        return "binary data (control characters)"
    return None


class LineParser:
    """Base class: ``parse_raw`` turns one ``RawLine`` into a record or an ``Unparsed``."""

    name: str = "?"
    description: str = ""
    #: How many record fields the format fills; auto-detection prefers more specific formats.
    specificity: int = 0
    max_bytes: int = MAX_LINE_BYTES

    def parse_raw(self, raw: RawLine) -> LogRecord | Unparsed:  # pragma: no cover - abstract
        """Parse one line; never raises."""
        raise NotImplementedError

    def parse(self, line: str | bytes, *, file: str = "-", number: int = 1, offset: int = 0) -> LogRecord:
        """Parse one line or raise ``ParseError`` carrying the line and the reason."""
        data = line.encode("utf-8", "surrogateescape") if isinstance(line, str) else line
        result = self.parse_raw(RawLine(file, number, offset, data.rstrip(b"\r\n")))
        if isinstance(result, Unparsed):
            raise ParseError(result.reason, line)
        return result

    def parse_lines(self, lines: Iterable[RawLine]) -> Iterator[LogRecord | Unparsed]:
        """Yield exactly one result per line, in order; never stops on bad input."""
        parse_raw = self.parse_raw
        for raw in lines:
            yield parse_raw(raw)

    def parse_batch(self, lines: Iterable[RawLine]) -> list[LogRecord | Unparsed]:
        """Parse a batch into a list (one result per line)."""
        parse_raw = self.parse_raw
        return [parse_raw(raw) for raw in lines]
