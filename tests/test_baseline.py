"""The learned baseline: train on a site's history, save/load with skops safely, alert on outliers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skops.io as sio

from behaviour_support import BROWSER, line, parse, run
from threatlens.errors import DataError, ModelError
from threatlens.models.baseline import Baseline, default_baseline_path, fit_baseline, train_baseline
from threatlens.models.behaviour import FEATURE_NAMES, BehaviourTracker


def history() -> list[str]:
    """Two days of a quiet site: readers fetching a page and its assets, a few pages each."""
    rng = np.random.default_rng(7)
    out = []
    for v in range(120):
        ip = f"198.51.{v // 200}.{v % 200 + 1}"
        t = float(rng.uniform(0, 172_800))
        for _ in range(int(rng.integers(4, 12))):
            out.append(line(ip, t, f"/doc/{int(rng.integers(0, 300))}.html", 200, size=int(rng.integers(4000, 40000))))
            for a in ("/s.css", "/a.js", "/logo.png"):
                out.append(line(ip, t + 0.5, a, 304 if rng.random() < 0.5 else 200, size=900))
            t += float(rng.uniform(10, 120))
    return sorted(out, key=lambda s: s.split("[", 1)[1][:20])


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    d = tmp_path_factory.mktemp("bl")
    log = d / "access.log"
    log.write_text("\n".join(history()) + "\n")
    out = d / "cfg" / "baseline.skops"
    return train_baseline([str(log)], out, seed=3), out


def test_train_saves_a_loadable_baseline(trained: tuple[dict, Path]) -> None:
    summary, out = trained
    assert out.is_file() and summary["path"] == str(out)
    assert summary["windows"] >= 30 and summary["records"] > 1000 and summary["unparsed"] == 0
    assert summary["features"] == list(FEATURE_NAMES) and summary["seed"] == 3
    b = Baseline.load(out)
    assert b.threshold == pytest.approx(summary["threshold"]) and 0.5 < b.threshold < 1


def test_training_is_reproducible(trained: tuple[dict, Path], tmp_path: Path) -> None:
    summary, _ = trained
    log = tmp_path / "access.log"
    log.write_text("\n".join(history()) + "\n")
    again = train_baseline([str(log)], tmp_path / "b.skops", seed=3)
    assert again["threshold"] == summary["threshold"] and again["windows"] == summary["windows"]


def test_ordinary_readers_pass_and_a_stranger_is_anomalous(trained: tuple[dict, Path]) -> None:
    _, out = trained
    tracker = BehaviourTracker(baseline=Baseline.load(out))
    normal = history()[:400]
    # a client unlike anything in the history: HEAD requests to many distinct pages, tiny answers, fast
    odd = [line("203.0.113.99", 172_900 + i * 0.5, f"/doc/{i}.html", 200, method="HEAD", size=0,
                agent="Go-http-client/1.1") for i in range(45)]
    alerts = run(parse(normal + odd), tracker=tracker, batch=200)
    anomalous = {a.ip for a in alerts if a.kind == "anomalous_behaviour"}
    assert anomalous == {"203.0.113.99"}
    a = next(a for a in alerts if a.kind == "anomalous_behaviour")
    assert a.categories == ("other",) and "learned behaviour" in a.reasons[0]


def test_without_baseline_no_anomaly_alerts() -> None:
    odd = [line("203.0.113.99", i * 0.5, f"/doc/{i}.html", 200, method="HEAD", size=0) for i in range(45)]
    assert [a for a in run(parse(odd)) if a.kind == "anomalous_behaviour"] == []


def test_too_short_history_is_refused(tmp_path: Path) -> None:
    log = tmp_path / "short.log"
    log.write_text("\n".join(line("192.0.2.1", i, "/", 200, agent=BROWSER) for i in range(10)) + "\n")
    with pytest.raises(DataError, match="longer log"):
        train_baseline([str(log)], tmp_path / "b.skops", seed=0)


def test_load_refuses_missing_foreign_and_untrusted_files(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        Baseline.load(tmp_path / "missing.skops")
    junk = tmp_path / "junk.skops"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="not a readable"):
        Baseline.load(junk)
    other = tmp_path / "other.skops"
    sio.dump({"format": "something-else"}, other)
    with pytest.raises(ModelError, match="not a ThreatLens baseline"):
        Baseline.load(other)
    evil = tmp_path / "evil.skops"
    sio.dump({"format": "threatlens-baseline/1", "model": Path("/etc")}, evil)  # a type outside the allowlist
    with pytest.raises(ModelError, match="unexpected types"):
        Baseline.load(evil)


def test_default_path_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert default_baseline_path() == tmp_path / "threatlens" / "baseline.skops"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert default_baseline_path() == Path.home() / ".config" / "threatlens" / "baseline.skops"


def test_fit_rejects_few_rows() -> None:
    with pytest.raises(DataError):
        fit_baseline(np.zeros((5, len(FEATURE_NAMES))))
