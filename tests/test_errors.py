"""One error base: user errors are one line and exit 2 at every boundary; bugs keep their traceback."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from threatlens import errors
from threatlens.cli import main
from threatlens.errors import ThreatLensError
from threatlens.tui.main import main as tui_main

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / "sample_logs" / "combined.log"


def test_every_error_class_derives_from_the_base_and_from_nothing_builtin_but_exception() -> None:
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__]
    assert len(classes) >= 10
    for cls in classes:
        assert issubclass(cls, ThreatLensError)
        # an `except ValueError` or `except OSError` in the code must not swallow a user error, nor the reverse
        assert not issubclass(cls, ValueError | OSError | RuntimeError), cls


def test_an_internal_value_error_in_scan_is_a_bug_with_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import threatlens.commands.scan as scan

    def broken(**_kwargs: object) -> None:
        raise ValueError("a bug inside the core")

    monkeypatch.setattr(scan, "build_pipeline", broken)
    with pytest.raises(ValueError, match="a bug inside the core"):
        main(["scan", "--no-detect", str(LOG)])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--log-format", "%Q nonsense"], "unknown Apache directive"),
        (["--model", "/nonexistent/model.skops"], "model file not found"),
        (["--export-flagged", str(LOG)], "exists: choose another name"),
        (["--blocklist", "/nonexistent-dir/b.txt", "--blocklist-format", "iptables"], "unknown --blocklist-format"),
    ],
)
def test_scan_user_errors_are_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", *args, str(LOG)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("threatlens: error: ") and message in err
    assert err.count("\n") == 1


def test_scan_bad_config_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "config.toml"
    conf.write_text('threshold = 2\n')
    assert main(["scan", "--config", str(conf), "--no-detect", str(LOG)]) == 2
    err = capsys.readouterr().err
    assert err == f"threatlens: error: {conf}:1: threshold must be a number from 0 to 1\n"


def test_monitor_bad_config_and_format_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = tmp_path / "config.toml"
    conf.write_text('allowlist = ["example.com"]\n')
    assert tui_main(["--config", str(conf), str(LOG)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"threatlens-tui: error: {conf}:1: allowlist entry 'example.com'")
    assert err.count("\n") == 1
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    assert tui_main(["--config", str(empty), "--log-format", "%Q nonsense", str(LOG)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("threatlens-tui: error: unknown Apache directive %Q")
    assert err.count("\n") == 1
