"""Every table and cache of detection stays within its cap on unique content, and the caps never change a verdict.

Unique content (each line a new client IP, a new path; 404s on scripts, odd agents) fills every
per-IP table, path table and cache; small caps make them overflow within a few thousand lines.
"""

from __future__ import annotations

import random

import pytest

from threatlens.models import campaigns as campaigns_module
from threatlens.models import classifier
from threatlens.models.behaviour import BehaviourTracker
from threatlens.models.behaviour import tracker as tracker_module
from threatlens.models.behaviour.rules import Evidence
from threatlens.models.campaigns import CampaignConfig, CampaignTracker
from threatlens.models.classifier import RequestScorer
from threatlens.models.detection import Detection
from threatlens.models.site_context import SiteContext
from threatlens.parsers import LogRecord, RawLine, get_parser

LINES = 4000
AGENTS = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
          "python-requests/2.31", "curl/8.4.0", "Go-http-client/1.1", "sqlmap/1.7"]


def unique_records(n: int, seed: int = 5) -> list[LogRecord]:
    """``n`` records, each from a new IP for a new path (a few with payloads, probes, odd agents)."""
    rng = random.Random(seed)
    parser = get_parser("combined")
    out = []
    for i in range(n):
        ip = f"{20 + i // 65536}.{(i >> 8) & 255}.{i & 255}.{rng.randrange(1, 255)}"
        word = f"{rng.getrandbits(40):x}"
        path = rng.choice([f"/p/{word}", f"/{word}.php", f"/img/{word}.png", f"/s?q={word}",
                           f"/item?id={word}%27%20or%201=1--", "/wp-login.php", f"/{word}/.env"])
        status = rng.choice([200, 200, 200, 404, 404, 403, 301])
        agent = rng.choice(AGENTS)
        sec = i // 20
        line = (f'{ip} - - [01/Nov/2026:{sec // 3600 % 24:02d}:{sec // 60 % 60:02d}:{sec % 60:02d} +0000] '
                f'"GET {path} HTTP/1.1" {status} {rng.randrange(0, 9000)} "-" "{agent}"')
        rec = parser.parse_raw(RawLine("unique.log", i + 1, 0, line.encode()))
        assert isinstance(rec, LogRecord)
        out.append(rec)
    return out


def run(records: list[LogRecord], detection: Detection, batch: int = 500) -> list[tuple]:
    seen = []
    for i in range(0, len(records), batch):
        verdicts, _alerts = detection.process(records[i:i + batch])
        seen.extend(tuple(v) for v in verdicts)
    return seen


def small_detection() -> Detection:
    scorer = RequestScorer.load()
    scorer.cache_size = 300
    scorer.context = SiteContext(max_paths=400)
    return Detection(scorer, BehaviourTracker(max_ips=500),
                     campaigns=CampaignTracker(CampaignConfig(max_keys=200, max_ips=300)))


def test_every_structure_stays_within_its_cap_on_unique_content(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(classifier, "_SHARED_MAX", 64)
    monkeypatch.setattr(tracker_module, "_CACHE_MAX", 300)
    monkeypatch.setattr(campaigns_module, "_CACHE_MAX", 300)
    monkeypatch.setattr(campaigns_module, "_SHARED_MAX", 64)
    records = unique_records(LINES)
    det = small_detection()
    run(records, det)
    sc = det.scorer
    assert sc is not None
    # scorer caches: trimmed to their cap (the target cache may hold one batch more until the next batch)
    assert len(sc._targets) <= 300 + 500
    for cache in (sc._combos, sc._agents, sc._referers, sc._crawlers, sc._ancient):
        assert len(cache) <= 301
    assert len(sc._shared) <= 65 and len(sc._strings) <= 65
    assert len(sc.context) <= 400
    assert len(sc.context._refs_seen) <= 50_000
    b = det.behaviour
    assert len(b) <= 500 and b._table.capacity <= 500 and len(b._evidence) <= 500
    assert len(b._path_cache) <= 301 and len(b._agent_cache) <= 301
    c = det.campaigns
    assert len(c._probe) <= 200 and len(c._oneshot) <= 200
    assert len(c._ips) <= 301
    assert len(c._count) <= 301 + 500 and len(c._count_prev) <= 301 + 500
    assert len(c._path_cache) <= 301 and len(c._agent_cache) <= 301 and len(c._shared) <= 65
    # the run did fill them: the caps were reached, not just respected
    assert len(sc.context) > 300 and len(b) > 400 and len(c._probe) + len(c._oneshot) > 100


def test_cache_sizes_never_change_a_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scorer caches and interning are pure: tiny caches give the verdicts of the defaults."""
    records = unique_records(1500, seed=9)
    wide = run(records, Detection.load())
    monkeypatch.setattr(classifier, "_SHARED_MAX", 8)
    det = Detection.load()
    assert det.scorer is not None
    det.scorer.cache_size = 50
    assert run(records, det, batch=97) == wide


def test_evidence_starts_with_shared_read_only_containers() -> None:
    a, b = Evidence(burst=1), Evidence(burst=2)
    assert a.missing is b.missing and not a.missing
    a.put("missing", "/x", 1.0)
    a.add_bounded("admin", "/admin")
    a.count("login", "/wp-login.php", 16)
    a.count("login", "/wp-login.php", 16)
    a.add_agent(b"\x07" * 16)
    a.add_agent(b"\x07" * 16)
    a.add_agent(b"\x07" * 15)  # a digest as a numpy bytes column gives it back: trailing zero bytes dropped
    assert dict(a.missing) == {"/x": 1.0} and list(a.admin) == ["/admin"] and a.login == {"/wp-login.php": 2}
    assert a.agents == b"\x07" * 16 + b"\x07" * 15 + b"\x00" and a.n_agents == 2
    assert not b.missing and not b.admin and not b.login and not b.agents  # nothing leaked into the shared empties
    with pytest.raises(TypeError):
        b.missing["/y"] = 1.0  # type: ignore[index]
