"""Read lines from a pipe or standard input until end of file."""

from __future__ import annotations

import os
import select
from collections.abc import Callable
from typing import BinaryIO

from threatlens.tail.lines import LineAssembler, Notify
from threatlens.tail.openfile import CHUNK_BYTES, Emit

_SELECT_TIMEOUT = 0.1


class StreamReader:
    """Reads one binary stream (stdin, a pipe) into lines; ``run`` returns at end of file or on stop.

    Offsets count bytes from where reading began. With a real descriptor the reader
    waits with ``select`` so it notices a stop request even while the pipe is silent.
    """

    def __init__(
        self,
        name: str,
        stream: BinaryIO,
        emit: Emit,
        notify: Notify,
        stopping: Callable[[], bool],
        *,
        max_line_bytes: int,
    ) -> None:
        self.name = name
        self.stream = stream
        self.emit = emit
        self.notify = notify
        self.stopping = stopping
        self.asm = LineAssembler(name, max_line_bytes=max_line_bytes, notify=notify)
        self.ended = False
        self.lines_read = 0
        self.bytes_read = 0

    def _fileno(self) -> int | None:
        try:
            return self.stream.fileno()
        except (AttributeError, OSError, ValueError):
            return None

    def _read(self, fd: int | None) -> bytes | None:
        """Return the next chunk, ``b""`` at end of file, None when nothing arrived yet."""
        if fd is None:
            read1 = getattr(self.stream, "read1", None)
            return read1(CHUNK_BYTES) if read1 is not None else self.stream.read(CHUNK_BYTES)
        try:
            ready, _, _ = select.select([fd], [], [], _SELECT_TIMEOUT)
        except (OSError, ValueError):  # not selectable: a plain blocking read
            ready = [fd]
        if not ready:
            return None
        try:
            return os.read(fd, CHUNK_BYTES)
        except BlockingIOError:
            return None

    def run(self) -> None:
        """Read until end of file or until ``stopping()``; the last unfinished line is delivered."""
        fd = self._fileno()
        try:
            while not self.stopping():
                data = self._read(fd)
                if data is None:
                    continue
                if not data:
                    self.ended = True
                    break
                lines = self.asm.feed(data)
                self.emit(lines, len(data))
                self.lines_read += len(lines)
                self.bytes_read += len(data)
        except OSError as exc:
            self.notify("error", f"{self.name}: read error ({exc.strerror or exc}); no more lines from it")
        finally:
            raw = self.asm.flush()
            if raw is not None:
                self.emit([raw], len(raw.data))
                self.lines_read += 1
        if self.ended:
            self.notify("info", f"{self.name}: end of input")
