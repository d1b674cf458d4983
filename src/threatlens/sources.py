"""Read whole inputs (plain files, ``.gz`` archives, standard input) as batches of ``RawLine``."""

from __future__ import annotations

import contextlib
import gzip
import os
import sys
from collections.abc import Callable, Iterator
from itertools import accumulate, count, repeat
from typing import BinaryIO

from threatlens.errors import SourceError
from threatlens.parsers.record import RawLine

CHUNK_BYTES = 1 << 20
_new = tuple.__new__


def _next_offset(offset: int, length: int) -> int:
    return offset + length + 1
BATCH_LINES = 2000


def open_source(path: str) -> tuple[BinaryIO, int | None]:
    """Open ``path`` (``-`` is standard input) and return the binary stream and its size if known."""
    if path == "-":
        return sys.stdin.buffer, None
    try:
        if os.path.isdir(path):
            raise SourceError(f"{path}: is a directory")
        raw = open(path, "rb")  # noqa: SIM115 - returned to the caller
        size = os.fstat(raw.fileno()).st_size
        magic = raw.read(2)
        raw.seek(0)
        if magic == b"\x1f\x8b":
            return gzip.GzipFile(fileobj=raw, mode="rb"), size  # type: ignore[return-value]
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
    number = 0
    offset = 0
    pending = b""
    batch: list[RawLine] = []
    while True:
        try:
            chunk = stream.read(CHUNK_BYTES)
        except (OSError, EOFError) as exc:  # truncated .gz, I/O error
            raise SourceError(f"{name}: read error after line {number}: {exc}") from None
        if not chunk:
            break
        buffer = pending + chunk
        pieces = buffer.split(b"\n")
        pending = pieces.pop()
        if not pieces:
            continue
        offsets = list(accumulate(map(len, pieces), _next_offset, initial=offset))
        offset = offsets.pop()
        if b"\r" in buffer:
            pieces = [p[:-1] if p[-1:] == b"\r" else p for p in pieces]
        batch.extend(map(_new, repeat(RawLine), zip(repeat(name), count(number + 1), offsets, pieces)))
        number += len(pieces)
        while len(batch) >= batch_lines:
            yield batch[:batch_lines]
            del batch[:batch_lines]
        if on_progress is not None:
            with contextlib.suppress(OSError, ValueError):
                on_progress(underlying.tell())
    if pending:
        number += 1
        batch.append(RawLine(name, number, offset, pending[:-1] if pending[-1] == 13 else pending))
    if batch:
        yield batch

