from __future__ import annotations

import json
from pathlib import Path

import pytest

from threatlens.cli import main
from threatlens.models.dataset import load_labeled

DATA = Path(__file__).resolve().parent / "data"
LABELED = DATA / "evaluate_labeled.tsv"


def test_labelled_access_log_is_read() -> None:
    rows = load_labeled(LABELED)
    assert len(rows) == 13
    assert sum(r.label for r in rows) == 6
    assert rows[0].record.path == "/index.html" and rows[0].record.status == 200


def test_evaluate_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--json", str(LABELED)]) == 0
    out = json.loads(capsys.readouterr().out)
    overall = out["overall"]
    for key in ("precision", "recall", "f1", "roc_auc", "pr_auc", "fpr", "confusion", "per_category_recall"):
        assert key in overall
    assert overall["n"] == 13 and overall["attacks"] == 6
    assert overall["recall"] == 1.0 and overall["fpr"] == 0.0
    assert out["threshold"] == 0.5
    assert str(LABELED) in out["inputs"]
    tiers = overall["flagged_by_severity"]
    assert set(tiers) == {"attack", "suspicious", "nuisance"}
    assert sum(t["attacks"] for t in tiers.values()) == overall["confusion"]["tp"]
    assert sum(t["benign"] for t in tiers.values()) == overall["confusion"]["fp"]


def test_evaluate_threshold_changes_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--json", "--threshold", "0.999", str(LABELED)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["threshold"] == 0.999
    assert out["overall"]["recall"] < 1.0


def test_evaluate_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(LABELED)]) == 0
    text = capsys.readouterr().out
    for word in ("precision", "recall", "ROC-AUC", "PR-AUC", "FPR", "confusion matrix", "overall", "per severity"):
        assert word in text


def test_evaluate_bad_inputs_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    odd = tmp_path / "odd.dat"
    odd.write_text("hello\nworld\n")
    assert main(["evaluate", str(odd)]) == 2
    err = capsys.readouterr().err
    assert "unrecognised" in err and "Traceback" not in err
    assert main(["evaluate", str(tmp_path / "missing.tsv")]) == 2
    bad = tmp_path / "bad.tsv"
    bad.write_text("attack\tnot a log line\n")
    assert main(["evaluate", str(bad)]) == 2
    assert main(["evaluate", "--model", str(tmp_path / "none.skops"), str(LABELED)]) == 2
    assert "not found" in capsys.readouterr().err


def test_evaluate_shared_payload_sets(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = [shared_data / "labeled/gotestwaf_testcases/owasp", shared_data / "labeled/gotestwaf_testcases/false-pos"]
    assert main(["evaluate", "--json", *map(str, paths)]) == 0
    out = json.loads(capsys.readouterr().out)
    attacks = out["inputs"][str(paths[0])]
    assert attacks["attacks"] > 50 and attacks["recall"] >= 0.7
    benign = out["inputs"][str(paths[1])]
    assert benign["benign"] > 20


def test_evaluate_crs_file_and_csv(shared_data: Path) -> None:
    crs = shared_data / "labeled/owasp_crs_regression/regression_tests"
    rows = load_labeled(crs / "REQUEST-942-APPLICATION-ATTACK-SQLI/942100.yaml")
    assert rows and all(r.source == "crs/942100" for r in rows)
    rows = load_labeled(shared_data / "labeled/kaggle_sqli_xss/rd1073/XSS_dataset.csv")
    assert {r.label for r in rows} == {0, 1}


def test_missing_input_fails_before_loading_the_model_or_the_readers(tmp_path: Path) -> None:
    """``evaluate /nonexistent`` fails at once: checked before the model and the dataset readers are imported."""
    import subprocess
    import sys

    code = ("import sys\nfrom threatlens.cli import main\n"
            f"status = main(['evaluate', {str(LABELED)!r}, {str(tmp_path / 'nope.tsv')!r}])\n"
            "heavy = ('threatlens.models.classifier', 'threatlens.models.dataset')\n"
            "loaded = sorted(m for m in heavy if m in sys.modules)\n"
            "print(status, loaded)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "2 []", out.stdout + out.stderr
    assert "nope.tsv: no such file or folder" in out.stderr and "Traceback" not in out.stderr
