"""Per-IP state in fixed-size numpy columns: bounded LRU with expiry, bulk eviction."""

from __future__ import annotations

import numpy as np

#: Integer counters kept per IP for the current burst (also the baseline's raw features).
COUNTERS: tuple[str, ...] = (
    "count", "n4xx", "n3xx", "nauth", "npost", "nhead", "nstatic", "ncrawler", "nflag", "sum_score",
    "sum_logbytes",
)


class IpTable:
    """Slots of per-IP state. ``slot_of`` maps IP → slot; at most ``max_ips`` slots ever exist.

    When full, IPs idle longer than the expiry go first, then the least recently active ones, in
    bulk (an eighth of the table at a time), so a flood of new IPs costs amortised O(1) per IP.
    """

    def __init__(self, max_ips: int) -> None:
        if max_ips < 1:
            raise ValueError("max_ips must be at least 1")
        self.max_ips = max_ips
        self.slot_of: dict[str, int] = {}
        self.capacity = 0
        self.free: list[int] = []
        self.ip = np.empty(0, dtype=object)
        self.last_ts = np.empty(0)
        self.burst_id = np.empty(0, dtype=np.int64)
        self.burst_start = np.empty(0)
        self.first_line = np.empty(0, dtype=np.int64)
        self.first_file = np.empty(0, dtype=object)
        self.counters = np.empty((0, len(COUNTERS)))
        self.bucket = np.empty(0, dtype=np.int64)
        self.cur = np.empty(0)
        self.prev = np.empty(0)
        self.ua = np.empty(0, dtype="S16")  #: digest of the burst's first user agent (tracker.agent_digest)
        self.b10 = np.empty(0, dtype=np.int64)
        self.c10 = np.empty(0)
        self._grow(min(max_ips, 1024))

    def __len__(self) -> int:
        return len(self.slot_of)

    def _grow(self, new_capacity: int) -> None:
        old = self.capacity
        extra = new_capacity - old

        def ext(arr: np.ndarray, fill: object) -> np.ndarray:
            add = np.full((extra, *arr.shape[1:]), fill, dtype=arr.dtype)
            return np.concatenate([arr, add])

        self.ip = ext(self.ip, None)
        self.last_ts = ext(self.last_ts, np.nan)
        self.burst_id = ext(self.burst_id, 0)
        self.burst_start = ext(self.burst_start, np.nan)
        self.first_line = ext(self.first_line, 0)
        self.first_file = ext(self.first_file, "")
        self.counters = ext(self.counters, 0.0)
        self.bucket = ext(self.bucket, -(2**62))
        self.cur = ext(self.cur, 0.0)
        self.prev = ext(self.prev, 0.0)
        self.ua = ext(self.ua, b"")
        self.b10 = ext(self.b10, -(2**62))
        self.c10 = ext(self.c10, 0.0)
        self.free.extend(range(new_capacity - 1, old - 1, -1))
        self.capacity = new_capacity

    def release(self, slots: np.ndarray) -> list[int]:
        """Forget the IPs in ``slots``; return the released slots."""
        slots = np.asarray(slots, dtype=np.int64)
        ips = self.ip[slots]
        used = slots[ips != None]  # noqa: E711 - elementwise comparison on an object array
        slot_of = self.slot_of
        for ip in self.ip[used].tolist():
            del slot_of[ip]
        self.ip[used] = None
        self.last_ts[used] = np.nan
        self.burst_id[used] = 0
        out = used.tolist()
        self.free.extend(out)
        return out

    def expire(self, now: float, expire_after: float, pinned: np.ndarray | None = None) -> list[int]:
        """Drop every IP idle for longer than ``expire_after`` seconds before ``now`` (except ``pinned``)."""
        idle_mask = self.last_ts < now - expire_after
        if pinned is not None and len(pinned):
            idle_mask[pinned] = False
        idle = np.flatnonzero(idle_mask)
        return self.release(idle) if len(idle) else []

    def allocate(self, ips: list[str], pinned: np.ndarray, now: float, expire_after: float) -> tuple[
            np.ndarray, list[int]]:
        """Give each new IP a slot (fresh state); return (slots, released slots of evicted IPs)."""
        need = len(ips)
        released: list[int] = []
        if len(self.free) < need and self.capacity < self.max_ips:
            self._grow(min(self.max_ips, max(self.capacity * 2, self.capacity + need)))
        if len(self.free) < need:
            released += self.expire(now, expire_after, pinned)
        if len(self.free) < need:
            key = self.last_ts.copy()
            key[np.isnan(key)] = np.inf
            key[pinned] = np.inf
            bulk = min(max(need - len(self.free), self.capacity // 8), self.capacity - len(pinned))
            if bulk > 0:
                victims = np.argpartition(key, bulk - 1)[:bulk]
                released += self.release(victims[key[victims] != np.inf])
        if len(self.free) < need:
            raise ValueError(f"{need} new IPs in one batch exceed the table's free room")
        slots = np.array(self.free[len(self.free) - need:], dtype=np.int64)
        del self.free[len(self.free) - need:]
        self.slot_of.update(zip(ips, slots.tolist(), strict=True))
        self.ip[slots] = ips
        self.last_ts[slots] = np.nan
        self.burst_id[slots] = 0
        self.burst_start[slots] = np.nan
        self.counters[slots] = 0.0
        self.bucket[slots] = -(2**62)
        self.cur[slots] = 0.0
        self.prev[slots] = 0.0
        self.ua[slots] = b""
        self.b10[slots] = -(2**62)
        self.c10[slots] = 0.0
        return slots, released
