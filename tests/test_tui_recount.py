"""A threshold change in the monitor gives the counts a run started at that threshold gives (real model)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from threatlens.models.detection import Detection
from threatlens.parsers.record import RawLine
from threatlens.pipeline import Pipeline
from threatlens.tui.live import LiveStats
from tui_support import (
    ATTACKER,
    BASE,
    RuleDetection,
    attack_lines,
    line,
    normal_lines,
    run_async,
    screen_text,
    wait_for,
    write_log,
)

LOG = Path(__file__).resolve().parent.parent / "sample_logs" / "combined.log"


def _run(threshold: float) -> LiveStats:
    live = LiveStats(clock=lambda: 1000.0, threshold=threshold)
    det = Detection.load(None, threshold=threshold)
    pipeline = Pipeline(log_format="combined", detection=det, stats=live, strict=False)
    offset = 0
    lines = []
    for n, raw in enumerate(LOG.read_bytes().splitlines(keepends=True), 1):
        lines.append(RawLine(str(LOG), n, offset, raw.rstrip(b"\n")))
        offset += len(raw)
    for at in range(0, len(lines), 500):
        pipeline.process(lines[at:at + 500], final=at + 500 >= len(lines))
    return live


def _counts(live: LiveStats) -> tuple[int, int]:
    data = live.dashboard()
    return data.flagged, data.possibly


@pytest.mark.parametrize(("start", "to"), [(0.5, 0.6), (0.6, 0.5)])
def test_possibly_succeeded_follows_the_threshold_both_ways(start: float, to: float) -> None:
    fresh = _counts(_run(to))
    live = _run(start)
    assert _counts(live) != fresh  # the sample differs between the two thresholds
    live.set_threshold(to)
    assert _counts(live) == fresh


def _ip_succeeded(live: LiveStats) -> dict[str, int]:
    return {r.ip: r.possibly_succeeded for r in live.stats.top_ips(10_000)}


@pytest.mark.parametrize(("start", "to"), [(0.5, 0.6), (0.6, 0.5)])
def test_each_ips_possibly_succeeded_follows_the_threshold_both_ways(start: float, to: float) -> None:
    """Every client IP row's "possibly succeeded" (the IP screen's ``succeeded?``) is a fresh run's at ``to``."""
    fresh = _ip_succeeded(_run(to))
    live = _run(start)
    assert _ip_succeeded(live) != fresh
    live.set_threshold(to)
    assert _ip_succeeded(live) == fresh


# the sample's client with a 2xx answer scored between 0.5 and 0.6 (a fresh run at 0.5 says succeeded? 1)
_SUCCEEDED_AT_05 = "155.129.14.207"


def _summary(app) -> str:
    """The IP screen's summary lines (``""`` until it shows this IP)."""
    text = screen_text(app)
    return text[text.find(f"IP {_SUCCEEDED_AT_05}"):][:400] if f"IP {_SUCCEEDED_AT_05}" in text else ""


@pytest.mark.parametrize("ingest", ["thread", "process"])
@pytest.mark.parametrize(("start", "presses", "shown"), [(0.6, "T", True), (0.5, "t", False)])
@run_async
async def test_the_ip_screen_counts_possibly_succeeded_at_the_new_threshold(
    tmp_path: Path, ingest: str, start: float, presses: str, shown: bool
) -> None:
    """The IP screen says ``succeeded? N`` as a start at the new threshold would, and so does the request it holds."""
    from threatlens.tui.app import make_app
    from threatlens.tui.screens import IpDetailScreen

    app = make_app([LOG], from_start=True, geo=None, ingest=ingest, threshold=start, export_dir=tmp_path,
                   config_path=tmp_path / "config.toml")

    def counted() -> bool:
        data = app.remote.latest[0] if app.remote is not None else app.live.dashboard()
        return data.parsed == 5000 and app.live.threshold == start and data.flagged > 0

    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, counted, timeout=120)
        app.open_ip(_SUCCEEDED_AT_05)
        await wait_for(pilot, lambda: isinstance(app.screen, IpDetailScreen) and _SUCCEEDED_AT_05 in _summary(app))
        assert ("succeeded? 1" in _summary(app)) is not shown
        await pilot.press("escape")
        await pilot.press(presses, presses)  # 0.05 a press
        await wait_for(pilot, lambda: app.live.threshold == round(start + (0.1 if presses == "t" else -0.1), 2))
        app.open_ip(_SUCCEEDED_AT_05)
        await wait_for(pilot, lambda: isinstance(app.screen, IpDetailScreen)
                       and ("succeeded? 1" in _summary(app)) is shown, timeout=20)
        marked = [r for r in app.screen.snapshot.rows if r.verdict is not None and r.verdict.possibly_succeeded]
        assert len(marked) == (1 if shown else 0)


def _exported(live: LiveStats) -> list[tuple[int, bool, bool, str]]:
    return [(r.line, v.flagged, v.possibly_succeeded, v.severity) for r, v, _cc in live.flagged_items()]


@pytest.mark.parametrize(("start", "to"), [(0.5, 0.6), (0.6, 0.5)])
def test_exported_flagged_requests_carry_their_verdict_at_the_new_threshold(start: float, to: float) -> None:
    """The monitor's `e` export of flagged requests after t/T: the requests and their flagged, possibly succeeded
    and tier fields are a fresh run's (lowering kept flagged: false on the requests it newly flagged)."""
    fresh = _exported(_run(to))
    live = _run(start)
    live.set_threshold(to)
    assert _exported(live) == fresh


def _tiers(live: LiveStats, flagged_table: bool = False) -> dict[str, tuple[int, str, tuple[str, ...]]]:
    rows = live.stats.top_flagged_ips(10_000) if flagged_table else live.stats.top_ips(10_000)
    return {r.ip: (r.flagged, r.severity, r.categories) for r in rows}


@pytest.mark.parametrize(("start", "to"), [(0.5, 0.8), (0.8, 0.5)])
def test_each_ips_tier_and_categories_follow_the_threshold_both_ways(start: float, to: float) -> None:
    """Every row of both IP tables has the tier and categories (and flagged count) of a fresh run at ``to``."""
    fresh = _run(to)
    live = _run(start)
    assert _tiers(live) != _tiers(fresh)  # the sample differs between the two thresholds
    live.set_threshold(to)
    assert _tiers(live) == _tiers(fresh)
    assert _tiers(live, flagged_table=True) == _tiers(fresh, flagged_table=True)


# RuleDetection scores: the bot 0.6 (bad_bot: nuisance), the PROPFIND 0.7 (other: suspicious), the attacker 0.95
# (attack, and a scanning alert after its 4th request); the browsing clients 0.01
_BOT, _ODD = "192.0.2.77", "192.0.2.88"
# tier, flagged and the categories cell of each at 0.5 and at 0.75; the alert keeps the attacker's tier and category
_ATTACKER_ROW = ("attack", "4", "1 alert sensitive_file,sqli,xss,…")
_AT = {
    0.5: {_BOT: ("nuisance", "4", "bad_bot"), _ODD: ("suspic.", "1", "other"), ATTACKER: _ATTACKER_ROW},
    0.75: {_BOT: ("", "0", ""), _ODD: ("", "0", ""), ATTACKER: _ATTACKER_ROW},
}
# block-list dialog: IPs for each least serious tier
_BLOCK = {0.5: {"attack": 1, "suspicious": 2, "nuisance": 3}, 0.75: {"attack": 1, "suspicious": 1, "nuisance": 1}}


def _tiers_log(tmp_path: Path) -> Path:
    lines = [line(_BOT, f"/page{i}", agent="Mozilla/5.0 (compatible; 80legs/1.0)", when=BASE + timedelta(seconds=i))
             for i in range(4)]
    lines += normal_lines(12, start=10) + attack_lines(4, start=30)
    lines.append(line(_ODD, "/", status=405, method="PROPFIND", when=BASE + timedelta(seconds=40)))
    return write_log(tmp_path / "access.log", lines)


@pytest.mark.parametrize("ingest", ["thread", "process"])
@pytest.mark.parametrize(("start", "key", "to"), [(0.5, "t", 0.75), (0.75, "T", 0.5)])
@run_async
async def test_t_and_T_give_each_ip_its_tier_and_categories_at_the_new_threshold(
    tmp_path: Path, ingest: str, start: float, key: str, to: float
) -> None:
    """The top-IPs table, the IP screen and the block-list dialog show what a start at the new threshold shows."""
    from threatlens.tui.app import make_app
    from threatlens.tui.screens import BlocklistDialog, IpDetailScreen
    from threatlens.tui.widgets import TopIpsTable

    app = make_app([_tiers_log(tmp_path)], from_start=True, detection=RuleDetection(), geo=None, ingest=ingest,
                   threshold=start, export_dir=tmp_path, config_path=tmp_path / "config.toml")

    def shown() -> dict[str, tuple[str, str, str]]:
        table = app.dashboard.query_one(TopIpsTable)
        keys = set(table.row_keys)
        return {ip: tuple(table.get_cell(ip, col).plain.strip() for col in ("tier", "flag", "cats"))  # type: ignore[misc]
                for ip in _AT[to] if ip in keys}

    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: shown() == _AT[start], timeout=60)
        await pilot.press(*[key] * 5)  # 0.05 a press
        await wait_for(pilot, lambda: app.live.threshold == to)
        await wait_for(pilot, lambda: shown() == _AT[to], timeout=20)
        app.open_ip(_BOT)
        await wait_for(pilot, lambda: isinstance(app.screen, IpDetailScreen) and f"IP {_BOT}" in screen_text(app))
        assert f"tier {_AT[to][_BOT][0] or 'none'}" in screen_text(app)
        await pilot.press("escape")
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BlocklistDialog))
        assert app.screen.counts == _BLOCK[to]


@pytest.mark.parametrize("ingest", ["thread", "process"])
@pytest.mark.parametrize(("start", "key", "to"), [(0.5, "t", 0.75), (0.75, "T", 0.5)])
@run_async
async def test_the_dashboard_alerting_state_follows_t_and_T(
    tmp_path: Path, ingest: str, start: float, key: str, to: float
) -> None:
    """Without behaviour alerts, the dashboard is ``-alerting`` while something is flagged at the threshold."""
    from threatlens.tui.app import make_app

    lines = [line(_BOT, f"/page{i}", agent="Mozilla/5.0 (compatible; 80legs/1.0)", when=BASE + timedelta(seconds=i))
             for i in range(4)]
    lines.append(line(_ODD, "/", status=405, method="PROPFIND", when=BASE + timedelta(seconds=40)))
    log = write_log(tmp_path / "access.log", normal_lines(12, start=10) + lines)
    app = make_app([log], from_start=True, detection=RuleDetection(), geo=None, ingest=ingest, threshold=start,
                   export_dir=tmp_path, config_path=tmp_path / "config.toml")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: (app.dashboard.shown is not None and app.dashboard.shown.parsed == 17
                                       and app.live.threshold == start), timeout=60)
        await wait_for(pilot, lambda: app.dashboard.has_class("-alerting") is (start == 0.5))  # drawn after `shown`
        await pilot.press(*[key] * 5)
        await wait_for(pilot, lambda: app.live.threshold == to and app.dashboard.shown.threshold == to)
        await wait_for(pilot, lambda: app.dashboard.has_class("-alerting") is (to == 0.5))
