"""Benchmark the alerts feed's refresh: the whole feed (1000 entries, scrollable) against the visible rows.

Peer, in the same run: the same snapshot cut to the 20 rows a panel shows (what the monitor sent
before the feed became a scrollable history). Per refresh, with ``--new`` new entries arriving
between refreshes (the oldest dropped as many): the snapshot (``LiveStats.dashboard``), its pickle
round trip (the ingestion process sends it to the UI), and ``AlertsFeed.show`` in a headless app.
Times are CPU seconds of this process (``process_time``) per refresh, medians of ``--refreshes``.

    .venv/bin/python bench/feed.py [--new 10] [--refreshes 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from textual.app import App, ComposeResult

from threatlens.parsers.record import RawLine
from threatlens.pipeline import Pipeline
from threatlens.tui.live import LiveStats
from threatlens.tui.widgets import AlertsFeed
from tui_support import RuleDetection, attack_lines, normal_lines


class _FeedApp(App[None]):
    def compose(self) -> ComposeResult:
        yield AlertsFeed(id="alerts")


def _raw(lines: list[str], first: int) -> list[RawLine]:
    return [RawLine("bench.log", first + i, (first + i) * 120, x.encode()) for i, x in enumerate(lines)]


def full_feed(new: int, refreshes: int) -> tuple[LiveStats, Pipeline, list[RawLine]]:
    """A full feed: ``LiveStats`` (1,500 flagged requests among 6,000 lines), its pipeline, lines to come.

    The lines to come are ``new`` flagged requests for each of ``refreshes + 1`` refreshes.
    """
    live = LiveStats(threshold=0.5)
    pipeline = Pipeline(log_format="combined", detection=RuleDetection(), stats=live, strict=False)
    lines: list[str] = []
    for i in range(1500):
        lines += normal_lines(3, start=4 * i) + attack_lines(1, start=4 * i, ip=f"203.0.113.{i % 200}")
    for k in range(0, len(lines), 1000):
        pipeline.process(_raw(lines[k:k + 1000], k + 1))
    return live, pipeline, _raw(attack_lines(new * (refreshes + 1), start=10**5, ip="198.51.100.9"), 10**6)


async def _run(rows: int | None, new: int, refreshes: int) -> dict[str, float]:
    live, pipeline, more = full_feed(new, refreshes)
    out: dict[str, list[float]] = {"snapshot": [], "pickle": [], "show": []}
    app = _FeedApp()
    async with app.run_test(size=(120, 34)) as pilot:
        feed = app.query_one(AlertsFeed)
        feed.show(live.dashboard(feed=rows).feed)
        await pilot.pause()
        for k in range(refreshes):
            pipeline.process(more[k * new:(k + 1) * new])
            t0 = time.process_time()
            data = live.dashboard(feed=rows)
            t1 = time.process_time()
            data = pickle.loads(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
            t2 = time.process_time()
            feed.show(data.feed, data.feed_dropped)
            t3 = time.process_time()
            await pilot.pause()
            out["snapshot"].append(t1 - t0)
            out["pickle"].append(t2 - t1)
            out["show"].append(t3 - t2)
        assert feed.row_count == (rows or 1000)
    return {k: statistics.median(v) * 1e3 for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--new", type=int, default=10, help="new feed entries between refreshes")
    ap.add_argument("--refreshes", type=int, default=30)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {args.new} new entries per refresh")
    whole = asyncio.run(_run(None, args.new, args.refreshes))
    visible = asyncio.run(_run(20, args.new, args.refreshes))
    print(f"{'ms per refresh (median)':28} {'whole feed (1000)':>18} {'visible (20)':>13} {'ratio':>7}")
    for part in ("snapshot", "pickle", "show"):
        print(f"{part:28} {whole[part]:18.1f} {visible[part]:13.1f} {whole[part] / max(visible[part], 1e-6):7.1f}")
    total_w, total_v = sum(whole.values()), sum(visible.values())
    print(f"{'total':28} {total_w:18.1f} {total_v:13.1f} {total_w / total_v:7.1f}")


if __name__ == "__main__":
    main()
