"""``make demo`` writes its exports to ``$TMPDIR/threatlens-exports-demo`` only when that directory is its own."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from threatlens.demo import exports_dir


@pytest.fixture
def tmpdir_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_the_usual_name_is_made_private_and_reused(tmpdir_here: Path) -> None:
    first = exports_dir()
    assert first == tmpdir_here / "threatlens-exports-demo"
    assert first.stat().st_mode & 0o777 == 0o700
    assert exports_dir() == first


def test_a_directory_others_can_write_is_not_used(tmpdir_here: Path) -> None:
    shared = tmpdir_here / "threatlens-exports-demo"
    shared.mkdir()
    shared.chmod(0o777)
    chosen = exports_dir()
    assert chosen != shared and chosen.parent == tmpdir_here
    assert chosen.stat().st_mode & 0o777 == 0o700


def test_a_symlink_planted_under_the_name_is_not_followed(tmpdir_here: Path) -> None:
    elsewhere = tmpdir_here / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    os.symlink(elsewhere, tmpdir_here / "threatlens-exports-demo")
    chosen = exports_dir()
    assert chosen != elsewhere and not chosen.is_symlink()
    assert chosen.name.startswith("threatlens-exports-demo-")
