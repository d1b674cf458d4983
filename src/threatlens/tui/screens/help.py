"""``HelpScreen``: every key of every screen."""

from __future__ import annotations

from itertools import groupby
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from threatlens.tui.screens.shown_again import ShownAgain

__all__ = ["KEYS", "HelpScreen"]

#: (screen, key, what it does): the single source of the help screen and the README table.
KEYS: tuple[tuple[str, str, str], ...] = (
    ("everywhere", "?", "this help"),
    ("everywhere", "Ctrl+C", "quit at once (the terminal is restored)"),
    ("dashboard", "Tab / Shift+Tab", "move between panels"),
    ("dashboard", "Up/Down, j/k", "move within a panel"),
    ("dashboard", "PageUp/PageDown", "move a page within a panel"),
    ("dashboard", "Ctrl+Home/Ctrl+End", "first / last row of a panel"),
    ("dashboard", "Left/Right, Home/End", "scroll a wide panel sideways (to its first / last column)"),
    ("dashboard", "Enter", "on an IP or alert: its IP screen; on a campaign: its IPs; on a country: filter"),
    ("dashboard", "/", "filter every panel: ip:1.2.3.0/24 path:/wp- country:CN cat:sqli status:4xx score>=0.8"),
    ("dashboard", "Esc", "clear the filter"),
    ("dashboard", "s", "order the top IPs by requests or by flagged requests and alerts"),
    ("dashboard", "n", "hide / show nuisance-tier rows (bad bots, floods) in every panel and the IP screen"),
    ("dashboard", "p", "pause the screen (ingestion goes on; unpause catches up)"),
    ("dashboard", "t / T", "raise / lower the alert threshold by 0.05 (counts re-evaluate)"),
    ("dashboard", "a", "allowlist the selected IP or alert (edit to a CIDR or path:/pattern*), saved in config"),
    ("dashboard", "u", "undo the last allowlist entry"),
    ("dashboard", "e", "export: flagged requests, alerts, the filter's lines, or an IP (raw, JSON lines, CSV)"),
    ("dashboard", "b", "write a block list of flagged IPs (attack tier by default; plain, nftables, ipset, nginx...)"),
    ("dashboard", "q", "quit"),
    ("IP screen", "Enter", "on a request: the full raw line and every reason"),
    ("IP screen", "e", "export this IP's lines"),
    ("IP screen", "b", "add this IP to the block list"),
    ("IP screen", "a", "allowlist this IP"),
    ("IP screen", "n", "hide / show nuisance-tier requests and alerts (as on the dashboard)"),
    ("IP screen", "Esc / q", "back to the dashboard"),
    ("campaign screen", "Enter / Esc", "open the selected member IP's screen / back"),
    ("dialogs", "Tab, Space, Enter, Esc", "move, pick a choice, confirm (No to overwrite goes back), cancel"),
)


class HelpScreen(ShownAgain, Screen[None]):
    """Key reference; Escape, q or ? closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close"),
        Binding("question_mark", "close", "Close", key_display="?"),
    ]

    def compose(self) -> ComposeResult:
        """Lay out the widgets: one grid per screen, a wrapped description stays in its column."""
        width = max(len(key) for _screen, key, _what in KEYS) + 2
        with VerticalScroll(id="help-box"):
            for screen, rows in groupby(KEYS, key=lambda row: row[0]):
                yield Static(Text(screen, style="bold underline", end=""), classes="help-screen-name")
                grid = Table.grid(padding=(0, 0))
                grid.add_column(width=width + 2, no_wrap=True)
                grid.add_column(ratio=1, overflow="fold")
                for _screen, key, what in rows:
                    grid.add_row(Text(f"  {key}", style="bold", end=""), Text(what, end=""))
                yield Static(grid, classes="help-keys")
            yield Static(Text(
                "Scores: HIGH >= 0.90, FLAG >= threshold, warn >= threshold/2 (colour repeats the word).\n"
                "Tier: attack (payloads, probes, brute force), suspic. (weak evidence), nuisance (bots, floods).",
                end=""), id="help-legend")

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = "ThreatLens keys (Esc closes)"

    def action_close(self) -> None:
        self.dismiss()
