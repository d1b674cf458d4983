"""A bounded hand-off of lines from reader threads to one consumer, delivered in batches."""

from __future__ import annotations

import threading
import time
from collections import deque

from threatlens.parsers.record import RawLine


class BatchQueue:
    """Lines waiting for the consumer, with backpressure and batching.

    Producers call :meth:`put`; it blocks while ``max_pending_lines`` lines or
    ``max_pending_bytes`` bytes are waiting, so a slow consumer stalls the readers
    instead of growing memory (lines stay in the file until there is room).
    :meth:`get` returns up to ``max_batch_lines`` lines; after a delivery the next one
    waits until ``batch_interval`` has passed unless a full batch is ready, so a busy
    source gives a few large batches a second while a quiet one is delivered at once.
    """

    def __init__(
        self,
        *,
        batch_interval: float = 0.1,
        max_batch_lines: int = 5000,
        max_pending_lines: int = 100_000,
        max_pending_bytes: int = 64 << 20,
        producers: int = 1,
    ) -> None:
        if max_batch_lines < 1 or max_pending_lines < 1:
            raise ValueError("max_batch_lines and max_pending_lines must be at least 1")
        self.batch_interval = batch_interval
        self.max_batch_lines = max_batch_lines
        self.max_pending_lines = max_pending_lines
        self.max_pending_bytes = max_pending_bytes
        self._cond = threading.Condition()
        self._chunks: deque[list[RawLine]] = deque()
        self._head = 0  # lines of _chunks[0] already delivered
        self._lines = 0
        self._bytes = 0
        self._producers = producers
        self._unbounded = False
        self._last_delivery = float("-inf")

    @property
    def pending(self) -> int:
        """Number of lines waiting for the consumer."""
        return self._lines

    @property
    def closed(self) -> bool:
        """True once every producer is done (the consumer may still have lines to take)."""
        return self._producers <= 0

    def put(self, lines: list[RawLine], nbytes: int) -> None:
        """Queue ``lines`` (``nbytes`` of data), waiting while the queue is full."""
        if not lines:
            return
        with self._cond:
            while not self._unbounded and (
                self._lines >= self.max_pending_lines or self._bytes >= self.max_pending_bytes
            ):
                self._cond.wait()
            self._chunks.append(lines)
            self._lines += len(lines)
            self._bytes += nbytes
            self._cond.notify_all()

    def release(self) -> None:
        """Never block producers again (used while stopping, so readers can finish)."""
        with self._cond:
            self._unbounded = True
            self._cond.notify_all()

    def producer_done(self) -> None:
        """Record that one producer will put no more lines."""
        with self._cond:
            self._producers -= 1
            self._cond.notify_all()

    def close(self) -> None:
        """End the queue now, as if every producer were done."""
        with self._cond:
            self._producers = 0
            self._cond.notify_all()

    def get(self, timeout: float | None = None) -> list[RawLine] | None:
        """Return the next batch.

        Waits for lines; returns ``[]`` when none arrived within ``timeout`` seconds and
        ``None`` once all producers are done and everything was delivered.
        """
        cond = self._cond
        deadline = None if timeout is None else time.monotonic() + timeout
        with cond:
            while True:
                now = time.monotonic()
                if self._lines:
                    ready_at = self._last_delivery + self.batch_interval
                    if self._lines >= self.max_batch_lines or self._producers <= 0 or now >= ready_at:
                        break
                    cond.wait(ready_at - now)
                    continue
                if self._producers <= 0:
                    return None
                if deadline is None:
                    cond.wait()
                else:
                    if now >= deadline:
                        return []
                    cond.wait(deadline - now)
            batch = self._take(self.max_batch_lines)
            self._last_delivery = time.monotonic()
            cond.notify_all()
            return batch

    def _take(self, limit: int) -> list[RawLine]:
        batch: list[RawLine] = []
        chunks = self._chunks
        while chunks and len(batch) < limit:
            chunk = chunks[0]
            want = limit - len(batch)
            end = self._head + want
            if self._head == 0 and end >= len(chunk):
                if batch:
                    batch.extend(chunk)
                else:
                    batch = chunk
                chunks.popleft()
            else:
                batch.extend(chunk[self._head : end])
                if end >= len(chunk):
                    chunks.popleft()
                    self._head = 0
                else:
                    self._head = end
        self._lines -= len(batch)
        self._bytes -= sum(len(r.data) + 1 for r in batch)
        if not self._lines:
            self._bytes = 0
        return batch
