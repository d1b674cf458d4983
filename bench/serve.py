"""Benchmark of ``threatlens serve``: scoring throughput, and live-view latency while following a busy log.

1. ``POST /api/v1/score``: lines/s over HTTP (bodies of ``--body-lines`` generated combined lines, one request at
   a time, keep-alive), against its peer in the same run: the same lines through the same ``ScoreService``
   (scan's pipeline and writer) in this process, without HTTP.
2. ``GET /api/v1/alerts?since=...`` latency (p50 / p95 / max) while the server follows a log that a writer
   process (``bench/tui.py``'s) appends to at ``--rate`` lines/s, against its peer ``GET /healthz`` (no work)
   polled alternately in the same run; and whether ingestion kept up (lines processed vs written, drain time).

Usage: ``python bench/serve.py [--seconds 15] [--rate 10000] [--body-lines 20000] [--requests 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent


def pct(values: list[float], q: float) -> float:
    """Percentile (nearest rank)."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))] if s else float("nan")


def start_server(log: Path, workdir: Path) -> tuple[subprocess.Popen[str], str]:
    """``threatlens serve --no-browser`` on an ephemeral loopback port; its process and base URL."""
    env = dict(os.environ, XDG_CONFIG_HOME=str(workdir / "xdg"))
    proc = subprocess.Popen([sys.executable, "-m", "threatlens", "serve", "--listen", "127.0.0.1:0", "--no-browser",
                             "--export-dir", str(workdir), str(log)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    for line in proc.stderr:
        if "listening on " in line:
            url = line.split("listening on ", 1)[1].strip()
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()  # type: ignore[union-attr]
            return proc, url
    raise SystemExit(f"threatlens serve did not start (exit {proc.wait()})")


def score_in_process(body: bytes, rounds: int) -> float:
    """Lines/s of the scoring code itself (the peer): ``ScoreService.score`` without HTTP."""
    from threatlens.serve.app import load_detection
    from threatlens.serve.scoring import ScoreService
    from threatlens.stats.geo import GeoLookup
    from threatlens.tui.options import MonitorOptions

    options = MonitorOptions()
    geo = GeoLookup.open(None)
    service = ScoreService(options, load_detection(options), lambda ip: geo.country(ip) if ip else None)
    service.score(body)  # warm the caches, as the server's are after its first request
    lines = body.count(b"\n")
    t0 = time.perf_counter()
    for _ in range(rounds):
        service.score(body)
    return lines * rounds / (time.perf_counter() - t0)


async def score_over_http(url: str, body: bytes, rounds: int) -> float:
    """Lines/s of ``POST /api/v1/score`` with the same bodies."""
    lines = body.count(b"\n")
    headers = {"Content-Type": "text/plain"}
    async with aiohttp.ClientSession() as http:
        async with http.post(url + "api/v1/score", data=body, headers=headers) as resp:  # warm-up
            assert resp.status == 200, await resp.text()
            await resp.read()
        t0 = time.perf_counter()
        for _ in range(rounds):
            async with http.post(url + "api/v1/score", data=body, headers=headers) as resp:
                assert resp.status == 200
                await resp.read()
        return lines * rounds / (time.perf_counter() - t0)


async def poll_under_load(url: str, seconds: float, stop: threading.Event) -> dict[str, list[float]]:
    """Alternate ``/api/v1/alerts?since=`` and ``/healthz`` every 20 ms while the writer runs; latencies in ms."""
    out: dict[str, list[float]] = {"alerts": [], "healthz": []}
    since = 0
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            t0 = time.perf_counter()
            async with http.get(url + f"api/v1/alerts?since={since}&limit=1000") as resp:
                page = await resp.json()
            out["alerts"].append((time.perf_counter() - t0) * 1000)
            since = page["next_since"]
            t0 = time.perf_counter()
            async with http.get(url + "healthz") as resp:
                await resp.read()
            out["healthz"].append((time.perf_counter() - t0) * 1000)
            await asyncio.sleep(0.02)
    return out


async def lines_seen(url: str) -> int:
    """Lines the server has processed."""
    async with aiohttp.ClientSession() as http, http.get(url + "api/v1/summary") as resp:
        return int((await resp.json())["lines"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds of writing at --rate (default 15)")
    parser.add_argument("--rate", type=int, default=10_000, help="lines/s written to the followed log")
    parser.add_argument("--body-lines", type=int, default=20_000, help="lines per scoring request")
    parser.add_argument("--requests", type=int, default=5, help="scoring requests timed")
    args = parser.parse_args()
    from threatlens.samplegen import generate

    with tempfile.TemporaryDirectory(prefix="threatlens-bench-serve-") as tmp:
        workdir = Path(tmp)
        body = "".join(f"{x}\n" for x in generate(args.body_lines, "combined", seed=5)).encode()
        lines_file = workdir / "lines.log"
        lines_file.write_text("".join(f"{x}\n" for x in generate(50_000, "combined", seed=3)), encoding="utf-8")
        log = workdir / "access.log"
        log.write_bytes(b"")
        proc, url = start_server(log, workdir)
        try:
            print(f"threatlens serve on {url}, {os.cpu_count()} CPUs, load avg {os.getloadavg()[0]:.1f}")
            http_rate = asyncio.run(score_over_http(url, body, args.requests))
            local_rate = score_in_process(body, args.requests)
            print(f"POST /api/v1/score ({args.body_lines:,} lines a request): {http_rate:,.0f} lines/s; "
                  f"peer, same code in process: {local_rate:,.0f} lines/s (HTTP keeps {http_rate / local_rate:.0%})")

            writer = subprocess.Popen([sys.executable, str(HERE / "tui.py"), "--writer", str(log), str(lines_file),
                                       str(args.rate), str(args.seconds)], stdout=subprocess.PIPE, text=True)
            stop = threading.Event()
            result: dict[str, list[float]] = {}
            poller = threading.Thread(target=lambda: result.update(asyncio.run(poll_under_load(url, args.seconds,
                                                                                                 stop))))
            poller.start()
            out, _ = writer.communicate()
            stop.set()
            poller.join()
            written = int(out.strip().splitlines()[-2].split()[1])
            t_end = time.monotonic()
            seen = asyncio.run(lines_seen(url))
            while seen < written and time.monotonic() - t_end < 120:
                time.sleep(0.2)
                seen = asyncio.run(lines_seen(url))
            drain = time.monotonic() - t_end
            a, h = result["alerts"], result["healthz"]
            print(f"following {args.rate:,} lines/s for {args.seconds:.0f} s: {written:,} written, {seen:,} processed, "
                  f"drained {drain:.1f} s after the writer stopped")
            print(f"GET /api/v1/alerts: p50 {pct(a, 50):.1f} ms, p95 {pct(a, 95):.1f} ms, max {max(a):.1f} ms "
                  f"({len(a)} polls); peer GET /healthz: p50 {pct(h, 50):.1f} ms, p95 {pct(h, 95):.1f} ms, "
                  f"max {max(h):.1f} ms (alerts/healthz p50 {statistics.median(a) / statistics.median(h):.1f}x)")
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
