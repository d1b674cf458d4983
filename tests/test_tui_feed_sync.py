"""The alerts feed sent as what changed (``threatlens.tui.feed_sync``) rebuilds exactly the child's feed.

Attacks from many clients (alerts raised again as they grow, their tier rising; suspicious and nuisance
requests), filters, threshold changes, ``n``, the allowlist, a short and the whole feed, past the
1000-entry cap: after every snapshot the UI's list equals ``LiveStats.dashboard(...).feed``.
"""

from __future__ import annotations

import pickle
import random
import time
from pathlib import Path

from threatlens.models.allowlist import Allowlist
from threatlens.parsers.record import RawLine
from threatlens.pipeline import Pipeline
from threatlens.stats.filter import RecordFilter
from threatlens.tui.feed_sync import FeedEncoder, apply_feed
from threatlens.tui.live import LiveStats
from tui_support import RegrowingDetection, attack_lines, line, normal_lines, write_log

ATTACKERS = [f"203.0.113.{i}" for i in range(1, 41)]


def traffic(rounds: int, seed: int) -> list[str]:
    """Browsing, attacks from 40 clients, ``PROPFIND`` (suspicious) and ``80legs`` (nuisance) requests."""
    rng = random.Random(seed)
    lines: list[str] = []
    for k in range(rounds):
        lines += normal_lines(rng.randint(0, 6), start=k)
        lines += attack_lines(rng.randint(1, 3), start=k, ip=rng.choice(ATTACKERS))
        if rng.random() < 0.2:
            lines.append(line("192.0.2.5", "/dav/", method="PROPFIND"))
        if rng.random() < 0.2:
            lines.append(line("192.0.2.9", "/page", agent="80legs crawler"))
    return lines


def controls(rng: random.Random, live: LiveStats) -> tuple[str, object]:
    """One random change of what the feed shows, applied to ``live``; returns what it was."""
    choice = rng.randrange(6)
    if choice == 0:
        return "threshold", live.set_threshold(rng.choice([0.5, 0.65, 0.8, 0.97]))
    if choice == 1:
        text = rng.choice(["", f"ip:{rng.choice(ATTACKERS)}", "cat:sqli", "-cat:xss", "status:404"])
        live.set_filter(RecordFilter.parse(text) if text else None)
        return "filter", text
    if choice == 2:
        live.set_hide_nuisance(not live.hide_nuisance)
        return "nuisance", live.hide_nuisance
    if choice == 3:
        entries = rng.sample(ATTACKERS, 2)
        live.set_allowlist(Allowlist.parse(entries))
        return "allowlist", entries
    return "nothing", None


def test_the_rebuilt_feed_equals_the_feed_after_every_snapshot() -> None:
    rng = random.Random(7)
    live = LiveStats(threshold=0.5)
    pipeline = Pipeline(log_format="combined", detection=RegrowingDetection(), stats=live, strict=False)
    lines = traffic(1200, seed=1)
    encoder = FeedEncoder()
    ui: list = []
    at = 0
    steady_delta = steady_whole = 0
    moved = raised_tier = 0
    while at < len(lines):
        n = rng.choice([1, 3, 20, 150, 600])
        pipeline.process([RawLine("access.log", at + i + 1, 100 * (at + i), x.encode())
                          for i, x in enumerate(lines[at:at + n])])
        at += n
        changed = rng.random() < 0.25
        if changed:
            controls(rng, live)
        data = live.dashboard(feed=rng.choice([None, None, 20]))
        delta = pickle.loads(pickle.dumps(encoder.encode(data.feed), protocol=pickle.HIGHEST_PROTOCOL))
        before = ui
        ui = apply_feed(ui, delta)
        assert ui == data.feed
        raised_tier += sum(row.what.startswith("↑") for row in ui)
        old_keys = {row.key: i for i, row in enumerate(before)}
        moved += sum(1 for i, row in enumerate(ui[:5]) if old_keys.get(row.key, i) > i)
        if not changed and len(before) >= 200 and len(data.feed) >= 200 and n <= 20:
            steady_delta += len(pickle.dumps(delta, protocol=pickle.HIGHEST_PROTOCOL))
            steady_whole += len(pickle.dumps(data.feed, protocol=pickle.HIGHEST_PROTOCOL))
    final = live.dashboard()
    assert final.feed_dropped > 0 and len(live.stats.feed) == 1000  # past the cap: the oldest entries dropped
    assert moved > 0 and raised_tier > 0  # alerts raised again moved to the top, some with ↑
    assert steady_whole > 0 and steady_delta * 10 < steady_whole  # a few new rows cost a few rows, not the feed


def test_a_real_child_sends_a_feed_the_ui_rebuilds_exactly(tmp_path: Path) -> None:
    from threatlens.tui.options import MonitorOptions
    from threatlens.tui.remote import RemoteLive, ingest_spec

    lines = traffic(1500, seed=2)
    log = write_log(tmp_path / "access.log", lines[:500])
    opts = MonitorOptions(paths=[str(log)], from_start=True, export_dir=tmp_path, config_path=tmp_path / "c.toml",
                          refresh_hz=4.0)
    spec = ingest_spec(opts, detection=RegrowingDetection(), geo=None)
    spec.verify_feed = True
    remote = RemoteLive(spec)
    remote.start()
    rng = random.Random(3)
    try:
        written = 500
        while written < len(lines):  # the log grows while the controls change what the feed shows
            n = rng.choice([50, 200, 700])
            write_log(log, lines[written:written + n], mode="a")
            written += n
            match rng.randrange(5):
                case 0:
                    remote.set_threshold(rng.choice([0.5, 0.8, 0.97]))
                case 1:
                    remote.set_filter(RecordFilter.parse(rng.choice(["cat:sqli", f"ip:{ATTACKERS[3]}", ""])))
                case 2:
                    remote.set_hide_nuisance(not remote.hide_nuisance)
                case 3:
                    remote.set_allowlist(Allowlist.parse(rng.sample(ATTACKERS, 1)))
                case _:
                    remote.dashboard(feed=rng.choice([None, 20]))
            time.sleep(0.3)
        remote.set_filter(None)
        remote.set_threshold(0.5)
        remote.dashboard(feed=None)
        deadline = time.monotonic() + 60
        while not (remote.latest[0].lines == len(lines) and remote.caught_up) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert remote.latest[0].lines == len(lines)
        time.sleep(0.6)  # one more snapshot after the last command
        checks = list(remote.feed_checks)
        assert len(checks) >= 10 and all(checks), f"{checks.count(False)} of {len(checks)} snapshots differ"
        data = remote.latest[0]
        assert data.feed_dropped > 0 and len(data.feed) > 500  # past the 1000-entry cap
    finally:
        remote.stop()
