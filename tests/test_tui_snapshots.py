"""Snapshot tests (pytest-textual-snapshot) of the dashboard (tiers shown and nuisance hidden), IP screen, help,
export and block-list dialogs.

Clock and data are fixed: a log written by the test, a rule-based detection, no geo database, and a
clock frozen at ``FIXED_NOW``. Regenerate with ``pytest tests/test_tui_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from threatlens.tui.app import make_app
from tui_support import ATTACKER, FIXED_NOW, RuleDetection, attack_lines, line, normal_lines, write_log

SIZES = [(80, 24), (120, 34)]  # the sizes the README promises


@pytest.fixture
def snap_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    lines = normal_lines(60) + attack_lines(9, start=60) + normal_lines(30, start=80)
    lines.append(line("192.168.1.20", "/wp-login.php", status=404, method="POST"))
    lines.append(line("192.0.2.88", "/", status=405, method="PROPFIND"))  # a suspicious request
    lines.append(line("192.0.2.77", "/", agent="Mozilla/5.0 (compatible; 80legs/1.0)"))  # a nuisance bot
    lines.append("this is not an access log line")
    write_log(tmp_path / "access.log", lines)

    def build():
        return make_app(["access.log"], from_start=True, detection=RuleDetection(), geo=None,
                        clock=lambda: FIXED_NOW, export_dir=Path("exports"), refresh_hz=0.5)

    return build, len(lines)


def _settle(n: int):
    async def run_before(pilot) -> None:
        app = pilot.app
        deadline = time.monotonic() + 60  # generous for a loaded machine; a hang fails instead of timing out pytest
        while app.live.totals.lines < n or not any("log format" in note for note in app.notes):
            assert time.monotonic() < deadline, f"monitor did not settle: {app.live.totals.lines} of {n} lines"
            await pilot.pause(0.05)
        await pilot.pause()
        app.clear_notifications()
        app.refresh_dashboard(force=True)
        await pilot.pause()

    return run_before


def _then(n: int, *keys: str):
    settle = _settle(n)

    async def run_before(pilot) -> None:
        await settle(pilot)
        if keys and keys[0] == "open-ip":
            pilot.app.open_ip(ATTACKER)
            await pilot.pause()
            rest = keys[1:]
        else:
            rest = keys
        await pilot.press(*rest)
        pilot.app.clear_notifications()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard(snap_compare, snap_app, size) -> None:
    build, n = snap_app
    assert snap_compare(build(), terminal_size=size, run_before=_settle(n))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_ip_screen(snap_compare, snap_app, size) -> None:
    build, n = snap_app
    assert snap_compare(build(), terminal_size=size, run_before=_then(n, "open-ip"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help(snap_compare, snap_app, size) -> None:
    build, n = snap_app
    assert snap_compare(build(), terminal_size=size, run_before=_then(n, "question_mark"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_export_dialog(snap_compare, snap_app, size) -> None:
    build, n = snap_app
    assert snap_compare(build(), terminal_size=size, run_before=_then(n, "e"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_blocklist_dialog(snap_compare, snap_app, size) -> None:
    build, n = snap_app
    assert snap_compare(build(), terminal_size=size, run_before=_then(n, "b"))


def test_dashboard_nuisance_hidden(snap_compare, snap_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # the tiers read as words without colour
    build, n = snap_app
    assert snap_compare(build(), terminal_size=(120, 34), run_before=_then(n, "n"))
