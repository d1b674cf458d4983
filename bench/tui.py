"""Benchmark of the live monitor under load: ingestion lag, key latency, refresh rate, CPU.

Drives the real app headless (``App.run_test``) on a file that a separate writer process appends
to at 1k, 10k and 30k lines/s (5 s each by default, 30 s with ``--full``), with the shipped model
(``--no-detect`` to measure parsing and aggregation alone). Reports, per rate:

* ingestion lag: a line written -> the dashboard showing a count that includes it (p50 / p99);
* key latency: a key event -> its effect done: ``s`` -> the top IPs filled and titled in the new order
  (in ``process`` mode that includes the round trip to the ingestion process), p50 / p99;
* IP screen: opening the drill-down of the top client (queued like a key) -> its requests in the table, p50 / max;
* refresh rate of the dashboard (target 1-4 Hz, steady) and the worst gap between refreshes;
* CPU of the monitor's processes (the writer runs in its own process), and idle CPU with no writes;
  ``UI %`` is the UI process alone (in ``thread`` mode it does the ingestion too);
* where it breaks: the first rate whose p99 lag exceeds 1 s or whose backlog keeps growing.

Both ingestion modes run in the same invocation, as peers: ``thread`` (following, parsing, scoring
and counting on a worker thread of the UI process, as ``make_app`` does by default) and ``process``
(all of it in a child process, as ``threatlens-tui`` does); ``--ingest`` picks one. CPU is the UI
process plus, in ``process`` mode, the ingestion process (100 = one core).

Usage: ``python bench/tui.py [--full] [--rates 1000,10000,30000] [--no-detect] [--ingest both|thread|process]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
from textual import events


def writer_main(path: str, lines_file: str, rate: float, seconds: float) -> None:
    """Append lines from ``lines_file`` to ``path`` at ``rate`` lines/s; print ``time count`` checkpoints."""
    lines = Path(lines_file).read_bytes().splitlines(keepends=True)
    out = sys.stdout
    t0 = time.monotonic()
    written = 0
    last_report = 0.0
    with open(path, "ab", buffering=0) as fh:
        i = 0
        while True:
            now = time.monotonic()
            if now - t0 >= seconds:
                break
            due = int((now - t0) * rate)
            if due > written:
                n = due - written
                chunk = []
                for _ in range(n):
                    chunk.append(lines[i])
                    i = (i + 1) % len(lines)
                fh.write(b"".join(chunk))
                written += n
            if now - last_report >= 0.05:
                out.write(f"{time.monotonic():.6f} {written}\n")
                out.flush()
                last_report = now
            time.sleep(0.005)
    out.write(f"{time.monotonic():.6f} {written}\nend\n")
    out.flush()


def pct(values: list[float], q: float) -> float:
    """Percentile (nearest rank)."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


def shown_lines(app: Any) -> int:
    """Lines counted so far, as the UI knows them (the newest snapshot in ``process`` mode)."""
    if app.remote is not None:
        return int(app.remote.latest[0].lines)
    return int(app.live.totals.lines)


def cpu_percent(procs: list[psutil.Process]) -> float:
    """Summed CPU % since the previous call (a process that ended counts 0)."""
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.cpu_percent()
    return total


async def open_ip_screen(app: Any) -> float:
    """Seconds from asking for the top client's screen (queued like a key) to the screen mounted; then close it."""
    from threatlens.tui.screens.ip_detail import IpDetailScreen

    ip = app.dashboard.selected_ip()  # the row under the cursor, as Enter would open
    if not ip:
        return float("nan")
    t0 = time.monotonic()
    app.call_later(app.open_ip, ip)

    def shown() -> bool:  # mounted and its requests in the table (a screen left before that breaks its mount)
        screen = app.screen
        if not (isinstance(screen, IpDetailScreen) and screen.is_mounted):
            return False
        tables = screen.query("#ip-requests")
        return bool(tables) and tables.first().row_count > 0

    while not shown() and time.monotonic() - t0 < 5:
        await asyncio.sleep(0.001)
    took = time.monotonic() - t0
    if isinstance(app.screen, IpDetailScreen):
        app.pop_screen()
    while app.screen is not app.dashboard and time.monotonic() - t0 < 10:
        await asyncio.sleep(0.005)
    return took


async def run_rate(rate: int, seconds: float, lines_file: Path, detect: bool, workdir: Path,
                   ingest: str) -> dict[str, Any]:
    """One load level: returns the figures."""
    from threatlens.tui.app import make_app

    log = workdir / f"access-{rate}-{ingest}.log"
    log.write_bytes(b"")
    extra = {} if detect else {"detection": None}
    app = make_app([log], export_dir=workdir, config_path=workdir / "config.toml", refresh_hz=2.0, ingest=ingest,
                   **extra)
    proc = psutil.Process()
    checkpoints: list[tuple[float, int]] = []
    async with app.run_test(size=(160, 48)) as pilot:
        while not app.detection_ready.is_set():
            await pilot.pause(0.1)
        await pilot.pause(0.5)
        procs = [proc] + ([psutil.Process(app.remote.pid)] if app.remote is not None else [])
        app.refresh_log.clear()
        writer = subprocess.Popen([sys.executable, __file__, "--writer", str(log), str(lines_file), str(rate),
                                   str(seconds)], stdout=subprocess.PIPE, text=True)

        def read() -> None:
            assert writer.stdout is not None
            for row in writer.stdout:
                if row.strip() == "end":
                    break
                t, n = row.split()
                checkpoints.append((float(t), int(n)))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        cpu_percent(procs[:1])
        cpu_percent(procs[1:])
        t_start = time.monotonic()
        key_lat: list[float] = []
        ip_open: list[float] = []
        table = app.dashboard.query_one("#top-ips")
        rounds = 0
        while writer.poll() is None:
            await asyncio.sleep(0.5)
            rounds += 1
            if rounds % 4 == 0:  # every 2 s: the IP screen (the dashboard does not refresh while it is open)
                ip_open.append(await open_ip_screen(app))
                continue
            before = table.border_title
            t0 = time.monotonic()
            app.post_message(events.Key("s", "s"))  # like a key from the terminal: queued behind other work
            while table.border_title == before and time.monotonic() - t0 < 5:
                await asyncio.sleep(0.001)
            key_lat.append(time.monotonic() - t0)
        ui_cpu = cpu_percent(procs[:1])
        cpu = ui_cpu + cpu_percent(procs[1:])
        elapsed_load = time.monotonic() - t_start
        reader.join(5)
        total = checkpoints[-1][1] if checkpoints else 0
        t_end = time.monotonic()
        while shown_lines(app) < total and time.monotonic() - t_end < 60:
            await pilot.pause(0.1)
        drain = time.monotonic() - t_end
        await pilot.pause(1.0)
        refreshes = list(app.refresh_log)
        shown_final = shown_lines(app)
        cpu_percent(procs)
        await pilot.pause(3.0)
        idle_cpu = cpu_percent(procs)
    lags = []
    for tw, n in checkpoints:
        for tr, shown, _forced in refreshes:
            if tr >= tw and shown >= n:
                lags.append(tr - tw)
                break
        else:
            lags.append(float("inf"))
    during = [t for t, _, _forced in refreshes if t_start <= t <= t_start + elapsed_load]
    gaps = [b - a for a, b in itertools.pairwise(during)]
    ip_ok = [t for t in ip_open if t == t]
    return {
        "ingest": ingest,
        "ip_p50": pct(ip_ok, 50) * 1000,
        "ip_max": max(ip_ok) * 1000 if ip_ok else float("nan"),
        "rate": rate,
        "written": total,
        "shown": shown_final,
        "lag_p50": pct(lags, 50),
        "lag_p99": pct(lags, 99),
        "key_p50": pct(key_lat, 50) * 1000,
        "key_p99": pct(key_lat, 99) * 1000,
        "refresh_hz": len(during) / elapsed_load if elapsed_load else 0.0,
        "max_gap": max(gaps) if gaps else float("nan"),
        "cpu": cpu,
        "ui_cpu": ui_cpu,
        "idle_cpu": idle_cpu,
        "drain": drain,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="30 s per rate (default 5 s)")
    parser.add_argument("--seconds", type=float, help="seconds per rate (overrides --full)")
    parser.add_argument("--rates", default="1000,10000,30000", help="comma-separated lines/s")
    parser.add_argument("--no-detect", action="store_true", help="no model: parsing and aggregation only")
    parser.add_argument("--ingest", choices=("both", "thread", "process"), default="both",
                        help="where ingestion runs (default: both, as peers in this run)")
    parser.add_argument("--writer", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer:
        writer_main(args.writer[0], args.writer[1], float(args.writer[2]), float(args.writer[3]))
        return 0
    seconds = args.seconds or (30.0 if args.full else 5.0)
    rates = [int(r) for r in args.rates.split(",")]
    from threatlens.samplegen import generate

    with tempfile.TemporaryDirectory(prefix="threatlens-bench-") as tmp:
        workdir = Path(tmp)
        lines_file = workdir / "lines.log"
        lines_file.write_text("".join(f"{x}\n" for x in generate(50_000, "combined", seed=3)), encoding="utf-8")
        print(f"monitor under load, {seconds:.0f} s per rate, detection {'off' if args.no_detect else 'on'}, "
              f"{psutil.cpu_count()} CPUs, load avg {psutil.getloadavg()[0]:.1f}")
        header = (f"{'ingest':>7} {'lines/s':>8} {'written':>8} {'shown':>8} {'lag p50':>8} {'lag p99':>8} "
                  f"{'key p50':>8} {'key p99':>8} {'IP p50':>7} {'IP max':>7} {'refresh':>8} {'max gap':>8} "
                  f"{'CPU %':>6} {'UI %':>5} {'idle %':>6} {'drain':>6} {'kept up':>8}")
        print(header)
        modes = ["thread", "process"] if args.ingest == "both" else [args.ingest]
        results: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
        for rate in rates:
            for ingest in modes:  # peers, back to back at each rate: the machine's load hits both alike
                r = asyncio.run(run_rate(rate, seconds, lines_file, not args.no_detect, workdir, ingest))
                r["sustained"] = r["written"] / (seconds + r["drain"])
                results[ingest].append(r)
                print(f"{ingest:>7} {r['rate']:>8} {r['written']:>8} {r['shown']:>8} {r['lag_p50']:>7.2f}s "
                      f"{r['lag_p99']:>7.2f}s {r['key_p50']:>6.0f}ms {r['key_p99']:>6.0f}ms {r['ip_p50']:>5.0f}ms "
                      f"{r['ip_max']:>5.0f}ms {r['refresh_hz']:>6.2f}Hz {r['max_gap']:>7.2f}s {r['cpu']:>6.0f} "
                      f"{r['ui_cpu']:>5.0f} {r['idle_cpu']:>6.1f} {r['drain']:>5.1f}s {r['sustained']:>8,.0f}",
                      flush=True)
        for ingest in modes:
            rows = results[ingest]
            best = max(r["sustained"] for r in rows)
            broke = next((r for r in rows if r["lag_p99"] > 1.0 or r["key_p99"] > 100), None)
            if broke is None:
                verdict = "holds at every rate tried (p99 lag < 1 s, p99 key < 100 ms)"
            else:
                verdict = (f"breaks at {broke['rate']} lines/s (p99 lag {broke['lag_p99']:.2f} s, key p99 "
                           f"{broke['key_p99']:.0f} ms)")
            print(f"{ingest}: {verdict}; most lines/s taken in (written / (load + drain time)): {best:,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
