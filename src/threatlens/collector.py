"""``collect_less``: the garbage collector's settings for a process that makes many short-lived objects.

A scan batch (and the monitor's ingestion process) makes thousands of short-lived records and verdict tuples,
almost none in a reference cycle: with the default thresholds the collector ran about 3.5 times per 1000 lines
and took 10 % of a scan's CPU (3.0 of 28.6 s on the 1M-line realistic log), mostly re-scanning the caches and
tables. The monitor's UI process makes strips and segments for every frame: with the defaults it ran a full
collection every 5 s at 10k lines/s, each pausing the screen 50-70 ms (a key pressed then waited for it).
"""

from __future__ import annotations

import gc

__all__ = ["GC_YOUNG", "GC_YOUNG_UI", "collect_less"]

#: Allocations the cyclic garbage collector lets pass before a young collection (Python's default: 700).
GC_YOUNG = 20_000
#: The same for the monitor's UI process: a young collection there scans strips that reference many segments,
#: about 1 us an object (20,000: 23-29 ms pauses), so it stays frequent and short. With the middle generation
#: every 10 young collections, 30 s at 10k lines/s paused it 154 times for 1.3 ms (p50), 13 times for 14 ms and
#: once for 38 ms, against 6 full collections of 52-72 ms with Python's defaults.
GC_YOUNG_UI = 3_000


def collect_less(young: int = GC_YOUNG, middle: int = 50) -> None:
    """Freeze what this process made so far (never scanned again) and collect less often.

    Young collections every ``young`` allocations, the middle generation after ``middle`` young ones,
    full collections rarely (after 100 of those).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(young, middle, 100)
