"""Shared fixtures: paths to the project's fixtures and to ../shared/data (optional)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SHARED = (ROOT / ".." / "shared" / "data").resolve()


@pytest.fixture
def shared_data() -> Path:
    """The team's training/evaluation data, or skip with the reason."""
    if not SHARED.is_dir():
        pytest.skip(f"../shared/data is absent ({SHARED}): this test needs the team data set")
    return SHARED


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read or write the developer's ~/.config/threatlens (config, allowlist, baseline)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg")))
    monkeypatch.delenv("THREATLENS_GEOIP_DB", raising=False)
