"""Benchmark the monitor's snapshot from the ingestion process to the UI: the alerts feed as a change vs whole.

A ``LiveStats`` holds a full feed (1000 entries: flagged requests and alerts from 6,000 lines); between
two snapshots ``--new`` flagged requests arrive (the oldest as many drop). Per snapshot, medians of
``--snapshots``, CPU time of this process:

* child: ``LiveStats.dashboard`` (the same in both rows), then the message built and pickled: the whole
  ``DashboardData`` (peer: what was sent before) or the dashboard without its feed plus
  ``FeedEncoder.encode``'s change;
* UI: the message unpickled, and for the change ``apply_feed`` and the ``DashboardData`` put back together;
* bytes on the pipe.

    .venv/bin/python bench/snapshot.py [--new 10] [--snapshots 40]
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from feed import full_feed
from threatlens.tui.feed_sync import FeedEncoder, apply_feed

P = pickle.HIGHEST_PROTOCOL


def run(incremental: bool, new: int, snapshots: int) -> dict[str, float]:
    live, pipeline, more = full_feed(new, snapshots)
    encoder = FeedEncoder()
    ui_feed: list = []
    out: dict[str, list[float]] = {"build": [], "send": [], "receive": [], "bytes": []}
    for k in range(-1, snapshots):  # the first snapshot (k = -1) carries the whole feed either way: not counted
        pipeline.process(more[(k + 1) * new:(k + 2) * new])
        t0 = time.process_time()
        data = live.dashboard()
        t1 = time.process_time()
        if incremental:
            message = pickle.dumps(("snapshot", replace(data, feed=[]), encoder.encode(data.feed), None), P)
        else:
            message = pickle.dumps(("snapshot", data), P)
        t2 = time.process_time()
        got = pickle.loads(message)
        if incremental:
            ui_feed = apply_feed(ui_feed, got[2])
            shown = replace(got[1], feed=ui_feed)
        else:
            shown = got[1]
        t3 = time.process_time()
        assert shown.feed == data.feed and len(shown.feed) == 1000
        if k >= 0:
            out["build"].append(t1 - t0)
            out["send"].append(t2 - t1)
            out["receive"].append(t3 - t2)
            out["bytes"].append(len(message))
    return {k: statistics.median(v) * (1 if k == "bytes" else 1e3) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--new", type=int, default=10, help="new flagged requests between snapshots")
    ap.add_argument("--snapshots", type=int, default=40)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; feed of 1000 entries, "
          f"{args.new} new per snapshot")
    whole = run(False, args.new, args.snapshots)
    change = run(True, args.new, args.snapshots)
    print(f"{'per snapshot (median)':34} {'feed as change':>14} {'whole feed':>11} {'whole/change':>13}")
    for part, label in (("build", "child: LiveStats.dashboard ms"), ("send", "child: encode + pickle ms"),
                        ("receive", "UI: unpickle + rebuild ms"), ("bytes", "bytes on the pipe")):
        spec = ",.0f" if part == "bytes" else ".2f"
        ratio = whole[part] / max(change[part], 1e-9)
        print(f"{label:34} {change[part]:14{spec}} {whole[part]:11{spec}} {ratio:12.1f}x")
    pipe_c = change["send"] + change["receive"]
    pipe_w = whole["send"] + whole["receive"]
    print(f"{'pickle + unpickle + rebuild ms':34} {pipe_c:14.2f} {pipe_w:11.2f} {pipe_w / max(pipe_c, 1e-9):12.1f}x")


if __name__ == "__main__":
    main()
