"""``MonitorOptions``: everything the monitor is started with (from the command line and config)."""

from __future__ import annotations

from dataclasses import dataclass, field

from threatlens.options import RunOptions

__all__ = ["MonitorOptions"]


@dataclass
class MonitorOptions(RunOptions):
    """Options of one monitor run: the shared :class:`RunOptions` plus the files and the refresh rate."""

    paths: list[str] = field(default_factory=list)
    refresh_hz: float = 2.0
    #: Served in a browser (``threatlens serve``): files are written only under ``export_dir`` and the
    #: allowlist is not saved to the config file.
    confine_writes: bool = False
