"""Each line is judged against earlier lines only: any batching of the same lines gives the same results.

The same records are replayed through the real ``BehaviourTracker`` (and through ``Detection`` with
the shipped model, and through ``threatlens scan --follow`` on a growing file) cut into batches of
1, 7, 500 and 2,000 lines and at random places; every alert field and every verdict must match.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest

from behaviour_support import BROWSER, GOOGLEBOT, T0, fixture, line, parse
from threatlens.cli import main
from threatlens.models.baseline import Baseline
from threatlens.models.behaviour import BehaviourTracker
from threatlens.models.behaviour.tracker import RECORD_FIELDS, VERDICT_FIELDS
from threatlens.models.verdict import Alert, Verdict
from threatlens.parsers import LogRecord
from threatlens.samplegen import generate

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_logs" / "combined.log"
BATCHES = (7, 500, 2000)
CLEAN = Verdict(0.0, False)
ATTACK = Verdict(0.93, True, ("sqli",), ("quote followed by SQL",))
ODD = Verdict(0.7, True, ("other",), ("unusual path",))


def _stamp(s: str) -> str:
    return s.split("[", 1)[1][:26]


def generated_lines() -> list[str]:
    """Generated traffic (scanners, brute force, UA switchers, bad bots, injections) with floods mixed in."""
    start = datetime(2026, 3, 14, 6, 0, 0, tzinfo=UTC)
    lines = list(generate(4000, "combined", seed=5, start=start, rate=4.0, attack_share=0.2))
    offset = (start - T0).total_seconds()
    extra = [line("203.0.113.77", offset + 60 + i * 0.15, f"/product/{i % 97}?page={i}")  # 400/min for 2 min
             for i in range(800)]
    extra += [line("203.0.113.78", offset + 400 + i * 0.2, f"/search?q={i}") for i in range(55)]  # 10-s burst
    extra += [line("66.249.66.7", offset + 300 + i * 0.12, f"/item/{i}", agent=GOOGLEBOT) for i in range(700)]
    extra += [line("198.51.100.200", offset + 500 + i * 20, "/app.php", 200) for i in range(3)]  # serves .php
    merged = sorted(lines + extra, key=_stamp)  # stable: same-second lines keep their order
    rng = random.Random(3)
    for _ in range(60):  # out-of-order lines, as in logs written by several workers
        i = rng.randrange(len(merged) - 30)
        j = i + rng.randrange(1, 30)
        merged[i], merged[j] = merged[j], merged[i]
    return merged


def generated_records() -> list[LogRecord]:
    records = parse(generated_lines(), file="gen.log")
    # a few lines without a time (they take the time of the line before)
    return [r._replace(time=None) if i % 997 == 0 else r for i, r in enumerate(records)]


def fixed_verdict(r: LogRecord) -> Verdict:
    """A verdict that depends on the record alone (stands for the scorer; the tracker is under test)."""
    q = (r.query or "").lower()
    if "'" in q or "select" in q or "<script" in q or "../" in (r.path or "") + q:
        return ATTACK
    if (r.path or "").endswith((".asp", ".cgi")):
        return ODD
    return CLEAN


def cuts(n: int, size: int | None, seed: int | None = None) -> list[tuple[int, int]]:
    """Batch bounds: fixed ``size``, or random sizes (1 .. 3000) when ``seed`` is given."""
    if seed is None:
        assert size is not None
        return [(i, min(n, i + size)) for i in range(0, n, size)]
    rng = random.Random(seed)
    out, i = [], 0
    while i < n:
        j = min(n, i + rng.choice((1, 2, 3, 50, 333, 1000, 3000)))
        out.append((i, j))
        i = j
    return out


def replay(records: Sequence[LogRecord], verdicts: Sequence[Verdict], bounds: list[tuple[int, int]],
           baseline: Baseline | None = None) -> tuple[list[Alert], list[np.ndarray]]:
    tracker = BehaviourTracker(baseline=baseline)
    tracker.feature_sink = []
    alerts: list[Alert] = []
    for a, b in bounds:
        alerts += tracker.observe(records[a:b], verdicts[a:b])
    return alerts, tracker.feature_sink


@pytest.fixture(scope="module")
def gen() -> tuple[list[LogRecord], list[Verdict], Baseline]:
    records = generated_records()
    verdicts = [fixed_verdict(r) for r in records]
    _, rows = replay(records, verdicts, cuts(len(records), len(records)))
    # a small forest (each checkpoint costs one scoring call) with a low alert threshold, so that
    # the learned baseline speaks on this small log too
    model = IsolationForest(n_estimators=20, random_state=1).fit(np.vstack(rows))
    baseline = Baseline(model, 0.0)
    baseline.threshold = float(np.quantile(baseline.score(np.vstack(rows)), 0.9))
    return records, verdicts, baseline


def assert_same(results: list[list[Alert]]) -> None:
    first = results[0]
    for other in results[1:]:
        assert len(other) == len(first)
        for x, y in zip(first, other, strict=True):
            assert x == y, f"\n{x}\n{y}"


def test_generated_log_alerts_do_not_depend_on_batching(gen: tuple[list[LogRecord], list[Verdict], Baseline]) -> None:
    records, verdicts, baseline = gen
    n = len(records)
    runs = [replay(records, verdicts, cuts(n, n), baseline)]
    runs += [replay(records, verdicts, cuts(n, size), baseline) for size in BATCHES]
    runs += [replay(records, verdicts, cuts(n, None, seed), baseline) for seed in (1, 2)]
    alerts = [a for a, _ in runs]
    assert_same(alerts)
    for _, rows in runs[1:]:  # the baseline is asked at the same records with the same features
        assert len(rows) == len(runs[0][1]) and all((x == y).all() for x, y in zip(rows, runs[0][1], strict=True))
    kinds = {a.kind for a in alerts[0]}
    assert {"scanning", "brute_force", "crawl_flood", "user_agent_switching", "repeated_attacks",
            "anomalous_behaviour"} <= kinds, kinds
    floods = {a.ip for a in alerts[0] if a.kind == "crawl_flood"}
    assert {"203.0.113.77", "203.0.113.78"} <= floods and "66.249.66.7" not in floods  # a crawler's pace is no flood
    lines = [a.last_line for a in alerts[0]]
    assert lines == sorted(lines)  # in the order of the lines that raised them (one file)


def test_one_line_at_a_time_matches_whole_log(gen: tuple[list[LogRecord], list[Verdict], Baseline]) -> None:
    records, verdicts, baseline = gen
    part = records[:1200]  # batch size 1 on a slice keeps the test fast
    n = len(part)
    assert_same([replay(part, verdicts[:n], cuts(n, n), baseline)[0],
                 replay(part, verdicts[:n], cuts(n, 1), baseline)[0]])


@pytest.mark.parametrize("name", ["sample", "crowdsec"])
def test_real_logs_alerts_do_not_depend_on_batching(name: str) -> None:
    if name == "sample":
        records = parse(SAMPLE.read_bytes().splitlines(), file="combined.log")
    else:
        records = [r for f in ("behaviour_crowdsec_bypass_cache.log", "behaviour_crowdsec_switching_ua.log",
                               "behaviour_crowdsec_wordpress_bf.log", "behaviour_crowdsec_http_probing.log")
                   for r in fixture(f)]
    verdicts = [fixed_verdict(r) for r in records]
    n = len(records)
    results = [replay(records, verdicts, cuts(n, size))[0] for size in (n, *BATCHES)]
    results.append(replay(records, verdicts, cuts(n, None, 9))[0])
    assert results[0]
    assert_same(results)
    m = min(n, 1500)  # one line at a time on a slice keeps the test fast
    assert_same([replay(records[:m], verdicts[:m], cuts(m, m))[0], replay(records[:m], verdicts[:m], cuts(m, 1))[0]])


def test_a_line_is_judged_before_later_lines_are_seen() -> None:
    """Served .php pages excuse a .php 404 only when they came first (not later in the same batch)."""
    sweep = [line("203.0.113.5", 10 + i, f"/{w}.php", 404, agent="curl/8.0")
             for i, w in enumerate(["a1", "b2", "c3", "d4", "e5", "f6", "g7"])]
    served = [line("198.51.100.1", 1 + i, f"/page{i}.php", 200) for i in range(3)]
    late = [line("198.51.100.1", 20 + i, f"/page{i}.php", 200) for i in range(3)]

    def scanning(lines: list[str]) -> list[str]:
        records = parse(lines)
        alerts = replay(records, [CLEAN] * len(records), cuts(len(records), len(records)))[0]
        return [a.reasons[0] for a in alerts if a.kind == "scanning"]

    # served only later: each missing .php weighs 1.0; served before: 0.4 each, too little for a scan
    assert scanning(sweep + late) == ["6 distinct missing paths (weight 6.0)"]
    assert scanning(served + sweep) == []


def test_flood_alert_is_raised_by_the_line_that_crosses_the_threshold() -> None:
    lines = [line("203.0.113.30", i * 0.2, f"/page/{i}", 200) for i in range(900)]  # 300/min for 3 min
    records = parse(lines)
    for size in (len(records), 64, 1):
        (a,) = replay(records, [CLEAN] * len(records), cuts(len(records), size))[0]
        assert a.kind == "crawl_flood" and a.first_line == 1
        # 40 non-static requests in 10 s is the floor of the short-burst threshold: the 41st raises it
        assert a.events == a.last_line == 41 and a.reasons[1] == "41 non-static requests in 10 s (threshold 40)"


def test_record_columns_are_read_by_name() -> None:
    (r,) = parse([line("192.0.2.9", 0, "/x?a=1", 404, method="POST", size=123, agent=BROWSER)])
    for name, get in RECORD_FIELDS.items():
        assert get(r) == getattr(r, name), name
    v = Verdict(0.25, True, ("xss",), ("r",))
    for name, get in VERDICT_FIELDS.items():
        assert get(v) == getattr(v, name), name


# ---------------------------------------------------------------- the whole detection and scan --follow
def _detection_run(records: Sequence[LogRecord], bounds: list[tuple[int, int]]) -> tuple[list[Verdict], list[Alert]]:
    from threatlens.models.detection import Detection

    det = Detection.load(baseline=None)
    verdicts: list[Verdict] = []
    alerts: list[Alert] = []
    for a, b in bounds:
        v, al = det.process(records[a:b])
        verdicts += v
        alerts += al
    return verdicts, alerts


def test_detection_with_the_shipped_model_does_not_depend_on_batching() -> None:
    records = parse(SAMPLE.read_bytes().splitlines(), file="combined.log")
    n = len(records)
    whole = _detection_run(records, cuts(n, n))
    assert any(v.flagged for v in whole[0]) and whole[1]
    for bounds in (cuts(n, 500), cuts(n, 2000), cuts(n, None, 4)):
        verdicts, alerts = _detection_run(records, bounds)
        assert verdicts == whole[0]
        assert_same([whole[1], alerts])
    part = records[:1500]
    for size in (1, 7):
        assert _detection_run(part, cuts(len(part), size)) == _detection_run(part, cuts(len(part), len(part)))


@pytest.fixture(scope="module")
def gen_detection_runs() -> list[tuple[list[Verdict], list[Alert]]]:
    """The generated log through Detection (shipped model): whole, in batches, then a slice line by line."""
    records = generated_records()
    n = len(records)
    runs = [_detection_run(records, bounds) for bounds in (cuts(n, n), cuts(n, 500), cuts(n, 2000), cuts(n, None, 6))]
    m = 1200
    runs += [_detection_run(records[:m], cuts(m, size)) for size in (m, 1, 7)]
    return runs


def test_detection_alerts_on_generated_log_do_not_depend_on_batching(
        gen_detection_runs: list[tuple[list[Verdict], list[Alert]]]) -> None:
    runs = gen_detection_runs
    assert runs[0][1] and any(v.flagged for v in runs[0][0])
    assert_same([alerts for _, alerts in runs[:4]])
    assert_same([alerts for _, alerts in runs[4:]])


def test_detection_verdicts_on_generated_log_do_not_depend_on_batching(
        gen_detection_runs: list[tuple[list[Verdict], list[Alert]]]) -> None:
    runs = gen_detection_runs
    assert all(verdicts == runs[0][0] for verdicts, _ in runs[1:4])
    assert all(verdicts == runs[4][0] for verdicts, _ in runs[5:])


def _rows(out: str) -> tuple[list[dict], list[dict]]:
    rows = [json.loads(x) for x in out.splitlines() if x.strip()]
    return [r for r in rows if r["type"] == "request"], [r for r in rows if r["type"] == "alert"]


def test_scan_follow_on_a_growing_file_matches_scan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = SAMPLE.read_bytes().splitlines(keepends=True)
    assert main(["scan", "-o", "jsonl", str(SAMPLE)]) == 0
    want_requests, want_alerts = _rows(capsys.readouterr().out)
    assert len(want_requests) == len(data) and want_alerts

    grow, out = tmp_path / "live.log", tmp_path / "out.jsonl"
    grow.write_bytes(b"".join(data[:1]))
    rng = random.Random(8)
    with out.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "threatlens", "scan", "--follow", "--from-start", "-o", "jsonl",
                                 str(grow)], stdout=sink, stderr=subprocess.PIPE)
        try:
            i = 1
            while i < len(data):  # the file grows by irregular chunks, so the follower's batches vary
                j = min(len(data), i + rng.choice((1, 3, 40, 400, 1500)))
                with grow.open("ab") as fh:
                    fh.write(b"".join(data[i:j]))
                i = j
                time.sleep(rng.choice((0.0, 0.02, 0.1)))
            deadline = time.monotonic() + 300  # generous: the CI machine may be busy
            got: list[dict] = []
            while time.monotonic() < deadline and len(got) < len(data) and proc.poll() is None:
                time.sleep(0.1)
                text = out.read_text()
                got, _ = _rows(text[:text.rfind("\n") + 1])  # complete lines only: the writer may be mid-line
            assert len(got) == len(data), f"the follower printed {len(got)} of {len(data)} lines"
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
    assert proc.returncode == 0, err.decode()
    got_requests, got_alerts = _rows(out.read_text())
    for row in want_requests + got_requests:
        row.pop("file")
    assert got_requests == want_requests
    for row in want_alerts + got_alerts:
        row.pop("file")
    assert got_alerts == want_alerts
