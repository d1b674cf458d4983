"""The monitor with ingestion in its own process (``ingest="process"``, what ``threatlens-tui`` runs).

Real files, a real child process, the real app headless: every control still reaches the counts
(sort, threshold, filter, nuisance, allowlist), drill-down and exports are answered by the child,
and the child never outlives the UI, however the UI ends.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from tui_support import ATTACKER, RuleDetection, attack_lines, normal_lines, run_async, screen_text, wait_for, write_log

TESTS = Path(__file__).resolve().parent


def _app(tmp_path: Path, log: Path, **kw):
    from threatlens.tui.app import make_app

    return make_app([log], from_start=True, export_dir=tmp_path, config_path=tmp_path / "config.toml",
                    detection=RuleDetection(), geo=None, ingest="process", **kw)


def _shown(app) -> int:
    return app.remote.latest[0].lines


@run_async
async def test_counts_controls_drilldown_and_exports_go_through_the_child(tmp_path: Path) -> None:
    log = write_log(tmp_path / "access.log", normal_lines(40) + attack_lines(8))
    app = _app(tmp_path, log)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: _shown(app) == 48, timeout=60)
        child = psutil.Process(app.remote.pid)
        assert child.pid != os.getpid() and child.ppid() == os.getpid()
        assert app.ingestor is None  # nothing is followed on the UI's side
        data = app.remote.latest[0]
        assert (data.flagged, data.alerts) == (8, 1)
        await wait_for(pilot, lambda: "lines 48" in screen_text(app))  # drawn with the next redraw

        write_log(log, attack_lines(4, start=100), mode="a")  # followed as it grows
        await wait_for(pilot, lambda: _shown(app) == 52)

        await pilot.press("s")  # the order arrives with the snapshot that has it
        await wait_for(pilot, lambda: app.dashboard.query_one("#top-ips").border_title == "Top IPs by flagged (s)")
        assert app.dashboard.selected_ip() == ATTACKER

        await pilot.press("enter")  # the IP screen: a request answered by the child
        await wait_for(pilot, lambda: ATTACKER in screen_text(app) and "requests 12" in screen_text(app))
        write_log(log, attack_lines(4, start=150), mode="a")  # the open screen follows (without waiting on the child)
        await wait_for(pilot, lambda: "requests 16" in screen_text(app))
        await pilot.press("escape")

        app.set_filter(f"ip:{ATTACKER}")
        await wait_for(pilot, lambda: app.remote.latest[0].matching == 16)
        app.set_filter("")
        await wait_for(pilot, lambda: app.remote.latest[0].matching is None)

        app.change_threshold(+0.5)  # 0.5 -> 0.99: above the rules' 0.95, nothing stays flagged
        await wait_for(pilot, lambda: app.remote.latest[0].flagged == 0)
        app.change_threshold(-0.49)
        await wait_for(pilot, lambda: app.remote.latest[0].flagged == 16)

        app.add_allowlist(ATTACKER)  # marked on screen; detection in the child stops flagging it
        await wait_for(pilot, lambda: any(r.cells.allowlisted for r in app.remote.latest[0].top_ips))
        write_log(log, attack_lines(4, start=200), mode="a")
        await wait_for(pilot, lambda: _shown(app) == 60)
        assert app.remote.latest[0].flagged == 16

        from threatlens.tui.exporting import ExportRequest

        app.do_export(ExportRequest("flagged", "jsonl", tmp_path / "flagged.jsonl"))
        rows = [json.loads(x) for x in (tmp_path / "flagged.jsonl").read_text(encoding="utf-8").splitlines()]
        assert len(rows) == 16 and {r["ip"] for r in rows} == {ATTACKER}
        app.do_export(ExportRequest("flagged", "jsonl", tmp_path / "flagged.jsonl"))  # exists: asks first
        await pilot.pause(0.2)
        assert "Overwrite" in screen_text(app)
        await pilot.press("escape")
        assert app.blocklist_ips("attack") == []  # allowlisted now: never on a block list
    await _gone(child, 5.0)


@run_async
async def test_s_reorders_the_top_ips_at_once_even_with_the_child_stopped_and_the_order_stays(tmp_path: Path) -> None:
    """Each snapshot holds both orders: ``s`` needs no round trip (the child is stopped here), paused or not."""
    log = write_log(tmp_path / "access.log", normal_lines(40) + attack_lines(8))
    app = _app(tmp_path, log)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: _shown(app) == 48 and "lines 48" in screen_text(app), timeout=60)
        table = app.dashboard.query_one("#top-ips")
        assert app.dashboard.selected_ip() != ATTACKER  # by requests: the busiest normal client leads
        os.kill(app.remote.pid, signal.SIGSTOP)
        try:
            await pilot.press("s")
            await pilot.pause()
            assert table.border_title == "Top IPs by flagged (s)"
            assert app.dashboard.selected_ip() == ATTACKER
            await pilot.press("p", "s")  # paused: the frozen rows change order too
            await pilot.pause()
            assert table.border_title == "Top IPs by requests (s)" and app.dashboard.selected_ip() != ATTACKER
            await pilot.press("s", "p")
        finally:
            os.kill(app.remote.pid, signal.SIGCONT)
        write_log(log, normal_lines(5, start=300), mode="a")  # later snapshots lead with the order chosen
        await wait_for(pilot, lambda: _shown(app) == 53 and app.remote.latest[0].sort == "flagged")
        await wait_for(pilot, lambda: "lines 53" in screen_text(app))
        assert table.border_title == "Top IPs by flagged (s)" and app.dashboard.selected_ip() == ATTACKER


@run_async
async def test_enter_opens_the_ip_screen_from_the_snapshot_asked_ahead_then_shows_the_current_one(
        tmp_path: Path) -> None:
    """The selected row's IP snapshot is asked ahead: Enter opens at once (the child is stopped here)."""
    log = write_log(tmp_path / "access.log", normal_lines(40) + attack_lines(8))
    app = _app(tmp_path, log)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: _shown(app) == 48 and "lines 48" in screen_text(app), timeout=60)
        await pilot.press("s")  # the attacker on the first row
        ip = app.dashboard.selected_ip()
        assert ip == ATTACKER
        await wait_for(pilot, lambda: app.ahead.have is not None and app.ahead.have[0] == ip)
        await wait_for(pilot, lambda: app._ip_screen is not None and app._ip_screen.is_mounted)  # composed ahead
        assert app._ip_screen not in app.screen_stack
        os.kill(app.remote.pid, signal.SIGSTOP)
        try:
            write_log(log, attack_lines(4, start=100), mode="a")  # read once the child runs again
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is app._ip_screen and ATTACKER in screen_text(app) and "requests 8" in screen_text(app)
        finally:
            os.kill(app.remote.pid, signal.SIGCONT)
        await wait_for(pilot, lambda: "requests 12" in screen_text(app))  # the current snapshots follow
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard

        await pilot.press("j")  # another row: the hidden IP screen draws its IP ahead of Enter
        other = app.dashboard.selected_ip()
        screen = app._ip_screen
        assert other not in (None, ATTACKER)
        await wait_for(pilot, lambda: screen.ip == other)
        table = screen.query_one("#ip-requests")
        drawn = table.rows_drawn
        layouts = [0]
        original = screen._refresh_layout

        def counting(*args, **kwargs):  # the real layout, counted
            layouts[0] += 1
            return original(*args, **kwargs)

        screen._refresh_layout = counting
        os.kill(app.remote.pid, signal.SIGSTOP)
        try:
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is screen and other in screen_text(app) and ATTACKER not in screen_text(app)
            assert table.rows_drawn == drawn, "Enter drew no row: they were drawn while the screen was hidden"
            assert layouts[0] == 0, "texts of a fixed size: showing the screen again lays nothing out"
        finally:
            os.kill(app.remote.pid, signal.SIGCONT)


@run_async
async def test_rates_fall_to_zero_once_the_log_stops_growing(tmp_path: Path) -> None:
    """#10 item 1: the child pushes snapshots while "now" decays, so header and Rates reach 0 (they stayed)."""
    log = write_log(tmp_path / "access.log", normal_lines(300) + attack_lines(20))
    app = _app(tmp_path, log)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: _shown(app) == 320 and app.remote.latest[0].rate_now > 0, timeout=60)
        await wait_for(pilot, lambda: "lines 320" in screen_text(app) and " 0 lines/s" not in screen_text(app))
        # nothing more arrives: the mean of the last 10 complete seconds falls to 0 (bounded by the timeout,
        # generous for a loaded machine; before the fix no snapshot came and the old speed stayed for good)
        await wait_for(pilot, lambda: app.remote.latest[0].rate_now == 0, timeout=40)
        await wait_for(pilot, lambda: " 0 lines/s" in screen_text(app), timeout=10)
        # the Rates panel is drawn a step after the header (a snapshot is drawn in steps, a frame apart)
        await wait_for(pilot, lambda: "requests/s  now 0" in screen_text(app), timeout=5)
        text = screen_text(app)
        assert " 0 lines/s" in text and "flagged+alerts/s  now 0" in text, text


async def _gone(proc: psutil.Process, seconds: float) -> None:
    try:
        proc.wait(timeout=seconds)
    except psutil.TimeoutExpired:
        proc.kill()
        raise AssertionError(f"the ingestion process {proc.pid} outlived the monitor") from None


_PARENT = """
import asyncio, sys, time
sys.path.insert(0, {tests!r})
from pathlib import Path
from tui_support import RuleDetection
from threatlens.tui.app import make_app

async def main():
    tmp = Path({tmp!r})
    app = make_app([tmp / "access.log"], export_dir=tmp, config_path=tmp / "c.toml", detection=RuleDetection(),
                   geo=None, ingest="process", from_start=True)
    async with app.run_test() as pilot:
        while app.remote.latest[0].lines < 5:
            await pilot.pause(0.05)
        print(app.remote.pid, flush=True)
        time.sleep(600)  # the UI hangs: the test kills it

if __name__ == "__main__":
    asyncio.run(main())
"""


def test_the_child_dies_with_a_killed_monitor(tmp_path: Path) -> None:
    write_log(tmp_path / "access.log", normal_lines(5))
    script = tmp_path / "parent.py"
    script.write_text(_PARENT.format(tests=str(TESTS), tmp=str(tmp_path)), encoding="utf-8")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = psutil.Process(int(parent.stdout.readline()))
        assert child.is_running() and child.ppid() == parent.pid
        parent.send_signal(signal.SIGKILL)  # no cleanup runs in the UI
        parent.wait(10)
        start = time.monotonic()
        try:
            child.wait(timeout=5)
        except psutil.TimeoutExpired:
            child.kill()
            raise AssertionError("the ingestion process outlived its killed monitor") from None
        assert time.monotonic() - start < 5
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)
        if parent.stdout is not None:
            parent.stdout.close()


@run_async
async def test_the_header_says_a_filter_is_applying_until_the_panels_show_it(tmp_path: Path) -> None:
    """A new filter showed in the header 1-3 s before the child's snapshot applied it to the panels."""
    log = write_log(tmp_path / "access.log", normal_lines(40) + attack_lines(8))
    app = _app(tmp_path, log)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: _shown(app) == 48, timeout=60)
        await wait_for(pilot, lambda: "lines 48" in screen_text(app))
        child = psutil.Process(app.remote.pid)
        child.suspend()  # the child cannot answer: the gap, held open as long as the test needs
        try:
            app.set_filter(f"ip:{ATTACKER}")
            app.repaint_header()
            await pilot.pause(0.1)
            text = screen_text(app)
            assert f"filter ip:{ATTACKER}  (applying…)" in text, text
            assert "retained requests match" not in text
        finally:
            child.resume()
        await wait_for(pilot, lambda: "(8 retained requests match; Esc clears)" in screen_text(app))
        assert "applying" not in screen_text(app)

        child.suspend()
        try:
            app.set_filter("")
            app.repaint_header()
            await pilot.pause(0.1)
            assert "filter off  (applying…)" in screen_text(app)
        finally:
            child.resume()
        await wait_for(pilot, lambda: "filter" not in screen_text(app).split("\n", 4)[2])
        assert "applying" not in screen_text(app)
    await _gone(child, 5.0)


@run_async
async def test_a_key_holds_ingestion_until_its_effect_is_drawn_and_a_hold_ends_by_itself(tmp_path: Path) -> None:
    """``hold``: the child's ingest thread waits at its gate (requests are still answered), then goes on."""
    log = write_log(tmp_path / "access.log", normal_lines(40))
    app = _app(tmp_path, log)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: _shown(app) == 40, timeout=60)
        app.remote.hold(60)
        write_log(log, normal_lines(10, start=100), mode="a")
        await pilot.pause(1.5)  # the follower has read them: they wait at the gate
        assert app.remote.call("totals").lines == 40, "held: nothing counted, yet the request was answered"
        await pilot.press("p")  # a key's hold ends once its effect is drawn: the 60 s hold with it
        await wait_for(pilot, lambda: app.remote.call("totals").lines == 50)
        await pilot.press("p")
        app.remote.hold(0.3)  # a hold nobody ends runs out
        write_log(log, normal_lines(10, start=200), mode="a")
        await wait_for(pilot, lambda: app.remote.call("totals").lines == 60)


@run_async
async def test_the_config_allowlist_applies_from_the_start_in_the_child(tmp_path: Path) -> None:
    """The allowlist read with the config goes to the child with the options (read once, in the UI process); the
    entries decide when the two differ. The attacker is marked and never flagged; the other address is not."""
    from threatlens.models.allowlist import Allowlist
    from threatlens.tui.app import make_app

    other = "192.0.2.55"
    log = write_log(tmp_path / "access.log", normal_lines(20) + attack_lines(8) + attack_lines(4, ip=other))
    for parsed in ([ATTACKER], [other]):  # the config's own reading, then one of other entries
        app = make_app([log], from_start=True, export_dir=tmp_path, config_path=tmp_path / "config.toml",
                       detection=RuleDetection(), geo=None, ingest="process", allowlist=[ATTACKER],
                       parsed_allowlist=Allowlist.parse(parsed))
        async with app.run_test(size=(140, 40)) as pilot:
            await wait_for(pilot, lambda app=app: _shown(app) == 32, timeout=60)
            rows = {r.key: r.cells for r in app.remote.latest[0].top_ips}
            assert rows[ATTACKER].allowlisted and rows[ATTACKER].flagged == 0
            assert not rows[other].allowlisted and rows[other].flagged == 4


@run_async
async def test_leaving_the_ip_screen_shows_the_newest_snapshot_without_waiting_for_the_next(tmp_path: Path) -> None:
    """The dashboard is not redrawn while covered; back on it, the snapshot that came meanwhile is drawn at once
    (with one redraw every 2 s here, it showed the old numbers until the next)."""
    log = write_log(tmp_path / "access.log", normal_lines(40))
    app = _app(tmp_path, log, refresh_hz=0.5)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: "lines 40" in screen_text(app), timeout=60)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is app._ip_screen)
        write_log(log, normal_lines(10, start=100), mode="a")
        await wait_for(pilot, lambda: _shown(app) == 50)  # the child's snapshot has them; the dashboard is covered
        await pilot.press("escape")
        await wait_for(pilot, lambda: "lines 50" in screen_text(app), timeout=1.0)
