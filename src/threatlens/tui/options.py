"""``MonitorOptions``: everything the monitor is started with (from the command line and config)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["MonitorOptions"]


@dataclass
class MonitorOptions:
    """Options of one monitor run; ``threatlens.tui.main`` builds them from arguments and config."""

    paths: list[str] = field(default_factory=list)
    log_format: str = "auto"
    nginx_conf: str | None = None
    from_start: bool = False
    backfill: int | None = None
    threshold: float | None = None
    model: str | None = None
    baseline: str | None = None
    geoip_db: str | None = None
    poll: bool = False
    poll_interval: float | None = None
    export_dir: Path = field(default_factory=Path.cwd)
    config_path: Path | None = None
    allowlist: list[str] = field(default_factory=list)
    detect: bool = True
    refresh_hz: float = 2.0
