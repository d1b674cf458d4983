"""The monitor's garbage collections run between frames (``threatlens.tui.idle_collector``)."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from textual.message import Message

from tui_support import normal_lines, run_async, screen_text, wait_for, write_log


class _Node:
    """An object in a reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


def _cycles(n: int) -> weakref.ref[_Node]:
    """``n`` garbage cycles; a reference that says whether the last one was freed."""
    node = _Node()
    probe = weakref.ref(node)
    del node
    for _ in range(n):
        _Node()
    return probe


class _Waiting(Message):
    """A message standing for a key that waits in the app's queue."""


@run_async
async def test_garbage_is_collected_only_when_no_message_waits_and_the_collector_comes_back_at_exit(
        tmp_path: Path) -> None:
    from threatlens.tui.app import make_app

    log = write_log(tmp_path / "access.log", normal_lines(20))
    app = make_app([log], detection=None, geo=None, from_start=True, export_dir=tmp_path,
                   config_path=tmp_path / "c.toml")
    app.after_first_frame = app.collect_when_idle
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: "lines 20" in screen_text(app) and app.collector is not None)
        collector = app.collector
        assert collector is not None
        assert not gc.isenabled(), "automatic collection is off: collections wait for an idle moment"
        probe = _cycles(10 * collector.young)
        assert probe() is not None, "nothing collected while the allocations happened"
        app.post_message(_Waiting())  # a key in the queue goes before the collection
        collector.check()
        assert probe() is not None and collector.deferred >= 1
        await pilot.pause(0.3)  # the queue empties; the next periodic check collects
        assert probe() is None
        assert sum(collector.collections) >= 1
    assert gc.isenabled(), "the app's end gives the process its automatic collector back"


@run_async
async def test_a_loop_that_is_never_idle_still_collects(tmp_path: Path) -> None:
    from threatlens.tui.app import make_app
    from threatlens.tui.idle_collector import MAX_DEFERRED

    log = write_log(tmp_path / "access.log", normal_lines(5))
    app = make_app([log], detection=None, geo=None, from_start=True, export_dir=tmp_path,
                   config_path=tmp_path / "c.toml")
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: "lines 5" in screen_text(app))
        app.collect_when_idle()
        collector = app.collector
        assert collector is not None
        probe = _cycles(10 * collector.young)
        for _ in range(MAX_DEFERRED + 1):
            app.post_message(_Waiting())
            collector.check()
        assert probe() is None, f"collected after {MAX_DEFERRED} deferred checks in a row"
        await pilot.pause()
    assert gc.isenabled()
