"""Pilot tests of the alerts feed (issue #11 item 3): one ordered, scrollable, numbered history.

At 80x24: every entry the monitor holds can be reached with the keys, newest first, numbers
strictly falling and never reassigned (a filter hides rows, it does not renumber them), the
behaviour alerts among them, "N older dropped" once the feed is full, and the columns a sysadmin
decides with (#, time, IP, tier, what, why) readable.
"""

from __future__ import annotations

from pathlib import Path

from threatlens.tui.app import make_app
from threatlens.tui.widgets import AlertsFeed
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

IPS = ["203.0.113.10", "203.0.113.20", "203.0.113.30"]
EARLY = "198.51.100.5"  # 20 attacks and its alert first: among the 23 entries the full feed drops
ATTACKS = 333  # per IP of IPS: with their 3 alerts and EARLY's 21 entries, 1,023 entries, 1,000 kept


def _feed_log(path: Path) -> Path:
    lines = normal_lines(20) + attack_lines(20, start=50, ip=EARLY)
    for i in range(ATTACKS):  # the three attackers interleaved, several lines per log second
        for k, ip in enumerate(IPS):
            lines += attack_lines(1, start=100 + i // 3 + k, ip=ip)
    return write_log(path, lines + normal_lines(10, start=3000))


def _column(feed: AlertsFeed, key: str) -> list[str]:
    return [str(cell).strip() for cell in feed.get_column(key)]


@run_async
async def test_the_whole_feed_scrolls_newest_first_with_stable_numbers_at_80x24(tmp_path: Path) -> None:
    log = _feed_log(tmp_path / "access.log")
    total = 20 + 20 + 3 * ATTACKS + 10
    app = make_app([log], from_start=True, detection=RuleDetection(), geo=None, clock=lambda: FIXED_NOW,
                   export_dir=tmp_path / "exports")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= total, timeout=30)
        app.refresh_dashboard(force=True)
        await pilot.pause()
        feed = app.dashboard.query_one(AlertsFeed)
        entries = 21 + 3 * ATTACKS + 3
        numbers = [int(n) for n in _column(feed, "id")]
        assert feed.row_count == 1000 and numbers == list(range(entries, entries - 1000, -1))
        assert feed.border_subtitle == f"{entries - 1000} older dropped"
        kinds = _column(feed, "what")
        assert sum(k.startswith("scanning:") for k in kinds) == 3  # the behaviour alerts are all there
        ips = _column(feed, "ip")
        assert EARLY not in ips
        for ip in IPS:  # each alert right above the request that raised it (its 4th), not after the whole batch
            alert_at = next(i for i, (k, a) in enumerate(zip(kinds, ips, strict=True))
                            if a == ip and k.startswith("scanning:"))
            assert ips[alert_at + 1] == ip

        # the keys go on past the last visible row (they stopped there), down to the oldest entry held
        feed.focus()
        await pilot.press("pagedown", "pagedown", "pagedown")
        assert feed.cursor_row > 2 * feed.size.height
        feed.move_cursor(row=feed.row_count - 3)
        await pilot.press("down", "down", "down")
        assert feed.cursor_row == feed.row_count - 1
        assert str(feed.get_cell(feed.selected_key(), "id")) == str(entries - 999)
        feed.move_cursor(row=0)

        # what a sysadmin decides with, readable at 80 columns: the request and its category, not just the method
        text = screen_text(app)
        header = next(line for line in text.splitlines() if "Time" in line and "Tier" in line)
        for label in ("#", "Time", "IP", "Tier", "Request / behaviour", "Why"):
            assert label in header
        row = next(line for line in text.splitlines() if f"│ {entries} " in line)
        assert "GET /" in row and "attack" in row and IPS[2] in row

        # a filter hides rows and keeps every number where it was
        keyed = {feed.key_at(i): n for i, n in enumerate(numbers)}
        other = next(i for i, ip in enumerate(_column(feed, "ip")) if i > 600 and ip != IPS[0])
        feed.move_cursor(row=other)  # a row the filter hides: the cursor goes back to the newest
        app.set_filter(f"ip:{IPS[0]}")
        app.refresh_dashboard(force=True)
        await pilot.pause()
        assert set(_column(feed, "ip")) == {IPS[0]} and feed.cursor_row == 0 and feed.scroll_y == 0
        shown = [int(n) for n in _column(feed, "id")]
        assert shown == sorted(shown, reverse=True) and len(shown) > 300
        for i, n in enumerate(shown):
            key = feed.key_at(i)
            assert keyed.get(key, n) == n

        # new entries push the oldest out, several per refresh: the table stays the feed, the picked row stays picked
        app.set_filter("")
        app.refresh_dashboard(force=True)
        await pilot.pause()
        feed.focus()
        feed.move_cursor(row=500)
        picked = feed.selected_key()
        write_log(log, attack_lines(30, start=5000, ip=IPS[1]), mode="a")
        await wait_for(pilot, lambda: app.live.totals.lines >= total + 30, timeout=30)
        app.refresh_dashboard(force=True)
        await pilot.pause()
        numbers = [int(n) for n in _column(feed, "id")]
        assert numbers == list(range(entries + 30, entries + 30 - 1000, -1))
        assert feed.selected_key() == picked and feed.border_subtitle == f"{entries + 30 - 1000} older dropped"


@run_async
async def test_the_feed_says_a_filter_did_not_search_the_entries_it_dropped(tmp_path: Path) -> None:
    """The filter looks through the entries the feed holds: the border says the older ones were not searched
    (a filter for an IP whose alerts were dropped showed an empty feed, as if it had none)."""
    log = _feed_log(tmp_path / "access.log")
    app = make_app([log], from_start=True, detection=RuleDetection(), geo=None, clock=lambda: FIXED_NOW,
                   export_dir=tmp_path / "exports")
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= 20 + 20 + 3 * ATTACKS + 10, timeout=60)
        app.refresh_dashboard(force=True)
        await pilot.pause()
        feed = app.dashboard.query_one(AlertsFeed)
        assert "23 older dropped" in screen_text(app) and "not searched" not in screen_text(app)
        app.set_filter(f"ip:{EARLY}")
        app.refresh_dashboard(force=True)
        await pilot.pause()
        assert feed.row_count == 0
        assert "23 older dropped, not searched by the filter" in screen_text(app)
        app.set_filter("")
        app.refresh_dashboard(force=True)
        await pilot.pause()
        assert "not searched" not in screen_text(app)
