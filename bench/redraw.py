"""Benchmark of a dashboard redraw with a full alerts feed: ``KeyedTable`` against Textual's ``DataTable``.

The monitor (thread mode, the shipped model) reads 50k generated lines, enough for a full feed of
1000 entries, then ``--steps`` times: 400 more lines arrive, then one forced redraw
(``refresh_dashboard(force=True)`` until the frame reached the screen), at 160x48 and then at 80x24.
Reported per size: CPU ms per dashboard redraw (``process_time`` of this process, the ingestion
thread idle by then) and table rows drawn per redraw.

Peer, in the same run: the rows each table was given at each redraw are replayed into two bare apps
with the tables at the same places and sizes, one of ``KeyedTable`` (this project's) and one of Textual's
``DataTable`` updated by keyed diff (``update_cell``/``add_row``/``remove_row``/``sort``: what the
monitor had before). Their CPU ms per redraw, alternated ``--rounds`` times, give the ratio.

    .venv/bin/python bench/redraw.py [--steps 15] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from threatlens.samplegen import generate
from threatlens.tui.app import make_app
from threatlens.tui.widgets.keyed_table import KeyedTable

SIZES = ((160, 48), (80, 24))
Frame = dict[str, list[tuple[str, tuple[Text, ...]]]]  # table id -> its rows as shown (key, cells)


def _ms(values: Sequence[float]) -> str:
    """Median and range in ms."""
    ms = sorted(v * 1000 for v in values)
    return f"median {statistics.median(ms):6.1f}  range {ms[0]:6.1f}-{ms[-1]:6.1f}"


async def monitor(steps: int) -> tuple[dict[tuple[int, int], dict[str, Any]], Path]:
    """Run the real monitor; per size the redraw times, rows drawn, table places and the frames shown."""
    tmp = Path(tempfile.mkdtemp(prefix="tl-redraw-"))
    lines = [f"{x}\n" for x in generate(50_000 + 2 * steps * 400, "combined", seed=3)]
    log = tmp / "a.log"
    log.write_text("".join(lines[:50_000]))
    app = make_app([log], export_dir=tmp, config_path=tmp / "c.toml", refresh_hz=0.5, from_start=True)
    out: dict[tuple[int, int], dict[str, Any]] = {}
    async with app.run_test(size=SIZES[0]) as pilot:
        while not app.detection_ready.is_set() or app.live.totals.lines < 50_000:
            await pilot.pause(0.2)
        await pilot.pause(1)
        k = 50_000
        for size in SIZES:
            await pilot.resize_terminal(*size)
            await pilot.pause(0.5)
            app.refresh_dashboard(force=True)
            await pilot.pause()
            tables = list(app.dashboard.query(KeyedTable))
            feed = app.dashboard.query_one("#alerts", KeyedTable)
            result: dict[str, Any] = {"times": [], "drawn": [], "frames": [], "feed_rows": feed.row_count,
                                      "places": {t.id: (t.region, t.layout, dict((k, lbl) for k, lbl, _w in t.COLUMNS))
                                                 for t in tables if t.display and t.region.area}}
            for _ in range(steps):
                with log.open("a") as fh:
                    fh.write("".join(lines[k:k + 400]))
                k += 400
                while app.live.totals.lines < k:
                    await pilot.pause(0.05)
                drawn = sum(t.rows_drawn for t in tables)
                t0 = time.process_time()
                app.refresh_dashboard(force=True)
                await pilot.pause()
                await pilot.pause()
                result["times"].append(time.process_time() - t0)
                result["drawn"].append(sum(t.rows_drawn for t in tables) - drawn)
                result["frames"].append({t.id: [(key, tuple(t.get_row(key))) for key in t.row_keys]
                                         for t in tables if t.id in result["places"]})
            out[size] = result
    return out, tmp


class PeerKeyed(KeyedTable):
    """A ``KeyedTable`` given the columns the monitor's table showed (their widths fixed)."""

    def __init__(self, columns: tuple[tuple[str, str, int | None], ...], id: str) -> None:
        super().__init__(id=id)
        self.COLUMNS = columns  # type: ignore[misc]


class PeerData(DataTable[Any]):
    """Textual's ``DataTable`` kept up to date by keyed diff, as the monitor's tables were before."""

    def __init__(self, columns: tuple[tuple[str, str, int | None], ...], id: str) -> None:
        super().__init__(id=id, cursor_type="row")
        self._columns = columns
        self._order: list[str] = []

    def on_mount(self) -> None:
        """The columns, at the widths the monitor's table had."""
        for key, label, width in self._columns:
            self.add_column(label, key=key, width=width)

    def sync(self, rows: Sequence[tuple[str, Sequence[Text]]]) -> None:
        """Rows gone removed, changed cells updated, new rows added, then sorted into the given order."""
        keys = [key for key, _cells in rows]
        wanted = set(keys)
        for row_key in [rk for rk in self.rows if rk.value not in wanted]:
            self.remove_row(row_key)
        columns = [key for key, _label, _w in self._columns]
        for key, cells in rows:
            if key in self.rows:
                for column, old, new in zip(columns, self.get_row(key), cells, strict=False):
                    if old is not new and not (old.plain == new.plain and old.spans == new.spans
                                               and old.style == new.style):
                        self.update_cell(key, column, new)
            else:
                self.add_row(*cells, key=key)
        if keys != self._order and len(keys) > 1:
            rank = {id(self.get_cell(key, columns[0])): i for i, key in enumerate(keys)}
            self.sort(columns[0], key=lambda cell: rank.get(id(cell), len(keys)))
        self._order = keys


class Replay(App[None]):
    """The monitor's tables at their places, of one widget class, fed the frames the monitor showed."""

    CSS = """
    Screen { layers: base; }
    .peer { position: absolute; border: round $primary 40%; }
    """

    def __init__(self, kind: type, places: dict[str, Any]) -> None:
        super().__init__()
        self.kind = kind
        self.places = places

    def compose(self) -> ComposeResult:
        """One table per place."""
        for table_id, (region, layout, labels) in self.places.items():
            columns = tuple((k, labels[k], w) for k, w in layout)
            table = self.kind(columns, id=table_id)
            table.add_class("peer")
            table.styles.offset = (region.x, region.y)
            table.styles.width = region.width
            table.styles.height = region.height
            yield table


async def replay(kind: type, size: tuple[int, int], places: dict[str, Any], frames: list[Frame]) -> list[float]:
    """CPU seconds per frame: every table given its rows, then the screen updated."""
    app = Replay(kind, places)
    times = []
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        first, *rest = frames
        for table_id, rows in first.items():
            app.query_one(f"#{table_id}").sync(rows)
        await pilot.pause()
        await pilot.pause()
        for frame in rest:
            t0 = time.process_time()
            for table_id, rows in frame.items():
                app.query_one(f"#{table_id}").sync(rows)
            await pilot.pause()
            await pilot.pause()
            times.append(time.process_time() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15, help="redraws per size (400 new lines before each)")
    parser.add_argument("--rounds", type=int, default=2, help="alternated replays of each peer")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at start")
    results, _tmp = asyncio.run(monitor(args.steps))
    for size, result in results.items():
        print(f"\n{size[0]}x{size[1]}, feed rows {result['feed_rows']}, tables {', '.join(result['places'])}")
        print(f"  monitor redraw (all panels) ms  {_ms(result['times'])}   "
              f"table rows drawn per redraw: median {statistics.median(result['drawn']):.0f}")
        keyed: list[float] = []
        data: list[float] = []
        for _ in range(args.rounds):
            keyed += asyncio.run(replay(PeerKeyed, size, result["places"], result["frames"]))
            data += asyncio.run(replay(PeerData, size, result["places"], result["frames"]))
        print(f"  tables alone, KeyedTable ms     {_ms(keyed)}")
        print(f"  tables alone, DataTable ms      {_ms(data)}")
        print(f"  DataTable / KeyedTable (medians): {statistics.median(data) / statistics.median(keyed):.1f}x")
    print(f"\nload average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
