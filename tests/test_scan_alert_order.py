"""``threatlens scan``: each behaviour alert comes right after the request that raised it, not at the batch's end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from threatlens.cli import main
from threatlens.parsers import RawLine
from threatlens.scanner import build_pipeline

SAMPLE = Path(__file__).resolve().parents[1] / "sample_logs" / "combined.log"


def _scan(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    assert main(["scan", "-o", "jsonl", *args, str(SAMPLE)]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_each_alert_follows_the_line_that_raised_it(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _scan(capsys)
    alerts = 0
    for i, row in enumerate(rows):
        if row["type"] == "alert":
            alerts += 1
            before = next(r for r in reversed(rows[:i]) if r["type"] != "alert")
            assert before["line"] == row["last_line"], row  # e.g. user_agent_switching 55-64 right after line 64
    assert alerts >= 10


def test_only_flagged_keeps_alerts_between_the_flagged_lines_around_them(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _scan(capsys, "--only-flagged")
    alerts = [(i, r) for i, r in enumerate(rows) if r["type"] == "alert"]
    assert alerts and all(r["severity"] == "attack" for _, r in alerts)
    for i, alert in alerts:
        assert all(r["line"] <= alert["last_line"] for r in rows[:i] if r["type"] == "request")
        assert all(r["line"] > alert["last_line"] for r in rows[i + 1:] if r["type"] == "request")


def test_a_batch_hands_its_alerts_to_the_aggregates_in_line_order() -> None:
    pipeline = build_pipeline(log_format="combined")
    raw = [RawLine(str(SAMPLE), n, 0, data) for n, data in enumerate(SAMPLE.read_bytes().splitlines(), 1)]
    done = pipeline.process(raw)
    lines = [a.last_line for a in done.alerts]
    assert len(lines) >= 10 and lines == sorted(lines)
    assert [e.alert for e in reversed(pipeline.stats.alerts())] == done.alerts  # newest first
