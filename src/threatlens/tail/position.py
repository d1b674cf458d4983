"""Find where to start reading an existing file: its end, or its last N lines, without reading it all."""

from __future__ import annotations

import os

_BLOCK = 64 << 10
_COUNT_BLOCK = 1 << 20


def start_of_last_lines(fd: int, size: int, n: int, *, max_scan: int | None = None) -> int:
    """Return the offset where the last ``n`` lines of the file begin.

    Reads backwards from ``size`` in blocks, so only the tail is touched. A final line
    without a newline counts as a line. ``n == 0`` gives the start of that unfinished
    final line (or ``size``), so following from there delivers it whole. When
    ``max_scan`` bytes were searched without finding the boundary, ``size`` is returned
    for ``n == 0`` (a file with no line breaks near its end) and 0 otherwise.
    """
    if size <= 0:
        return 0
    ends_with_newline = os.pread(fd, 1, size - 1) == b"\n"
    wanted = max(n + (1 if ends_with_newline else 0), 1)  # newlines to pass, counting from the end
    pos = size
    while pos > 0:
        if max_scan is not None and size - pos >= max_scan:
            return size if n == 0 else 0
        start = max(0, pos - _BLOCK)
        block = os.pread(fd, pos - start, start)
        if not block:  # the file shrank under us
            return 0
        found = block.count(b"\n")
        if found < wanted:
            wanted -= found
            pos = start
            continue
        idx = len(block)
        for _ in range(wanted):
            idx = block.rindex(b"\n", 0, idx)
        return start + idx + 1
    return 0


def count_newlines(fd: int, end: int, limit: int) -> int | None:
    """Count line breaks in the first ``end`` bytes, or return None when ``end > limit``."""
    if end > limit:
        return None
    total = 0
    pos = 0
    while pos < end:
        block = os.pread(fd, min(_COUNT_BLOCK, end - pos), pos)
        if not block:
            break
        total += block.count(b"\n")
        pos += len(block)
    return total
