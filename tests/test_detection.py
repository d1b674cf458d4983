"""``Detection``: scorer + allowlist + behaviour detectors together."""

from __future__ import annotations

from pathlib import Path

import pytest

from behaviour_support import GOOGLEBOT, fixture, kinds_by_ip, line, parse
from threatlens.errors import AllowlistError, ModelError
from threatlens.models.allowlist import Allowlist
from threatlens.models.behaviour import BehaviourTracker
from threatlens.models.detection import Detection
from threatlens.models.verdict import Verdict

SHIPPED = Path(__file__).resolve().parents[1] / "src" / "threatlens" / "models" / "threatlens-model.skops"
needs_model = pytest.mark.skipif(not SHIPPED.exists(), reason=f"shipped model {SHIPPED.name} not built yet")


def test_without_scorer_every_verdict_is_clean_and_behaviour_still_alerts() -> None:
    records = fixture("behaviour_crowdsec_sensitive_files.log")
    det = Detection(None)
    verdicts, alerts = det.process(records)
    assert len(verdicts) == len(records) and all(v == Verdict(0.0, False) for v in verdicts)
    assert "sensitive_file_probing" in kinds_by_ip(alerts)["127.0.0.1"]
    assert det.process([]) == ([], [])


def test_allowlisted_records_are_not_flagged_and_raise_no_alerts() -> None:
    records = fixture("behaviour_crowdsec_sensitive_files.log")
    det = Detection(None, allowlist=Allowlist.parse(["127.0.0.0/8"]))
    verdicts, alerts = det.process(records)
    assert alerts == []
    assert all(v.reasons == ("allowlisted",) and not v.flagged for v in verdicts)


def test_allowlisted_paths_do_not_count_towards_behaviour() -> None:
    lines = [line("203.0.113.9", i * 0.1, "/health", 200) for i in range(600)]  # a monitor, 10 req/s
    lines.append(line("203.0.113.9", 61, "/index.html", 200))
    det = Detection(None, allowlist=Allowlist.parse(["path:/health"]))
    verdicts, alerts = det.process(parse(lines))
    assert alerts == [] and verdicts[-1].reasons == () and verdicts[0].reasons == ("allowlisted",)
    assert Detection(None).process(parse(lines))[1] != []  # without the allowlist it is a flood


def test_verdicts_stay_parallel_with_mixed_allowlisting() -> None:
    records = parse([line("192.0.2.1", 0, "/a"), line("198.51.100.1", 1, "/b"), line("192.0.2.1", 2, "/c")])
    det = Detection(None, allowlist=Allowlist.parse(["198.51.100.1"]))
    verdicts, _ = det.process(records)
    assert [v.reasons for v in verdicts] == [(), ("allowlisted",), ()]


def test_threshold_without_scorer() -> None:
    det = Detection(None)
    assert det.threshold is None
    det.threshold = 0.7
    assert det.threshold == 0.7
    with pytest.raises(ValueError):
        det.threshold = 1.5


def test_behaviour_sees_the_scorer_verdicts() -> None:
    class Fixed:  # a stand-in scorer: the thing under test is Detection's wiring, not scoring
        threshold = 0.5

        def score(self, records):
            return [Verdict(0.9, True, ("sqli",), ("union select",)) for _ in records]

    det = Detection(Fixed(), BehaviourTracker())  # type: ignore[arg-type]
    records = parse([line("203.0.113.70", i, f"/item?id={i}", 200) for i in range(4)])
    verdicts, alerts = det.process(records)
    assert all(v.flagged for v in verdicts)
    assert [a.kind for a in alerts] == ["repeated_attacks"] and "sqli" in alerts[0].categories


@needs_model
def test_load_refuses_a_missing_baseline_and_bad_allowlist(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="baseline file not found"):
        Detection.load(baseline=tmp_path / "nope.skops")
    with pytest.raises(AllowlistError, match="allowlist entry"):
        Detection.load(allowlist=["not an ip"])


@needs_model
def test_shipped_scorer_end_to_end(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no user baseline
    det = Detection.load(allowlist=["192.0.2.250"])
    assert det.threshold == det.scorer.threshold
    det.threshold = 0.6
    assert det.scorer.threshold == 0.6
    lines = [line("203.0.113.71", i, p, 404) for i, p in enumerate(
        ["/.env", "/.git/config", "/index.php?id=1%27%20union%20select%201,2,3--", "/wp-config.php.bak"])]
    lines += [line("198.51.100.4", 10 + i, f"/blog/post-{i}.html") for i in range(5)]
    lines += [line("192.0.2.250", 20, "/.env", 404), line("66.249.66.1", 21, "/blog/", agent=GOOGLEBOT)]
    verdicts, alerts = det.process(parse(lines))
    assert any(v.flagged for v in verdicts[:4])
    assert not any(v.flagged for v in verdicts[4:9])
    assert verdicts[9].reasons == ("allowlisted",) and not verdicts[9].flagged
    assert {a.ip for a in alerts} == {"203.0.113.71"}
