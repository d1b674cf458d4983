"""``--from-start`` progress (issue #11 item 8): it follows the lines processed and stays until they caught up."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from threatlens.pipeline import Pipeline
from threatlens.tui.app import make_app
from threatlens.tui.ingest import Ingestor
from threatlens.tui.live import LiveStats
from threatlens.tui.options import MonitorOptions
from tui_support import (
    FIXED_NOW,
    RuleDetection,
    attack_lines,
    normal_lines,
    run_async,
    screen_text,
    wait_for,
    write_log,
)


def test_progress_tracks_the_lines_processed_not_those_read_ahead(tmp_path: Path) -> None:
    n = 20_000
    log = write_log(tmp_path / "access.log", [x for i in range(n // 20)
                                              for x in normal_lines(19, start=i * 20) + attack_lines(1, start=i * 20)])
    live = LiveStats(threshold=0.5)
    pipeline = Pipeline(log_format="combined", detection=RuleDetection(), stats=live, strict=False)
    reports: list[tuple[int, str]] = []
    done = threading.Event()
    ingestor = Ingestor(MonitorOptions(paths=[str(log)], from_start=True), pipeline, live,
                        on_note=lambda text, severity: None,
                        on_progress=lambda lines, pending, text: reports.append((lines, text)),
                        follower_options={"max_batch_lines": 500})  # many reports; the readers run ahead

    def run() -> None:
        ingestor.run(lambda: live.totals.lines >= n and bool(reports) and not reports[-1][1])
        done.set()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    assert done.wait(120), "the ingestor did not finish"
    during = [(lines, text) for lines, text in reports if lines < n]
    assert len(during) >= 10
    for lines, text in during:
        # still reading what was there: it says so (it vanished at 70 %), and the share is that of the lines
        # processed (it said 61 % at 16 %); every line has the same length here, give or take a few bytes
        m = re.fullmatch(r"reading existing content (\d+)% \([\d.]+ of 2\.\d MB\)", text)
        assert m, (lines, text)
        assert abs(int(m.group(1)) - 100 * lines / n) <= 2, (lines, text)
    assert [text for lines, text in reports if lines >= n][-1] == ""  # caught up: gone


@pytest.mark.parametrize("size", [(80, 24), (120, 34)], ids=lambda s: f"{s[0]}x{s[1]}")
@run_async
async def test_progress_is_readable_in_the_header_at_80_and_120_columns(tmp_path: Path, size) -> None:
    log = write_log(tmp_path / "access.log", normal_lines(30) + attack_lines(5, start=30))
    app = make_app([str(log)], from_start=True, detection=RuleDetection(), geo=None, clock=lambda: FIXED_NOW,
                   export_dir=tmp_path / "exports")
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= 35)
        app.header_info.progress = "reading existing content 42% (12.5 of 37.4 MB)"  # as the ingestor words it
        app.refresh_dashboard(force=True)
        await pilot.pause()
        header = screen_text(app).splitlines()[:3]
        assert any(line.strip() == app.header_info.progress for line in header), header


def test_progress_in_the_header_is_never_ahead_of_the_counts_beside_it(tmp_path: Path) -> None:
    """With ingestion in its own process, progress and counts reach the UI apart: what the header shows together
    (the newest snapshot's line count and the newest progress text) must agree; progress was up to a snapshot
    period of reading ahead (5 % and more on a big log)."""
    from threatlens.tui.remote import RemoteLive, ingest_spec

    n = 120_000
    log = write_log(tmp_path / "access.log", [x for i in range(n // 20)
                                              for x in normal_lines(19, start=i * 20) + attack_lines(1, start=i * 20)])
    opts = MonitorOptions(paths=[str(log)], from_start=True, refresh_hz=1.0)
    shown: dict[str, object] = {"lines": 0, "progress": ""}
    ahead: list[tuple[int, str]] = []
    seen: list[int] = []
    remote: RemoteLive

    def on_event(kind: str, args: tuple) -> None:  # the reader thread, in the order the UI gets them
        if kind == "snapshot":
            shown["lines"] = remote.latest[0].lines
        elif kind == "progress":
            shown["progress"] = args[2]
        else:
            return
        m = re.fullmatch(r"reading existing content (\d+)% .*", str(shown["progress"]))
        if m:
            seen.append(int(m.group(1)))
            if int(m.group(1)) > 100 * int(shown["lines"]) / n + 1:  # bytes and lines: every line is as long
                ahead.append((int(shown["lines"]), str(shown["progress"])))

    remote = RemoteLive(ingest_spec(opts, detection=None, geo=None,
                                    follower_options={"max_batch_lines": 500}), on_event)
    remote.start()
    try:
        deadline = time.monotonic() + 120
        while int(shown["lines"]) < n:
            assert time.monotonic() < deadline, f"read {shown['lines']} of {n} lines"
            time.sleep(0.05)
    finally:
        remote.stop()
    assert len(seen) >= 2, "the log was read too fast to show progress twice"
    assert not ahead, ahead[:5]
