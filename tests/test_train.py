from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from threatlens.cli import main
from threatlens.models.classifier import RequestScorer, load_model_file, shipped_model_path
from threatlens.models.dataset import make_record, training_units
from threatlens.models.training import train_model

BENIGN = ["blue shoes", "madrid", "28001", "john.smith@example.com", "calle mayor 5", "2024-05-01", "42",
          "summer sale", "o'reilly books", "rock and roll", "new york", "c/ caridad s/n", "campello, el",
          "pepe", "1442431887503330", "nue37", "select committee", "union station"]
ATTACKS = [("1' or '1'='1", "sqli"), ("1 union select null,version()--", "sqli"), ("1; drop table users",
           "sqli"), ("<script>alert(1)</script>", "xss"), ("\"><img src=x onerror=alert(1)>", "xss"),
           ("../../../etc/passwd", "path-traversal"), ("..\\..\\windows\\win.ini", "path-traversal"),
           ("; cat /etc/passwd", "cmdi"), ("| id", "cmdi"), ("`whoami`", "cmdi"),
           ("1' and sleep(5)#", "sqli"), ("<svg/onload=prompt(1)>", "xss")]


def _mini_data(root: Path, copies: int = 12) -> Path:
    """A tiny data folder in the ../shared/data layout (only HttpParams-style rows)."""
    folder = root / "labeled" / "httpparams"
    folder.mkdir(parents=True)
    with (folder / "payload_train.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_ALL)
        w.writerow(["payload", "length", "attack_type", "label"])
        for i in range(copies):
            for text in BENIGN:
                w.writerow([f"{text} {i}", len(text), "norm", "norm"])
            for text, kind in ATTACKS:
                w.writerow([f"{text}{' ' * (i % 3)}", len(text), kind, "anom"])
    return root


def test_train_writes_a_loadable_model_and_its_description(tmp_path: Path) -> None:
    data = _mini_data(tmp_path / "data")
    out = tmp_path / "out" / "m.skops"
    info = train_model(data, out, seed=3, synthetic=300, command="threatlens train --seed 3")
    assert out.is_file()
    saved = json.loads((out.parent / "model.json").read_text())
    assert saved["seed"] == 3 and saved["command"] == "threatlens train --seed 3"
    assert saved["threshold"] == 0.5 and saved["model_file"] == "m.skops"
    for key in ("payload_test", "payload_test_benign_values"):
        assert key in saved["metrics"]
    assert info["training_data"]["units"] > 0
    scorer = RequestScorer.load(out)
    assert scorer.info["seed"] == 3
    v = scorer.score([make_record("GET", "/x", "id=1%27%20union%20select%20null,version()--")])[0]
    assert v.flagged


def test_training_is_reproducible(tmp_path: Path) -> None:
    data = _mini_data(tmp_path / "data")
    train_model(data, tmp_path / "a" / "m.skops", seed=1, synthetic=200)
    train_model(data, tmp_path / "b" / "m.skops", seed=1, synthetic=200)
    a = load_model_file(tmp_path / "a" / "m.skops")
    b = load_model_file(tmp_path / "b" / "m.skops")
    assert np.array_equal(a["payload"].coef_, b["payload"].coef_)
    assert a["raw_threshold"] == b["raw_threshold"]


def test_units_are_grouped_and_normalised(tmp_path: Path) -> None:
    us = training_units(_mini_data(tmp_path / "data", copies=2), seed=0, synthetic=50)
    attacks = [u for u in us.units if u.label == 1]
    assert attacks and all(u.text == u.text.lower() for u in us.units)
    assert all(u.group.startswith(f"{u.source}:") for u in us.units)
    # the two near-identical copies of an attack share a group, so a split never separates them
    groups = {}
    for u in attacks:
        groups.setdefault(u.group, set()).add(u.text.strip())
    assert len(groups) < len(attacks)


def test_cli_train_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--data", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "no labelled data" in err and "Traceback" not in err and err.count("\n") == 1
    assert main(["train", "--data", str(_mini_data(tmp_path / "d")), "--out", str(tmp_path / "m.pkl")]) == 2
    assert ".skops" in capsys.readouterr().err
    assert main(["train", "--baseline", str(tmp_path / "missing.log")]) == 2
    assert "missing.log" in capsys.readouterr().err


def test_cli_train_to_a_chosen_path(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    data = _mini_data(tmp_path / "data")
    out = tmp_path / "model" / "custom.skops"
    monkeypatch.setattr("threatlens.models.training.training_units",
                        lambda d, seed, synthetic: training_units(d, seed, synthetic=200))
    assert main(["train", "--data", str(data), "--out", str(out), "--seed", "2", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["seed"] == 2 and "--seed 2" in info["command"]
    assert out.is_file()


def test_cli_train_needs_data_and_writes_to_the_user_data_dir(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = shipped_model_path()
    before = shipped.read_bytes()
    monkeypatch.chdir(tmp_path)  # no ../shared/data guess from here
    assert main(["train"]) == 2
    assert "--data DIR is required" in capsys.readouterr().err
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr("threatlens.models.training.training_units",
                        lambda d, seed, synthetic: training_units(d, seed, synthetic=200))
    assert main(["train", "--data", str(_mini_data(tmp_path / "data")), "--seed", "3"]) == 0
    out = tmp_path / "xdg" / "threatlens" / "threatlens-model.skops"
    assert out.is_file() and f"--model {out}" in capsys.readouterr().out
    assert shipped.read_bytes() == before  # the installed package's model is never overwritten by default
    assert RequestScorer.load(out).threshold is not None


def test_train_help_is_complete(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    for flag in ("--data", "--out", "--seed", "--baseline"):
        assert flag in text


def test_shipped_model_description_matches_the_command() -> None:
    from threatlens.models.classifier import shipped_model_path

    info = json.loads(shipped_model_path().with_name("model.json").read_text())
    assert info["command"].startswith("threatlens train")
    assert isinstance(info["seed"], int)
    assert info["metrics"]["payload_test"]["recall"] >= 0.95
    assert info["metrics"]["payload_test_benign_values"]["fpr"] <= 0.005
