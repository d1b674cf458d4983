"""The monitor's header: long paths are shortened in the middle so that model and threshold stay in view, a
refused model is said in words, and ``lines`` counts lines (not the pieces of an over-long one)."""

from __future__ import annotations

from pathlib import Path

from threatlens.tui import format as fmt
from threatlens.tui.app import make_app
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


def _header(app) -> str:
    return "\n".join(screen_text(app).splitlines()[:2])


def test_paths_keep_file_names_and_the_start_of_directories() -> None:
    paths = ["/tmp/threatlens-demo-vkocf9kx/access.log", "/tmp/threatlens-demo-vkocf9kx/ufw.log"]
    assert fmt.paths(paths, 200) == ", ".join(paths)
    for width in (30, 40, 60):
        text = fmt.paths(paths, width)
        assert len(text) <= width and "access.log" in text and "ufw.log" in text and text.startswith("/tm"), text
    assert fmt.paths(["a-long-file-name.log"], 9) == "a-lo….log"


@run_async
async def test_a_long_path_leaves_model_and_threshold_in_view(tmp_path: Path) -> None:
    deep = tmp_path / ("very-long-directory-name-" * 4) / "logs"
    deep.mkdir(parents=True)
    log = write_log(deep / "access.log", normal_lines(10))
    app = make_app([log], from_start=True, detection=RuleDetection(), geo=None, clock=lambda: FIXED_NOW)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= 10)
        app.refresh_dashboard(force=True)
        await pilot.pause()
        first = _header(app).splitlines()[0]
        assert "…/access.log" in first and "model rules (test)  threshold 0.50" in first, first
        await pilot.resize_terminal(220, 34)
        await pilot.pause()
        first = _header(app).splitlines()[0]
        assert f"{'very-long-directory-name-' * 2}very" in first and "threshold 0.50" in first, first


@run_async
async def test_a_refused_model_is_said_in_the_header_and_a_toast(tmp_path: Path) -> None:
    bad = tmp_path / "model.skops"
    bad.write_bytes(b"this is not a model")
    log = write_log(tmp_path / "access.log", normal_lines(10) + attack_lines(4, start=10))
    app = make_app([log], from_start=True, model=str(bad), geo=None, clock=lambda: FIXED_NOW)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= 14 and app.header_info.model != "loading…", 30)
        app.refresh_dashboard(force=True)
        await pilot.pause()
        assert "model refused: behaviour only" in _header(app)
        assert app.header_info.model_problem  # drawn in the alert style
        toasts = [n.message for n in app._notifications]
        assert any("model refused" in t and "behaviour detectors" in t for t in toasts), toasts
        det = app.pipeline.detection
        assert det is not None and det.scorer is None  # the behaviour detectors do run


@run_async
async def test_lines_counts_an_over_long_line_once(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(b"".join(f"{x}\n".encode() for x in normal_lines(3)))
    app = make_app([log], from_start=True, detection=RuleDetection(), geo=None, clock=lambda: FIXED_NOW,
                   follower_options={"max_line_bytes": 1024})
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= 3)
        with open(log, "ab") as fh:  # a line growing past the limit: the follower hands it on in pieces
            for _ in range(5):
                fh.write(b"x" * 1000)
                fh.flush()
                await pilot.pause(0.3)
            fh.write(b"\n" + "".join(f"{x}\n" for x in normal_lines(2, start=5)).encode())
        await wait_for(pilot, lambda: app.live.totals.parsed >= 5)
        await pilot.pause(0.5)
        totals = app.live.totals
        assert (totals.lines, totals.parsed, totals.unparsed) == (6, 5, 1)
        app.refresh_dashboard(force=True)
        await pilot.pause()
        assert "lines 6  parsed 5  unparsed 1" in _header(app)


@run_async
async def test_the_counts_fit_80_columns_with_shorter_labels(tmp_path: Path) -> None:
    """fixb item 4: at 80x24 the alerts and succeeded? counts were cut (``flagged 133  ale…``)."""
    lines = normal_lines(900) + attack_lines(300, start=900)
    log = write_log(tmp_path / "access.log", lines)
    app = make_app([log], from_start=True, detection=RuleDetection(), geo=None, clock=lambda: FIXED_NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= len(lines), timeout=30)
        app.refresh_dashboard(force=True)
        await pilot.pause()
        data = app.live.dashboard()
        assert data.flagged >= 100 and data.alerts and data.possibly >= 100, data
        counts = _header(app).splitlines()[1]
        assert "…" not in counts, counts
        for part in (f"flagged {data.flagged}", f"alerts {data.alerts}", f"succeeded? {data.possibly}", "lines 1.2k"):
            assert part in counts, (part, counts)
        await pilot.resize_terminal(120, 34)  # room: every count in full again
        await pilot.pause()
        counts = _header(app).splitlines()[1]
        assert f"lines 1200  parsed 1200  unparsed 0  flagged {data.flagged}" in counts, counts


def test_compact_counts_pick_their_unit_after_rounding() -> None:
    """9,999 lines/s is "10k", not "10.0k"; 999,999 is "1.0M", not "1000k" (the walk saw both)."""
    from threatlens.tui.format import count

    assert [count(n) for n in (999, 1000, 1234, 9999, 10_000, 35_400, 999_499, 999_999, 1_234_567)] == [
        "999", "1.0k", "1.2k", "10k", "10k", "35k", "999k", "1.0M", "1.2M"]
