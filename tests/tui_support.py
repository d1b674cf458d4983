"""Helpers for the TUI tests: log lines, a small deterministic detection, waiting on the app."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from threatlens.models.verdict import Alert, Verdict
from threatlens.parsers.record import LogRecord

FIXED_NOW = 1_763_769_600.0  # 2025-11-22 00:00:00 UTC
BASE = datetime(2026, 3, 14, 6, 0, 0, tzinfo=UTC)
ATTACKER = "203.0.113.66"
PROBER = "198.51.100.7"
NORMAL_IPS = ["81.2.69.142", "2.125.160.216", "89.160.20.112", "175.16.199.3"]
ATTACK_PATHS = [
    "/index.php?id=1%27%20UNION%20SELECT%20password%20FROM%20users--",
    "/../../etc/passwd",
    "/search?q=<script>alert(1)</script>",
    "/.env",
]


def line(ip: str, path: str, status: int = 200, when: datetime = BASE, agent: str = "Mozilla/5.0 (X11; Linux)",
         method: str = "GET", referer: str = "-", size: int = 512) -> str:
    """One combined-format line."""
    stamp = when.strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'{ip} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {size} "{referer}" "{agent}"'


def normal_lines(n: int, start: int = 0) -> list[str]:
    """Ordinary browsing from a few clients."""
    pages = ["/", "/blog/", "/shop/cart", "/static/app.css", "/about", "/contact"]
    return [line(NORMAL_IPS[i % len(NORMAL_IPS)], pages[i % len(pages)], when=BASE + timedelta(seconds=start + i))
            for i in range(n)]


def attack_lines(n: int, start: int = 0, ip: str = ATTACKER) -> list[str]:
    """Attacks from one client (every one flagged by ``RuleDetection``)."""
    return [line(ip, ATTACK_PATHS[i % len(ATTACK_PATHS)], status=404 if i % 2 else 200,
                 when=BASE + timedelta(seconds=start + i), agent="sqlmap/1.7")
            for i in range(n)]


def write_log(path: Path, lines: Sequence[str], mode: str = "w") -> Path:
    """Write lines (each ending in a newline)."""
    with open(path, mode, encoding="utf-8", newline="") as fh:
        fh.write("".join(f"{x}\n" for x in lines))
    return path


_RULES = (
    ("union select", "sqli"),
    ("../", "path_traversal"),
    ("<script", "xss"),
    ("/.env", "sensitive_file"),
    ("/etc/passwd", "path_traversal"),
)


class RuleDetection:
    """A small deterministic stand-in for ``threatlens.models.detection.Detection`` in these tests.

    Flags a request whose decoded target contains a known attack fragment (score 0.95), gives
    0.3 to 404s, 0.01 otherwise; one ``scanning`` alert per IP after 4 flagged requests.
    """

    name = "rules (test)"

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold
        self._flagged: dict[str, int] = {}
        self._alerted: set[str] = set()

    def process(self, records: Sequence[LogRecord]) -> tuple[list[Verdict], list[Alert]]:
        from urllib.parse import unquote

        verdicts: list[Verdict] = []
        alerts: list[Alert] = []
        for r in records:
            text = unquote(r.target).lower()
            hits = [(frag, cat) for frag, cat in _RULES if frag in text]
            if hits:
                score = 0.95
                cats = tuple(dict.fromkeys(c for _, c in hits))
                reasons = tuple(f"matched {frag!r}" for frag, _ in hits)
            elif r.status == 404:
                score, cats, reasons = 0.3, ("other",), ("not found",)
            else:
                score, cats, reasons = 0.01, (), ()
            verdicts.append(Verdict(score, score >= self.threshold, cats, reasons,
                                    bool(hits) and r.status is not None and 200 <= r.status < 300))
            if hits and r.ip:
                n = self._flagged[r.ip] = self._flagged.get(r.ip, 0) + 1
                if n >= 4 and r.ip not in self._alerted:
                    self._alerted.add(r.ip)
                    alerts.append(Alert(r.ip, "scanning", r.file, r.line, r.line, n, 0.9,
                                        ("4 attack requests",), cats, r.time, r.time))
        return verdicts, alerts


async def wait_for(pilot: object, cond: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until ``cond()`` holds (fails the test after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.05)  # type: ignore[attr-defined]
    await asyncio.sleep(0)


def screen_text(app: object) -> str:
    """Everything the terminal would show, as plain text (the current screen over the ones below)."""
    import io

    from rich.console import Console

    width, height = app.size  # type: ignore[attr-defined]
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, color_system=None,
                      record=True, legacy_windows=False, safe_box=False)
    render = app.screen._compositor.render_update(  # type: ignore[attr-defined]
        full=True, screen_stack=app._background_screens)  # type: ignore[attr-defined]
    console.print(render)
    return console.export_text()


def run_async(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run an ``async def`` test with ``asyncio.run`` (no async plugin needed)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return asyncio.run(fn(*args, **kwargs))

    return wrapper
