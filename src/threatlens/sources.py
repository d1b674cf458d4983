"""Read whole inputs (plain files, ``.gz`` archives, standard input) as batches of ``RawLine``."""

from __future__ import annotations

import contextlib
import gzip
import os
import select
import stat
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from operator import itemgetter
from typing import BinaryIO

from threatlens.errors import ReadError, SourceError
from threatlens.parsers.base import MAX_LINE_BYTES
from threatlens.parsers.record import RawLine
from threatlens.tail.lines import LineAssembler

CHUNK_BYTES = 1 << 20
_data = itemgetter(3)  # RawLine.data
BATCH_LINES = 2000


Notify = Callable[[str], None]
#: How long opening a FIFO may wait for its writer before saying so.
FIFO_NOTICE_AFTER = 0.3


def _stderr(text: str) -> None:
    print(f"threatlens: {text}", file=sys.stderr, flush=True)


def open_source(path: str, notify: Notify | None = None, name: str | None = None) -> tuple[BinaryIO, int | None]:
    """Open ``path`` (``-`` is standard input) and return the binary stream and its size if known.

    Any input is read as a stream, never seeked: ``<(cat f)`` and pipes work, and ``.gz`` is told
    by its first bytes from the read buffer. Opening a FIFO waits for a writer; after
    :data:`FIFO_NOTICE_AFTER` seconds ``notify`` (default: standard error) says so. A failure
    raises :class:`ReadError` (line 0) naming the input ``name`` (default ``path``).
    """
    name = path if name is None else name
    if path == "-":
        if sys.stdin is None:
            raise ReadError(name, 0, "closed", "standard input (-) is closed")
        return sys.stdin.buffer, None
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise ReadError(name, 0, "is a directory", f"{name}: is a directory")
        fd = _open_fifo(path, notify or _stderr) if stat.S_ISFIFO(st.st_mode) else os.open(path, os.O_RDONLY)
        raw = os.fdopen(fd, "rb")
    except SourceError:
        raise
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ReadError(name, 0, f"cannot open: {reason}", f"cannot open {name}: {reason}") from None
    try:
        opened = os.fstat(fd)
        size = opened.st_size if stat.S_ISREG(opened.st_mode) else None
        if raw.peek(2)[:2] == b"\x1f\x8b":
            return gzip.GzipFile(filename=path, mode="rb", fileobj=raw), size  # type: ignore[return-value]
        return raw, size
    except OSError as exc:  # the first read failed (EIO): opened, but nothing can be read
        raw.close()
        raise ReadError(name, 0, exc.strerror or str(exc)) from None


def _open_fifo(path: str, notify: Notify) -> int:
    """A descriptor on the FIFO ``path`` once a writer has opened it (saying so if that takes a while).

    The blocking open runs in a helper thread so that the wait can be announced and Ctrl-C ends it.
    """
    done: list[int | BaseException] = []

    def opener() -> None:
        try:
            done.append(os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)))
        except OSError as exc:
            done.append(exc)

    thread = threading.Thread(target=opener, name=f"open {path}", daemon=True)
    thread.start()
    thread.join(FIFO_NOTICE_AFTER)
    if thread.is_alive():
        notify(f"{path}: waiting for a writer on this FIFO (Ctrl-C to stop)")
        while thread.is_alive():
            thread.join(0.5)
    result = done[0]
    if isinstance(result, BaseException):
        raise result
    return result


def close_source(stream: BinaryIO) -> None:
    """Close a stream from :func:`open_source` and the file under it (a ``.gz`` does not close its file)."""
    underlying = getattr(stream, "fileobj", None)
    stream.close()
    if underlying is not None:
        underlying.close()


def check_readable(path: str) -> None:
    """Raise :class:`ReadError` with a clear message if ``path`` cannot be read.

    A regular file is opened and closed; a pipe, FIFO or device only has its permissions checked:
    opening a FIFO would wait for a writer, and reading a pipe would take the data from the scan.
    """
    if path == "-":
        open_source(path)
        return
    try:
        st = os.stat(path)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ReadError(path, 0, f"cannot open: {reason}", f"cannot open {path}: {reason}") from None
    if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
        close_source(open_source(path)[0])
    elif not os.access(path, os.R_OK):
        raise ReadError(path, 0, "cannot open: Permission denied", f"cannot open {path}: Permission denied")


def is_stream(path: str) -> bool:
    """Whether ``path`` can be read only once, as it comes: standard input (-), a pipe, a FIFO, a device.

    A regular file or a directory is not, nor a path that does not exist: opening those fails the
    same way in every process, and the scan reports it.
    """
    if path == "-":
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def iter_batches(
    path: str,
    *,
    batch_lines: int = BATCH_LINES,
    on_progress: Callable[[int], None] | None = None,
    notify: Notify | None = None,
) -> Iterator[list[RawLine]]:
    r"""Yield batches of complete lines with 1-based numbers and byte offsets.

    ``on_progress`` receives the number of compressed/raw bytes consumed so far (for a progress
    bar). A last line without a newline is delivered too. ``\\r\\n`` endings are stripped.
    ``notify`` gets the notice that a FIFO waits for its writer.
    """
    stream, _ = open_source(path, notify)
    try:
        yield from stream_batches(stream, path, batch_lines=batch_lines, on_progress=on_progress)
    finally:
        if path != "-":
            close_source(stream)


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
    # A pipe, FIFO or terminal: take what has arrived (read1) and hand on a partial batch when the writer
    # pauses, so `tail -f log | threatlens scan -` reports lines as they come and Ctrl-C loses none read.
    # Regular files keep whole batches (the parallel scan relies on the same batches in every process).
    fd = _stream_fd(underlying)
    # A .gz is read a decompression step at a time (read1): a truncated archive then loses only the bytes
    # of the step that hit its cut, not a whole chunk's worth of lines.
    gz = isinstance(stream, gzip.GzipFile)
    read = getattr(stream, "read1", stream.read) if fd is not None or gz else stream.read
    failed: ReadError | None = None
    while True:
        try:
            chunk = read(CHUNK_BYTES)
        except (OSError, EOFError, zlib.error) as exc:  # cut or corrupt .gz, I/O error: the lines read so far go first
            failed = ReadError(name, lines.line, str(exc) or type(exc).__name__)
            break
        if not chunk:
            break
        got = lines.feed(chunk)
        # only the first line of a chunk can be a later piece of a long line (its number is the last one's)
        if got and got[0].line != last and max(map(len, map(_data, got))) <= MAX_LINE_BYTES + 1:
            batch += got
            last = got[-1].line
        else:
            for raw in got:
                if raw.line != last:
                    batch.append(raw if len(raw.data) <= MAX_LINE_BYTES + 1 else raw._replace(
                        data=raw.data[:MAX_LINE_BYTES + 1]))
                    last = raw.line
        while len(batch) >= batch_lines:
            yield batch[:batch_lines]
            del batch[:batch_lines]
        if batch and fd is not None and not _readable_now(fd):
            yield batch
            batch = []
        if on_progress is not None:
            with contextlib.suppress(OSError, ValueError):
                on_progress(underlying.tell())
    if failed is not None:  # a line cut by the error is not a line the server wrote: it is not delivered
        if batch:
            yield batch
        raise failed
    end = lines.flush()
    if end is not None and end.line != last:
        batch.append(end._replace(data=end.data[:MAX_LINE_BYTES + 1]))
    if batch:
        yield batch



def _stream_fd(stream: object) -> int | None:
    """The descriptor of a stream that is not a regular file (pipe, FIFO, terminal); ``None`` otherwise."""
    try:
        fd = stream.fileno()  # type: ignore[attr-defined]
        mode = os.fstat(fd).st_mode
    except (AttributeError, OSError, ValueError):
        return None
    return None if stat.S_ISREG(mode) else int(fd)


def _readable_now(fd: int) -> bool:
    """Whether more bytes can be read from ``fd`` without waiting (or it is at its end)."""
    try:
        return bool(select.select([fd], [], [], 0)[0])
    except (OSError, ValueError):
        return True
