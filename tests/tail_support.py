"""Helpers shared by the tail tests (no tests here): a thread-safe collector with condition waits."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from threatlens.parsers.record import RawLine
from threatlens.tail import Follower

WAIT = 20.0  # generous: a loaded 2-core CI machine; a passing run never waits this long


class Collector:
    """Receives batches and messages from a follower; tests wait on conditions over them."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.lines: list[RawLine] = []
        self.batches: list[list[RawLine]] = []
        self.messages: list[tuple[str, str]] = []

    def on_batch(self, batch: list[RawLine]) -> None:
        with self.cond:
            self.batches.append(list(batch))
            self.lines.extend(batch)
            self.cond.notify_all()

    def on_message(self, level: str, text: str) -> None:
        with self.cond:
            self.messages.append((level, text))
            self.cond.notify_all()

    def wait(self, pred: Callable[[Collector], bool], what: str, timeout: float = WAIT) -> None:
        with self.cond:
            ok = self.cond.wait_for(lambda: pred(self), timeout)
            if not ok:
                raise AssertionError(
                    f"timed out waiting for {what}; last lines={self.data()[-5:]} messages={self.messages}"
                )

    def data(self, file: str | None = None) -> list[bytes]:
        with self.cond:
            return [r.data for r in self.lines if file is None or r.file == file]

    def wait_data(self, expected: list[bytes], file: str | None = None, timeout: float = WAIT) -> None:
        """Wait until the delivered data (for ``file``) has ``len(expected)`` lines, then compare."""
        n = len(expected)
        self.wait(lambda c: len(c.data(file)) >= n, f"{n} lines from {file or 'any file'}", timeout)
        assert self.data(file) == expected

    def wait_count(self, n: int, file: str | None = None) -> None:
        self.wait(lambda c: len(c.data(file)) >= n, f"{n} lines from {file or 'any file'}")

    def wait_message(self, *words: str) -> str:
        def found(c: Collector) -> bool:
            return any(all(w in t for w in words) for _, t in c.messages)

        self.wait(found, f"a message with {words}")
        return next(t for _, t in self.messages if all(w in t for w in words))

    def has_message(self, *words: str) -> bool:
        with self.cond:
            return any(all(w in t for w in words) for _, t in self.messages)


def follow(paths: list[Path] | list[str], col: Collector, **options: Any) -> Follower:
    """A started callback-mode follower with test-friendly timings (tests stop it themselves)."""
    opts: dict[str, Any] = {"batch_interval": 0.01, "rotate_grace": 0.2, "rotate_linger": 2.0}
    opts.update(options)
    f = Follower([str(p) for p in paths], on_batch=col.on_batch, on_message=col.on_message, **opts)
    return f.start()


def append(path: Path | str, data: bytes) -> None:
    with open(path, "ab") as fh:
        fh.write(data)


def numbered(prefix: str, start: int, stop: int) -> list[bytes]:
    return [f"{prefix} {i}".encode() for i in range(start, stop)]


def join_lines(lines: list[bytes]) -> bytes:
    return b"".join(x + b"\n" for x in lines)


def wait_bytes_read(f: Follower, n: int, timeout: float = WAIT) -> None:
    """Wait until the follower has consumed ``n`` bytes (complete lines or not)."""
    deadline = time.monotonic() + timeout
    while f.bytes_read < n:
        if time.monotonic() > deadline:
            raise AssertionError(f"follower read {f.bytes_read} bytes, expected {n}")
        time.sleep(0.005)


def check_numbering(lines: list[RawLine]) -> None:
    """Within each file followed (a run restarts at line 1), numbers and offsets are consecutive."""
    prev: RawLine | None = None
    for r in lines:
        if prev is not None and r.line != 1:
            assert r.line == prev.line + 1, (prev, r)
            assert r.offset == prev.offset + len(prev.data) + 1, (prev, r)
        prev = r


def can_symlink(tmp: Path) -> bool:
    try:
        os.symlink(tmp / "x", tmp / ".probe")
    except OSError:
        return False
    os.unlink(tmp / ".probe")
    return True
