"""Following a growing log: write-to-delivery latency, sustained rate, catch-up speed, idle CPU.

A separate writer process appends ~150-byte lines at a fixed rate (10k, 50k, 100k lines/s);
each line carries the monotonic time of its write. The consumer (ThreatLens' ``Follower``,
reading only, no parsing) notes when each line reaches it. The peer, measured in the same
run on the same workload, is GNU ``tail -F -n 0`` read through a pipe (plus a naive Python
``readline`` loop with a 50 ms sleep). CPU is the consumer's process CPU time over wall time
(for ``tail``: the tail process plus the pipe reader). Default: 3 s per run (about a minute in
all); ``--full``: 10 s per run and every variant at every rate.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from threatlens.tail import Follower

PAD = b"x" * 118  # line = 10 digits + space + 19 digits + space + pad + newline = 150 bytes
LINE_BYTES = 10 + 1 + 19 + 1 + len(PAD) + 1


# --------------------------------------------------------------------------- writer process


def writer_main(path: str, rate: int, duration: float) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    total = int(rate * duration)
    seq = 0
    start = time.monotonic()
    while seq < total:
        due = min(total, int((time.monotonic() - start) * rate))
        if due > seq:
            ts = time.monotonic_ns()
            os.write(fd, b"".join(b"%010d %019d %s\n" % (i, ts, PAD) for i in range(seq, due)))
            seq = due
        time.sleep(0.001)
    os.close(fd)
    print(seq, flush=True)


def start_writer(path: Path, rate: int, duration: float) -> subprocess.Popen[str]:
    cmd = [sys.executable, __file__, "--writer", str(path), str(rate), str(duration)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


# --------------------------------------------------------------------------- measuring


@dataclass
class Tally:
    """Latencies (ns) and counts seen by one consumer."""

    lat: list[int] = field(default_factory=list)
    count: int = 0
    last_ns: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_lines(self, lines: list[bytes]) -> None:
        """Record the arrival of ``lines`` (the warm-up line has no timestamp and is skipped)."""
        now = time.monotonic_ns()
        lat = [now - int(x[11:30]) for x in lines if len(x) >= 30 and x[:1] != b"w"]
        with self.lock:
            self.lat.extend(lat)
            self.count += len(lat)
            self.last_ns = now


@dataclass
class Result:
    """One consumer at one rate."""

    name: str
    rate: int
    written: int
    delivered: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    lag_ms: float
    cpu_pct: float


def pct(values: list[int], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] / 1e6


class Consumer:
    """Something that follows ``path`` and reports lines to a Tally; start/stop/cpu_seconds."""

    name = "?"

    def __init__(self, path: Path, tally: Tally) -> None:
        self.path = path
        self.tally = tally

    def start(self) -> None:
        """Begin following (from the end of the file)."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop following and release everything."""
        raise NotImplementedError

    def cpu_seconds(self) -> float:
        """CPU time used so far by everything this consumer runs."""
        return time.process_time()


class Ours(Consumer):
    """ThreatLens' Follower in iterator mode, on a consumer thread."""

    def __init__(self, path: Path, tally: Tally, **options: object) -> None:
        super().__init__(path, tally)
        self.options = options
        self.name = "threatlens" + "".join(f" {k}={v}" for k, v in options.items())

    def start(self) -> None:
        """See :class:`Consumer`."""
        self.f = Follower([str(self.path)], **self.options)  # type: ignore[arg-type]
        self.f.start()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        for batch in self.f.batches():
            self.tally.add_lines([r.data for r in batch])

    def stop(self) -> None:
        """See :class:`Consumer`."""
        self.f.stop()
        self.thread.join(10)


class Tail(Consumer):
    """GNU tail -F as a subprocess, its output read from a pipe."""

    name = "tail -F (GNU coreutils)"

    def start(self) -> None:
        """See :class:`Consumer`."""
        self.proc = subprocess.Popen(["tail", "-F", "-n", "0", str(self.path)], stdout=subprocess.PIPE)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        rest = b""
        while True:
            data = os.read(fd, 1 << 20)
            if not data:
                return
            parts = (rest + data).split(b"\n")
            rest = parts.pop()
            self.tally.add_lines(parts)

    def cpu_seconds(self) -> float:
        """See :class:`Consumer`."""
        import psutil

        try:
            t = psutil.Process(self.proc.pid).cpu_times()
            child = t.user + t.system
        except psutil.NoSuchProcess:
            child = 0.0
        return child + time.process_time()

    def stop(self) -> None:
        """See :class:`Consumer`."""
        self.proc.terminate()
        self.proc.wait(10)
        self.thread.join(10)


class Naive(Consumer):
    """The loop people write first: readline, sleep when there is nothing new."""

    name = "python readline + sleep(0.05)"

    def start(self) -> None:
        """See :class:`Consumer`."""
        self.stopping = False
        self.fh = open(self.path, "rb")  # noqa: SIM115
        self.fh.seek(0, os.SEEK_END)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        batch: list[bytes] = []
        while not self.stopping:
            line = self.fh.readline()
            if line.endswith(b"\n"):
                batch.append(line[:-1])
                if len(batch) >= 1000:
                    self.tally.add_lines(batch)
                    batch = []
                continue
            if batch:
                self.tally.add_lines(batch)
                batch = []
            if line:
                self.fh.seek(-len(line), os.SEEK_CUR)
            time.sleep(0.05)

    def stop(self) -> None:
        """See :class:`Consumer`."""
        self.stopping = True
        self.thread.join(10)
        self.fh.close()


def wait_until(pred: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def run_rate(workdir: Path, make: Callable[[Path, Tally], Consumer], rate: int, duration: float) -> Result:
    path = workdir / "access.log"
    path.write_bytes(b"")
    tally = Tally()
    consumer = make(path, tally)
    consumer.start()
    # warm up: the consumer is following once it has seen a first line
    with open(path, "ab") as fh:
        fh.write(b"warmup\n")
    wait_until(lambda: tally.last_ns > 0, 10)
    time.sleep(0.2)
    cpu0, wall0 = consumer.cpu_seconds(), time.monotonic()
    writer = start_writer(path, rate, duration)
    out, _ = writer.communicate(timeout=duration + 60)
    written = int(out.strip())
    end_ns = time.monotonic_ns()
    wait_until(lambda: tally.count >= written, 30)
    cpu1, wall1 = consumer.cpu_seconds(), time.monotonic()
    consumer.stop()
    path.unlink()
    lag = max(0, tally.last_ns - end_ns) / 1e6 if tally.count >= written else float("inf")
    return Result(
        name=consumer.name,
        rate=rate,
        written=written,
        delivered=tally.count,
        p50_ms=pct(tally.lat, 0.50),
        p99_ms=pct(tally.lat, 0.99),
        max_ms=pct(tally.lat, 1.0),
        lag_ms=lag,
        cpu_pct=100 * (cpu1 - cpu0) / (wall1 - wall0),
    )


def idle_cpu(workdir: Path, seconds: float) -> list[tuple[str, float]]:
    path = workdir / "idle.log"
    path.write_bytes(b"x\n" * 10)
    out = []
    for name, make in [
        ("threatlens (inotify)", lambda p, t: Ours(p, t)),
        ("threatlens --poll 0.25 s", lambda p, t: Ours(p, t, poll=True)),
        ("tail -F", Tail),
    ]:
        c = make(path, Tally())
        c.start()
        time.sleep(0.5)
        cpu0, wall0 = c.cpu_seconds(), time.monotonic()
        time.sleep(seconds)
        cpu1, wall1 = c.cpu_seconds(), time.monotonic()
        c.stop()
        out.append((name, 100 * (cpu1 - cpu0) / (wall1 - wall0)))
    return out


def catch_up(workdir: Path, lines: int) -> list[tuple[str, float]]:
    path = workdir / "big.log"
    with open(path, "wb") as fh:
        chunk = b"".join(b"%010d %019d %s\n" % (i, 0, PAD) for i in range(10_000))
        for _ in range(lines // 10_000):
            fh.write(chunk)
    total = (lines // 10_000) * 10_000
    out = []
    t0 = time.perf_counter()
    n = 0
    first = -1.0
    with Follower([str(path)], start="start") as f:
        for batch in f.batches():
            if first < 0:
                first = time.perf_counter() - t0
            n += len(batch)
            if n >= total:
                break
    out.append((f"threatlens start='start' (first batch after {first * 1000:.1f} ms)", n / (time.perf_counter() - t0)))
    t0 = time.perf_counter()
    with open(path, "rb") as fh:
        n = sum(1 for _ in fh)
    out.append(("python `for line in file` (no offsets, no line objects)", n / (time.perf_counter() - t0)))
    path.unlink()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="10 s per run, every variant at every rate")
    ap.add_argument("--seconds", type=float, help="seconds of writing per run")
    ap.add_argument("--writer", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.writer:
        writer_main(args.writer[0], int(args.writer[1]), float(args.writer[2]))
        return
    duration = args.seconds or (10.0 if args.full else 3.0)
    rates = [10_000, 50_000, 100_000]
    have_tail = shutil.which("tail") is not None
    variants: list[tuple[str, Callable[[Path, Tally], Consumer], list[int]]] = [
        ("ours", lambda p, t: Ours(p, t), rates),
        ("ours0", lambda p, t: Ours(p, t, batch_interval=0), rates if args.full else [10_000]),
        ("poll", lambda p, t: Ours(p, t, poll=True), rates if args.full else [10_000]),
    ]
    if have_tail:
        variants.append(("tail", Tail, rates))
    variants.append(("naive", Naive, rates if args.full else [10_000]))
    print(f"line: {LINE_BYTES} bytes; {duration:.0f} s of writing per run; {os.cpu_count()} CPUs\n")
    with tempfile.TemporaryDirectory(prefix="tl-bench-tail-") as tmp:
        work = Path(tmp)
        results = []
        for _, make, rs in variants:
            for rate in rs:
                r = run_rate(work, make, rate, duration)
                results.append(r)
                print(
                    f"  {r.name:<42} {r.rate:>7}/s  got {r.delivered}/{r.written}  "
                    f"p50 {r.p50_ms:.1f} ms  p99 {r.p99_ms:.1f} ms  cpu {r.cpu_pct:.0f}%",
                    flush=True,
                )
        print()
        head = (
            f"{'consumer':<42} {'lines/s':>8} {'delivered':>10} {'p50 ms':>7} {'p99 ms':>7} "
            f"{'max ms':>7} {'end lag ms':>10} {'CPU %':>6}"
        )
        print(head)
        print("-" * len(head))
        for r in results:
            got = "all" if r.delivered == r.written else f"{r.delivered / r.written:.1%}"
            print(
                f"{r.name:<42} {r.rate:>8} {got:>10} {r.p50_ms:>7.1f} {r.p99_ms:>7.1f} {r.max_ms:>7.1f} "
                f"{r.lag_ms:>10.0f} {r.cpu_pct:>6.1f}"
            )
        by = {(r.name, r.rate): r for r in results}
        if have_tail:
            print("\nratio threatlens / tail -F (p99 latency, CPU); the default batches for up to 100 ms on purpose:")
            for r in results:
                peer = by.get((Tail.name, r.rate))
                if r.name.startswith("threatlens") and peer is not None:
                    print(
                        f"  {r.name:<42} {r.rate:>7}/s  p99 {r.p99_ms / max(peer.p99_ms, 0.01):7.1f}x"
                        f"   CPU {r.cpu_pct / max(peer.cpu_pct, 0.1):5.2f}x"
                    )
        print("\nidle CPU (file not growing, % of one core):")
        for name, cpu in idle_cpu(work, 5.0 if args.full else 3.0):
            print(f"  {name:<40} {cpu:6.2f}%")
        print("\ncatch-up: reading an existing file from its start (lines/s):")
        for name, speed in catch_up(work, 2_000_000 if args.full else 500_000):
            print(f"  {name:<62} {speed:>12,.0f}")


if __name__ == "__main__":
    main()
