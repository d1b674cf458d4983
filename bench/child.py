"""The monitor's ingestion process under a flood: how long a request from the UI waits, and on what.

Runs the real ingestion process (``threatlens.tui.ingest_child``, the shipped model) on a file that
``bench/tui.py``'s writer appends to at ``--rate`` lines/s, without Textual: this process plays the UI
through ``RemoteLive``. Every ``--every`` seconds it asks for the busiest client's IP screen
(``ip_snapshot``, what Enter waits for) and, alternately, changes the sort order (the ``view`` command
``s`` sends; timed until the snapshot that shows it arrives).

The child runs with probes (this script's ``traced_ingestion`` wraps the real entry point; nothing in
the product changes): the main thread's snapshots (build, pickle + send), each request (received, the
``LiveStats`` lock taken, answered), the ingest thread's batches and lock holds, and every garbage
collection. Clocks are ``time.monotonic`` (system-wide), so a request's time from the UI's send to the
child's main thread picking it up is measured too. Each request's wait is then put down to what overlapped
it: a snapshot being built or sent, a collection, the lock held by a batch, or the GIL (the rest).

Each round runs the child as it is (the ingest thread waits at its gate while the main thread answers or
builds a snapshot) and, as the peer in the same round, without the gate (as before it).

Second part, ``--max``: the child's own speed, lines/s counted from a 200k-line file read from the
start (no writer), with the model, and its CPU per line.

    .venv/bin/python bench/child.py [--rate 30000] [--seconds 15] [--every 0.25] [--rounds 1] [--max]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

BENCH = Path(__file__).resolve().parent
#: Environment variable: set, the child runs without its gate (the peer in the same run).
NO_GATE = "THREATLENS_BENCH_NO_GATE"


def traced_ingestion(conn: Any, spec: Any, parent: int) -> None:
    """``run_ingestion`` with probes on the main thread, the ingest thread, the lock and the collector."""
    from threatlens.tui import ingest_child
    from threatlens.tui.live import LiveStats

    events: list[tuple[str, float, float, str]] = []  # (what, start, end, detail)
    mono = time.monotonic
    child = ingest_child._Child

    def timed(name: str, fn: Any) -> Any:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            t0 = mono()
            try:
                return fn(self, *args, **kwargs)
            finally:
                events.append((name, t0, mono(), threading.current_thread().name))
        return wrapper

    build = LiveStats.dashboard
    LiveStats.dashboard = timed("snapshot build", build)  # type: ignore[method-assign]
    push = child.push_snapshot
    child.push_snapshot = timed("snapshot (build + send)", push)  # type: ignore[method-assign]
    handle = child.handle

    def traced_handle(self: Any, message: tuple[Any, ...]) -> None:
        t0 = mono()
        handle(self, message)
        asked = message[0] == "call" and message[2] == "ip_snapshot"
        detail = f"ip_snapshot sent {message[3][-1]:.6f}" if asked else str(message[0])
        events.append(("handle", t0, mono(), detail))

    child.handle = traced_handle  # type: ignore[method-assign]
    ip_snapshot = child.call_ip_snapshot

    def traced_ip_snapshot(self: Any, ip: str, sent: float) -> Any:
        t0 = mono()
        with self.live.lock:
            t1 = mono()
        events.append(("lock wait", t0, t1, "main"))
        try:
            return ip_snapshot(self, ip)
        finally:
            events.append(("ip_snapshot build", t1, mono(), "main"))

    child.call_ip_snapshot = traced_ip_snapshot  # type: ignore[method-assign]
    update = LiveStats.update
    LiveStats.update = timed("batch counted (lock held per slice)", update)  # type: ignore[method-assign]
    started: dict[int, float] = {}

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[info["generation"]] = mono()
        else:
            events.append((f"gc gen {info['generation']}", started.pop(info["generation"], mono()), mono(),
                           threading.current_thread().name))

    gc.callbacks.append(on_gc)

    def call_trace(self: Any) -> list[tuple[str, float, float, str]]:
        return list(events)

    child.call_trace = call_trace  # type: ignore[attr-defined]
    pipeline_process = None

    def traced_load(self: Any) -> None:
        nonlocal pipeline_process
        load(self)
        pipeline_process = self.pipeline.process

        def process(*args: Any, **kwargs: Any) -> Any:
            t0 = mono()
            try:
                return pipeline_process(*args, **kwargs)  # type: ignore[misc]
            finally:
                events.append(("batch (parse, score, count)", t0, mono(), str(len(args[0]) if args else 0)))

        self.pipeline.process = process

    load = child.load_model
    child.load_model = traced_load  # type: ignore[method-assign]
    if os.environ.get(NO_GATE):  # the peer: the ingest thread never waits (as before the gate)
        init = child.__init__

        def open_gate(self: Any, *args: Any) -> None:
            init(self, *args)
            self.gate = _AlwaysOpen()
            self.gate.set()

        child.__init__ = open_gate  # type: ignore[method-assign]
    ingest_child.run_ingestion(conn, spec, parent)


class _AlwaysOpen(threading.Event):
    def clear(self) -> None:
        pass


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


def start_remote(log: Path, workdir: Path, from_start: bool) -> Any:
    from threatlens.tui.ingest_child import LOAD
    from threatlens.tui.options import MonitorOptions
    from threatlens.tui.remote import RemoteLive, ingest_spec

    opts = MonitorOptions(paths=[str(log)], from_start=from_start, export_dir=workdir,
                          config_path=workdir / "config.toml", refresh_hz=2.0)
    remote = RemoteLive(ingest_spec(opts, detection=LOAD, geo=LOAD))
    remote.entry = traced_ingestion
    ready = threading.Event()
    said: list[tuple[str, Any]] = []

    def on_event(kind: str, args: Any) -> None:
        said.append((kind, args))
        if kind in ("ready", "stopped"):
            ready.set()

    remote.attach(on_event)
    remote.start()
    if not ready.wait(60) or said[-1][0] != "ready":
        raise SystemExit(f"the ingestion process never loaded the model: {said}")
    return remote


def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def flood(rate: int, seconds: float, every: float, lines_file: Path, workdir: Path, gated: bool) -> None:
    log = workdir / "flood.log"
    log.write_bytes(b"")
    if gated:
        os.environ.pop(NO_GATE, None)
    else:
        os.environ[NO_GATE] = "1"
    remote = start_remote(log, workdir, from_start=False)
    os.environ.pop(NO_GATE, None)
    child = psutil.Process(remote.pid)
    writer = subprocess.Popen([sys.executable, str(BENCH / "tui.py"), "--writer", str(log), str(lines_file),
                               str(rate), str(seconds)], stdout=subprocess.DEVNULL)
    child.cpu_percent()
    calls: list[tuple[float, float]] = []  # (sent, answered) of ip_snapshot
    views: list[float] = []  # s -> the snapshot showing the new order
    sort = "requests"
    k = 0
    t_start = time.monotonic()
    while writer.poll() is None:
        time.sleep(every)
        k += 1
        data = remote.latest[0]
        if k % 2 and data.top_ips:
            sent = time.monotonic()
            remote.call("ip_snapshot", data.top_ips[0].key, sent)
            calls.append((sent, time.monotonic()))
        else:
            sort = "flagged" if sort == "requests" else "requests"
            t0 = time.monotonic()
            remote.dashboard(sort=sort)
            while not (remote.caught_up and remote.latest[0].sort == sort) and time.monotonic() - t0 < 10:
                time.sleep(0.001)
            views.append(time.monotonic() - t0)
    elapsed = time.monotonic() - t_start
    cpu = child.cpu_percent()
    with open(log, "rb") as fh:
        written = sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))
    shown_at_end = remote.latest[0].lines
    t_end = time.monotonic()
    while remote.latest[0].lines < written and time.monotonic() - t_end < 60:
        time.sleep(0.1)
    drain = time.monotonic() - t_end
    remote_lines = remote.latest[0].lines
    trace = remote.call("trace")
    remote.stop()
    print(f"\n{'gate (main thread answers alone)' if gated else 'peer: no gate (as before)'}, "
          f"{rate:,} lines/s for {seconds:.0f} s: child CPU {cpu:.0f} % of a core, counted {shown_at_end:,} of "
          f"{written:,} when the writer stopped, {remote_lines:,} after {drain:.1f} s more "
          f"({remote_lines / (elapsed + drain):,.0f} lines/s taken in)")
    rtt = [(b - a) * 1e3 for a, b in calls]
    print(f"ip_snapshot round trip ms: p50 {pct(rtt, 50):.0f}  p90 {pct(rtt, 90):.0f}  p99 {pct(rtt, 99):.0f}  "
          f"max {max(rtt, default=float('nan')):.0f}  ({len(rtt)} requests)")
    vw = [v * 1e3 for v in views]
    print(f"s (view) -> snapshot showing it ms: p50 {pct(vw, 50):.0f}  p90 {pct(vw, 90):.0f}  "
          f"max {max(vw, default=float('nan')):.0f}  ({len(vw)} changes)")
    explain(trace, calls)


def explain(trace: list[tuple[str, float, float, str]], calls: list[tuple[float, float]]) -> None:
    """Split each ip_snapshot's time: queued (and on what), lock wait, answering, back to the UI."""
    handles = {round(float(d.split(" sent ")[1]), 6): (s, e) for w, s, e, d in trace
               if w == "handle" and d.startswith("ip_snapshot sent")}
    locks = sorted((s, e) for w, s, e, _d in trace if w == "lock wait")
    busy = [(w, s, e) for w, s, e, d in trace if w in ("snapshot (build + send)",) or w.startswith("gc gen")
            or (w == "handle" and not d.startswith("ip_snapshot"))]
    parts: dict[str, list[float]] = {"queued: snapshot build + send": [], "queued: gc": [],
                                     "queued: other command": [], "queued: GIL / scheduler (rest)": [],
                                     "lock wait (a batch counting)": [], "answer (build + pickle + send)": [],
                                     "reply to the UI": []}
    for sent, answered in calls:
        got = handles.get(round(sent, 6))
        if got is None:
            continue
        t_in, t_out = got
        queued = {"snapshot": 0.0, "gc": 0.0, "other": 0.0}
        for w, s, e in busy:
            o = overlap(sent, t_in, s, e)
            if o:
                key = "gc" if w.startswith("gc") else "snapshot" if w.startswith("snapshot") else "other"
                queued[key] += o
        lock = next((e - s for s, e in locks if t_in <= s <= t_out), 0.0)
        parts["queued: snapshot build + send"].append(queued["snapshot"])
        parts["queued: gc"].append(queued["gc"])
        parts["queued: other command"].append(queued["other"])
        parts["queued: GIL / scheduler (rest)"].append(max(0.0, t_in - sent - sum(queued.values())))
        parts["lock wait (a batch counting)"].append(lock)
        parts["answer (build + pickle + send)"].append(t_out - t_in - lock)
        parts["reply to the UI"].append(max(0.0, answered - t_out))
    print(f"{'ip_snapshot, where the time goes (ms)':38} {'p50':>6} {'p90':>6} {'max':>6} {'mean':>6}")
    for name, vals in parts.items():
        ms = [v * 1e3 for v in vals]
        if ms:
            print(f"  {name:36} {pct(ms, 50):6.1f} {pct(ms, 90):6.1f} {max(ms):6.1f} {statistics.mean(ms):6.1f}")
    for what in ("ip_snapshot build", "snapshot build", "snapshot (build + send)", "batch (parse, score, count)",
                 "batch counted (lock held per slice)"):
        ms = [(e - s) * 1e3 for w, s, e, _d in trace if w == what]
        if ms:
            print(f"  {what:36} p50 {pct(ms, 50):6.1f}  p99 {pct(ms, 99):6.1f}  max {max(ms):6.1f} ms  ({len(ms)})")
    gcs = [(w, (e - s) * 1e3) for w, s, e, _d in trace if w.startswith("gc gen")]
    for gen in ("0", "1", "2"):
        ms = [d for w, d in gcs if w.endswith(gen)]
        if ms:
            print(f"  gc generation {gen}: {len(ms)} collections, max {max(ms):.1f} ms, total {sum(ms):.0f} ms")


def max_speed(lines_file: Path, workdir: Path, total: int) -> None:
    log = workdir / "backlog.log"
    data = lines_file.read_bytes().splitlines(keepends=True)
    with open(log, "wb") as fh:
        for i in range(total):
            fh.write(data[i % len(data)])
    t0 = time.monotonic()
    remote = start_remote(log, workdir, from_start=True)
    child = psutil.Process(remote.pid)
    cpu0 = sum(child.cpu_times()[:2])
    t1 = time.monotonic()
    while remote.latest[0].lines < total and time.monotonic() - t1 < 300:
        time.sleep(0.05)
    took = time.monotonic() - t1
    cpu = sum(child.cpu_times()[:2]) - cpu0
    remote.stop()
    print(f"\nchild's own speed, {total:,} lines read from the start with the model: {total / took:,.0f} lines/s wall, "
          f"{cpu / total * 1e6:.1f} CPU us per line ({total / cpu:,.0f} lines per CPU second; start-up "
          f"{t1 - t0:.2f} s not counted)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=int, default=30_000)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--every", type=float, default=0.25, help="seconds between requests")
    ap.add_argument("--rounds", type=int, default=1, help="rounds of (gate, no gate)")
    ap.add_argument("--max", action="store_true", help="also the child's own speed on a 200k-line backlog")
    args = ap.parse_args()
    from threatlens.samplegen import generate

    print(f"{psutil.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="threatlens-child-") as tmp:
        workdir = Path(tmp)
        lines_file = workdir / "lines.log"
        lines_file.write_text("".join(f"{x}\n" for x in generate(50_000, "combined", seed=3)), encoding="utf-8")
        for gated in (True, False) * args.rounds:
            flood(args.rate, args.seconds, args.every, lines_file, workdir, gated)
        if args.max:
            max_speed(lines_file, workdir, 200_000)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
