"""One opened log file (one inode): its identity, read position and line assembly."""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable
from zlib import crc32

from threatlens.parsers.record import RawLine
from threatlens.tail.lines import LineAssembler, Notify
from threatlens.tail.position import count_newlines

Emit = Callable[[list[RawLine], int], None]

#: Bytes read per system call.
CHUNK_BYTES = 512 << 10
#: Bytes kept from just before the read position, to notice a file rewritten in place
#: (enough to span several lines: line endings alone, e.g. a common user agent, repeat).
_TAIL_BYTES = 4096
#: Bytes of the file's start kept to tell "cut back" (same start) from "rewritten" after a truncation.
_HEAD_BYTES = 4096
#: Recently read lines remembered (offset, number, length, CRC) to resume after a cut without repeats.
RECENT_LINES = 1024


class OpenFile:
    """An open descriptor on one inode plus everything needed to continue reading it.

    The position is a byte offset we keep ourselves (``os.pread``), never the
    descriptor's. ``read`` notices truncation (size below our offset, or the bytes just
    before our offset changed: truncated and already rewritten past it). What follows:

    * the file's first bytes are no longer the ones read (copytruncate, then new writes): it
      is read again from 0, line numbers from 1, and an unfinished last line joins the first
      bytes written after the truncation (the same writer goes on with its line);
    * its first bytes are unchanged (cut back to a smaller size, ``truncate -s``): reading goes
      on after the last of the recently read lines still there intact, so nothing is
      delivered twice and lines written after the cut are read once; cut back further than
      :data:`RECENT_LINES` lines, it goes on at the new end.
    """

    def __init__(
        self,
        fd: int,
        st: os.stat_result,
        name: str,
        *,
        offset: int,
        line: int,
        max_line_bytes: int,
        notify: Notify,
    ) -> None:
        self.fd = fd
        self.identity = (st.st_dev, st.st_ino)
        self.name = name
        self.notify = notify
        self.asm = LineAssembler(name, pos=offset, line=line, max_line_bytes=max_line_bytes, notify=notify)
        keep = min(_TAIL_BYTES, offset)
        self.tail = os.pread(fd, keep, offset - keep) if keep else b""
        self.head = os.pread(fd, min(_HEAD_BYTES, offset), 0) if offset else b""
        self.recent: deque[tuple[int, int, int, int]] = deque(maxlen=RECENT_LINES)
        self.last_growth = time.monotonic()
        self.rotated_at: float | None = None
        self.partial_flushed = False
        self.at_eof = False
        self.skip_nul = False
        self.lines_read = 0
        self.bytes_read = 0

    @property
    def offset(self) -> int:
        """Offset of the next byte to read."""
        return self.asm.pos

    def close(self) -> None:
        """Close the descriptor (idempotent)."""
        if self.fd >= 0:
            try:
                os.close(self.fd)
            finally:
                self.fd = -1

    def links(self) -> int:
        """Number of directory entries still naming this inode (0 once deleted)."""
        try:
            return os.fstat(self.fd).st_nlink
        except OSError:
            return 0

    def flush(self, emit: Emit) -> None:
        """Deliver a held-back final line that has no newline."""
        raw = self.asm.flush()
        if raw is not None:
            self.lines_read += 1
            emit([raw], len(raw.data))

    def read(self, budget: int, emit: Emit) -> bool:
        """Read new data (at most ``budget`` bytes), emitting complete lines per chunk.

        Every read also fetches the bytes just before our offset and compares them with
        what we read there before, in the same system call: a file truncated (and
        perhaps already rewritten past our offset) is noticed even if it changes between
        two of our looks. Returns True when the budget ran out before the end of the file.
        """
        fd = self.fd
        if self.skip_nul:
            self._skip_hole()
        while budget > 0:
            pos = self.asm.pos
            keep = len(self.tail)
            buf = os.pread(fd, keep + min(CHUNK_BYTES, budget), pos - keep)
            if keep and buf[:keep] != self.tail:
                if self._resume_after_cut(emit):
                    continue
                if len(buf) < keep:
                    self._restart(emit, f"{self.name}: truncated (copytruncate?); reading it again from the start")
                else:
                    self._restart(emit, f"{self.name}: rewritten in place (truncated, then grew); reading it again")
                self._skip_hole()
                continue
            data = buf[keep:] if keep else buf
            if not data:
                self.at_eof = True
                return False
            self.at_eof = False
            self.last_growth = time.monotonic()
            budget -= len(data)
            if self.skip_nul:
                stripped = data.lstrip(b"\0")
                self._skip(len(data) - len(stripped))
                if not stripped:
                    continue
                self.skip_nul = False
                data = stripped
            lines = self.asm.feed(data)
            if lines:
                self.recent.extend([(r.offset, r.line, len(r.data), crc32(r.data)) for r in lines[-RECENT_LINES:]])
            if len(self.head) < _HEAD_BYTES and self.asm.pos > len(self.head):
                self.head = os.pread(fd, _HEAD_BYTES, 0)
            tail = self.tail + data if len(data) < _TAIL_BYTES else data
            self.tail = tail[-_TAIL_BYTES:]
            self.bytes_read += len(data)
            self.lines_read += len(lines)
            emit(lines, len(data))
        self.at_eof = False
        return True

    def _restart(self, emit: Emit, message: str) -> None:
        """Read again from 0: new content. An unfinished line is the writer's: its next bytes are at the start."""
        unfinished = self.asm.partial
        self.notify("warning", message)
        self.asm = LineAssembler(self.name, pos=0, line=0, max_line_bytes=self.asm.max_line_bytes, notify=self.notify)
        if unfinished:
            self.asm.carry(unfinished)
        self.tail = b""
        self.head = b""
        self.recent.clear()
        self.skip_nul = not unfinished
        self.partial_flushed = False

    def _resume_after_cut(self, emit: Emit) -> bool:
        """After a truncation that kept the file's start: go on after the last intact recent line.

        Returns False (read again from 0) when the start changed, or nothing was read yet.
        """
        fd = self.fd
        size = os.fstat(fd).st_size
        resume: tuple[int, int] | None = None
        for offset, number, length, crc in reversed(self.recent):
            if offset + length >= size:
                continue
            got = os.pread(fd, length + 2, offset)
            if crc32(got[:length]) == crc and got[length:length + 1] in (b"\n", b"\r"):
                resume = (offset + length + (2 if got[length:length + 2] == b"\r\n" else 1), number)
                break
        head = self.head[:size if resume is None else resume[0]]
        if not head or os.pread(fd, len(head), 0) != head:
            return False
        self.flush(emit)  # an unfinished line of the part cut away: delivered, not lost
        if resume is None:
            resume = (size, count_newlines(fd, size, size) or 0)
            how = f"more than {RECENT_LINES} lines were cut: going on at its new end"
        else:
            how = f"going on after line {resume[1]}, the last one read that is still there (nothing read twice)"
        self.notify("warning", f"{self.name}: cut back to {size} bytes with its start unchanged; {how}")
        self.asm = LineAssembler(self.name, pos=resume[0], line=resume[1], max_line_bytes=self.asm.max_line_bytes,
                                 notify=self.notify)
        keep = min(_TAIL_BYTES, resume[0])
        self.tail = os.pread(fd, keep, resume[0] - keep) if keep else b""
        while self.recent and self.recent[-1][1] > resume[1]:
            self.recent.pop()
        return True

    def _skip_hole(self) -> None:
        # A writer without O_APPEND keeps writing at its old offset after copytruncate and
        # leaves a hole of zero bytes before its new lines; jump over it instead of reading it.
        pos = self.asm.pos
        try:
            data_at = os.lseek(self.fd, pos, os.SEEK_DATA)
        except (OSError, AttributeError):  # no data after pos yet, or no SEEK_DATA here
            return
        self._skip(data_at - pos)

    def _skip(self, nbytes: int) -> None:
        if nbytes <= 0:
            return
        self.asm.skip(nbytes)
        self.tail = b""
        self.notify(
            "warning",
            f"{self.name}: skipped {nbytes} zero bytes at offset {self.asm.pos - nbytes} "
            "(a writer that does not append left a hole after the truncation)",
        )


