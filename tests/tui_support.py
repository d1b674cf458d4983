"""Helpers for the TUI tests: log lines, a small deterministic detection, waiting on the app."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from threatlens.models.detection import Detection
from threatlens.models.verdict import Alert, Verdict, alert_severity, severity_of
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


_RULE_SCORE = 0.95


class RuleScorer:
    """A small deterministic stand-in for the request classifier in these tests.

    Scores a request whose decoded target contains a known attack fragment 0.95, a ``PROPFIND``
    0.7 (``other``: a suspicious request), an ``80legs`` user agent 0.6 (``bad_bot``: nuisance), a 404
    0.3, anything else 0.01. Flagged verdicts carry the production tier of their categories.
    """

    info = {"model_file": "rules (test)"}

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold

    def score(self, records: Sequence[LogRecord]) -> list[Verdict]:
        from urllib.parse import unquote

        verdicts: list[Verdict] = []
        for r in records:
            text = unquote(r.target).lower()
            hits = [(frag, cat) for frag, cat in _RULES if frag in text]
            if hits:
                score = _RULE_SCORE
                cats = tuple(dict.fromkeys(c for _, c in hits))
                reasons = tuple(f"matched {frag!r}" for frag, _ in hits)
            elif r.method == "PROPFIND":
                score, cats, reasons = 0.7, ("other",), ("unusual method",)
            elif "80legs" in (r.user_agent or ""):
                score, cats, reasons = 0.6, ("bad_bot",), ("80legs user agent",)
            elif r.status == 404:
                score, cats, reasons = 0.3, ("other",), ("not found",)
            else:
                score, cats, reasons = 0.01, (), ()
            flagged = score >= self.threshold
            verdicts.append(Verdict(score, flagged, cats, reasons,
                                    bool(hits) and r.status is not None and 200 <= r.status < 300,
                                    severity_of(cats, flagged)))
        return verdicts


class RuleBehaviour:
    """Stand-in for the behaviour detectors: one ``scanning`` alert per IP after 4 attack requests."""

    def __init__(self) -> None:
        self._flagged: dict[str, int] = {}
        self._alerted: set[str] = set()

    def observe(self, records: Sequence[LogRecord], verdicts: Sequence[Verdict]) -> list[Alert]:
        alerts: list[Alert] = []
        for r, v in zip(records, verdicts, strict=True):
            if v.score == _RULE_SCORE and r.ip:
                n = self._flagged[r.ip] = self._flagged.get(r.ip, 0) + 1
                if n >= 4 and r.ip not in self._alerted:
                    self._alerted.add(r.ip)
                    alerts.append(Alert(r.ip, "scanning", r.file, r.line, r.line, n, 0.9,
                                        ("4 attack requests",), v.categories, r.time, r.time,
                                        severity=alert_severity("scanning", v.categories)))
        return alerts


class RegrowingBehaviour:
    """Like ``RuleBehaviour``, but the alert of an IP is raised again every 3 more attacks (the same alert key:
    a burst that grew), suspicious at first and an attack from its second raise on (its tier rose)."""

    def __init__(self) -> None:
        self._flagged: dict[str, tuple[int, int]] = {}  # ip -> (attacks so far, line of its first attack)

    def observe(self, records: Sequence[LogRecord], verdicts: Sequence[Verdict]) -> list[Alert]:
        alerts: list[Alert] = []
        for r, v in zip(records, verdicts, strict=True):
            if v.score == _RULE_SCORE and r.ip:
                n, first = self._flagged.get(r.ip, (0, r.line))
                n += 1
                self._flagged[r.ip] = (n, first)
                if n >= 4 and n % 3 == 1:
                    alerts.append(Alert(r.ip, "scanning", r.file, first, r.line, n, 0.9, (f"{n} attack requests",),
                                        v.categories, r.time, r.time, severity="suspicious" if n < 7 else "attack"))
        return alerts


class _NoCampaigns:
    def observe(self, records: Sequence[LogRecord], verdicts: Sequence[Verdict]) -> list[Alert]:
        return []


def RuleDetection(threshold: float = 0.5) -> Detection:
    """The production ``Detection`` (threshold, allowlist) around the deterministic stand-ins above."""
    return Detection(RuleScorer(threshold), RuleBehaviour(), campaigns=_NoCampaigns())  # type: ignore[arg-type]


def RegrowingDetection(threshold: float = 0.5) -> Detection:
    """``RuleDetection`` whose alerts are raised again as they grow (``RegrowingBehaviour``)."""
    return Detection(RuleScorer(threshold), RegrowingBehaviour(), campaigns=_NoCampaigns())  # type: ignore[arg-type]


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
