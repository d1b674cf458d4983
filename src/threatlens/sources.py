"""Read whole inputs (plain files, ``.gz`` archives, standard input) as batches of ``RawLine``."""

from __future__ import annotations

import contextlib
import gzip
import os
import sys
from collections.abc import Callable, Iterator
from typing import BinaryIO

from threatlens.errors import SourceError
from threatlens.parsers.base import MAX_LINE_BYTES
from threatlens.parsers.record import RawLine
from threatlens.tail.lines import LineAssembler

CHUNK_BYTES = 1 << 20
BATCH_LINES = 2000


def open_source(path: str) -> tuple[BinaryIO, int | None]:
    """Open ``path`` (``-`` is standard input) and return the binary stream and its size if known."""
    if path == "-":
        if sys.stdin is None:
            raise SourceError("standard input (-) is closed")
        return sys.stdin.buffer, None
    try:
        if os.path.isdir(path):
            raise SourceError(f"{path}: is a directory")
        raw = open(path, "rb")  # noqa: SIM115 - returned to the caller
        size = os.fstat(raw.fileno()).st_size
        magic = raw.read(2)
        raw.seek(0)
        if magic == b"\x1f\x8b":
            raw.close()  # the archive opens its own file, so closing it closes the file too
            return gzip.GzipFile(path, mode="rb"), size  # type: ignore[return-value]
        return raw, size
    except SourceError:
        raise
    except OSError as exc:
        raise SourceError(f"cannot open {path}: {exc.strerror or exc}") from None


def check_readable(path: str) -> None:
    """Raise ``SourceError`` with a clear message if ``path`` cannot be read."""
    stream, _ = open_source(path)
    if path != "-":
        stream.close()


def iter_batches(
    path: str,
    *,
    batch_lines: int = BATCH_LINES,
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[list[RawLine]]:
    r"""Yield batches of complete lines with 1-based numbers and byte offsets.

    ``on_progress`` receives the number of compressed/raw bytes consumed so far (for a progress
    bar). A last line without a newline is delivered too. ``\\r\\n`` endings are stripped.
    """
    stream, _ = open_source(path)
    try:
        yield from stream_batches(stream, path, batch_lines=batch_lines, on_progress=on_progress)
    finally:
        if path != "-":
            stream.close()


def stream_batches(
    stream: BinaryIO,
    name: str,
    *,
    batch_lines: int = BATCH_LINES,
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[list[RawLine]]:
    """:func:`iter_batches` over an open binary stream whose lines are reported as file ``name``."""
    underlying = getattr(stream, "fileobj", None) or stream
    # A line longer than the parser takes comes in pieces sharing its number: the first piece, cut
    # to just over the limit, stands for the line (unparsed, "line too long"); the rest is dropped,
    # so a line without a newline (or /dev/zero) never fills memory.
    lines = LineAssembler(name, max_line_bytes=MAX_LINE_BYTES + 1)
    batch: list[RawLine] = []
    last = 0
    while True:
        try:
            chunk = stream.read(CHUNK_BYTES)
        except (OSError, EOFError) as exc:  # truncated .gz, I/O error
            raise SourceError(f"{name}: read error after line {lines.line}: {exc}") from None
        if not chunk:
            break
        for raw in lines.feed(chunk):
            if raw.line != last:
                batch.append(raw if len(raw.data) <= MAX_LINE_BYTES + 1 else raw._replace(
                    data=raw.data[:MAX_LINE_BYTES + 1]))
                last = raw.line
        while len(batch) >= batch_lines:
            yield batch[:batch_lines]
            del batch[:batch_lines]
        if on_progress is not None:
            with contextlib.suppress(OSError, ValueError):
                on_progress(underlying.tell())
    end = lines.flush()
    if end is not None and end.line != last:
        batch.append(end._replace(data=end.data[:MAX_LINE_BYTES + 1]))
    if batch:
        yield batch

