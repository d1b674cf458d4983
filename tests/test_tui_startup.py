"""Start-up of ``threatlens-tui``: the UI process stays light, the ingestion process may start before the UI.

``bench/startup.py`` measures the times; these tests hold the structure that makes them short.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui_support import RuleDetection, attack_lines, normal_lines, run_async, screen_text, wait_for, write_log

#: Libraries of ingestion and scoring: the UI process of ``threatlens-tui`` has no use for them.
HEAVY = ("numpy", "sklearn", "scipy", "pandas", "skops")


def test_the_ui_side_of_the_monitor_imports_no_numeric_library() -> None:
    code = (
        "import sys\n"
        "import threatlens.tui.main, threatlens.tui.app, threatlens.tui.remote, threatlens.tui.ingest_child\n"
        "from threatlens.tui.remote import ingest_spec\n"
        f"print(','.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith(('threatlens.pipeline', 'threatlens.models.'\n"
        "    'detection', 'threatlens.stats.aggregates', 'threatlens.parsers.presets')))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    heavy, core = out.splitlines()
    assert heavy == "", f"the monitor's UI process imports {heavy}"
    assert core == "", f"the monitor's UI process imports the ingestion side: {core}"


def test_the_empty_dashboard_is_what_live_stats_gives_before_any_line() -> None:
    from threatlens.tui.live import LiveStats, empty_dashboard

    for threshold in (0.5, 0.3):
        assert empty_dashboard(threshold) == LiveStats(threshold=threshold).dashboard()


@run_async
async def test_a_child_started_before_the_ui_hands_it_every_event(tmp_path: Path) -> None:
    """threatlens-tui spawns the child first: what it says before the app exists (model ready, the first
    snapshot) reaches the screen once the app attaches."""
    from threatlens.tui.app import make_app
    from threatlens.tui.options import MonitorOptions
    from threatlens.tui.remote import RemoteLive, ingest_spec

    log = write_log(tmp_path / "access.log", normal_lines(30) + attack_lines(6))
    opts = MonitorOptions(paths=[str(log)], from_start=True, export_dir=tmp_path, config_path=tmp_path / "c.toml")
    remote = RemoteLive(ingest_spec(opts, detection=RuleDetection(), geo=None))
    remote.start()
    try:
        for _ in range(60 * 20):  # the child reads every line before the UI exists
            if remote.latest[0].lines == 36:
                break
            await asyncio.sleep(0.05)
        assert remote.latest[0].lines == 36, "the child never counted the log"
        assert remote._early, "events before attach() are kept"
        app = make_app(opts.paths, options=opts, detection=RuleDetection(), geo=None, remote=remote)
        async with app.run_test(size=(140, 40)) as pilot:
            await wait_for(pilot, lambda: "lines 36" in screen_text(app), timeout=30)
            assert app.detection_ready.is_set()  # the "ready" event sent long before the app was made
            assert "model loading" not in screen_text(app)
            assert app.remote is remote and remote._early == []
    finally:
        remote.stop()


def test_the_ingestion_process_runs_nicer_than_the_ui(tmp_path: Path) -> None:
    """The UI goes first when both want a core (its start-up, keys, redraws); ingestion takes the rest."""
    import os

    import psutil

    from threatlens.tui.ingest_child import NICE
    from threatlens.tui.options import MonitorOptions
    from threatlens.tui.remote import RemoteLive, ingest_spec

    log = write_log(tmp_path / "access.log", normal_lines(5))
    opts = MonitorOptions(paths=[str(log)], from_start=True, export_dir=tmp_path, config_path=tmp_path / "c.toml")
    remote = RemoteLive(ingest_spec(opts, detection=None, geo=None))
    remote.start()
    try:
        for _ in range(600):
            if remote.latest[0].lines == 5:
                break
            time.sleep(0.05)
        assert remote.latest[0].lines == 5
        assert psutil.Process(remote.pid).nice() == min(19, os.nice(0) + NICE)
    finally:
        remote.stop()


@run_async
async def test_the_first_frame_already_shows_the_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """File name, format (still detecting) and model are on the screen from the first frame, not one later."""
    from threatlens.tui.app import make_app

    monkeypatch.chdir(tmp_path)  # a short file name: the whole header fits in 120 columns
    write_log(tmp_path / "first-frame.log", normal_lines(5))
    app = make_app(["first-frame.log"], ingest="process", detection=None, geo=None, from_start=True,
                   export_dir=tmp_path, config_path=tmp_path / "c.toml")
    frames: list[str] = []
    display = app._display

    def first_frame(screen: object, renderable: object) -> None:  # what each frame puts on the terminal
        if renderable is not None and not frames:
            frames.append(screen_text(app))
        display(screen, renderable)  # type: ignore[arg-type]

    app._display = first_frame  # type: ignore[method-assign]
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: bool(frames))
        header = frames[0].splitlines()[0]
        assert "ThreatLens first-frame.log  model none  format auto (detecting)  geo none" in header, frames[0]


def test_the_monitor_turns_the_collector_back_on_when_it_stops_early(tmp_path: Path) -> None:
    """``main`` keeps the garbage collector off until the first frame; an exit before it leaves it on."""
    import gc

    from threatlens.tui.main import main

    conf = tmp_path / "config.toml"
    conf.write_text("threshold = 7\n")
    assert gc.isenabled()
    assert main(["--config", str(conf), str(write_log(tmp_path / "a.log", normal_lines(1)))]) == 2
    assert gc.isenabled()


@run_async
async def test_after_first_frame_runs_once_when_the_first_redraw_is_on_screen(tmp_path: Path) -> None:
    """``threatlens-tui`` turns the collector back on there: it must run, and only once."""
    from threatlens.tui.app import make_app

    log = write_log(tmp_path / "access.log", normal_lines(5))
    app = make_app([log], detection=None, geo=None, from_start=True, export_dir=tmp_path,
                   config_path=tmp_path / "c.toml")
    calls: list[int] = []
    app.after_first_frame = lambda: calls.append(app.refreshes)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: "lines 5" in screen_text(app))
        app.refresh_dashboard(force=True)
        await pilot.pause()
        assert app.refreshes >= 2
        assert calls == [1], "called once, after the first redraw"
