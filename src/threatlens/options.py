"""The options every run shares (scan, the monitor), declared once and resolved once.

:func:`add_run_options` puts the same options on each command line; :func:`resolve_options`
merges them with the config file: an option typed on the command line wins over the config
file, which wins over the built-in default. Shared options are declared with ``default=None``,
so "not typed" is ``None`` in the parsed arguments and cannot be mistaken for a typed value.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from threatlens.config import Config
from threatlens.errors import UsageError
from threatlens.models.allowlist import Allowlist
from threatlens.models.verdict import SEVERITIES

__all__ = ["RunOptions", "add_run_options", "check_run_options", "resolve_options", "typed_options"]


@dataclass
class RunOptions:
    """The resolved settings of one run; ``None`` means "the model's / the program's own default"."""

    log_format: str = "auto"
    nginx_conf: str | None = None
    from_start: bool = False
    backfill: int | None = None
    threshold: float | None = None
    model: str | None = None
    baseline: str | None = None
    detect: bool = True
    geoip_db: str | None = None
    poll: bool = False
    poll_interval: float | None = None
    export_dir: Path = field(default_factory=Path.cwd)
    config_path: Path | None = None
    allowlist: list[str] = field(default_factory=list)
    #: the config's allowlist as it read it (``Allowlist.parse(allowlist, built=...)`` copies it)
    parsed_allowlist: Allowlist | None = field(default=None, compare=False, repr=False)
    #: the least serious tier that ``--only-flagged`` output, flagged exports and block lists include
    min_severity: str = "attack"


def add_run_options(parser: argparse.ArgumentParser, *, follow_note: str = "") -> dict[str, Any]:
    """Declare the shared options on ``parser`` in three groups, returned by name for additions.

    ``follow_note`` prefixes the help of the following options (``"with --follow: "`` for scan).
    """
    from threatlens.parsers import PRESETS

    fmt = parser.add_argument_group("log format")
    fmt.add_argument("--log-format", default=None, metavar="FORMAT",
                     help=f"auto (default), a preset ({', '.join(PRESETS)}), json:FIELD=KEY,..., "
                     "or an Apache LogFormat / nginx log_format string")
    fmt.add_argument("--nginx-conf", default=None, metavar="FILE[:NAME]",
                     help="read the log_format NAME (default: main, or the only one) from an nginx.conf")
    det = parser.add_argument_group("detection")
    det.add_argument("--threshold", type=float, default=None, metavar="T",
                     help="flag requests scoring at least T (0-1; default: the model's calibrated threshold)")
    det.add_argument("--model", default=None, metavar="PATH",
                     help="a model file made by 'threatlens train' (default: shipped)")
    det.add_argument("--baseline", default=None, metavar="PATH",
                     help="a behaviour baseline made by 'threatlens train --baseline'")
    det.add_argument("--no-detect", action="store_true", default=None, help="parse and count only (no scoring)")
    det.add_argument("--geoip-db", default=None, metavar="PATH", help="a MaxMind-format .mmdb country database")
    det.add_argument("--min-severity", default=None, choices=SEVERITIES, metavar="TIER",
                     help="least serious tier (attack, suspicious or nuisance) that flagged output, exports and "
                     "block lists include (default attack)")
    fol = parser.add_argument_group("following")
    fol.add_argument("--from-start", action="store_true", default=None,
                     help=f"{follow_note}read the existing content first (default: only new lines)")
    fol.add_argument("--backfill", type=int, default=None, metavar="N",
                     help=f"{follow_note}begin with the last N lines")
    fol.add_argument("--poll", action="store_true", default=None,
                     help=f"{follow_note}poll instead of inotify (NFS, bind mounts)")
    parser.add_argument("--config", default=None, metavar="FILE",
                        help="config file for defaults and the allowlist (default ~/.config/threatlens/config.toml)")
    return {"log format": fmt, "detection": det, "following": fol}


def typed_options(args: argparse.Namespace) -> set[str]:
    """Names of the shared options the user typed (``dest`` names)."""
    names = ("log_format", "nginx_conf", "threshold", "model", "baseline", "no_detect", "geoip_db", "from_start",
             "backfill", "poll", "export_dir", "min_severity")
    return {name for name in names if getattr(args, name, None) is not None}


def check_run_options(args: argparse.Namespace) -> None:
    """Refuse contradictory or out-of-range shared options (:class:`UsageError`)."""
    if args.from_start and args.backfill is not None:
        raise UsageError("--from-start and --backfill exclude each other")
    if args.backfill is not None and args.backfill < 0:
        raise UsageError("--backfill must be 0 or more")
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise UsageError(f"--threshold must be between 0 and 1, not {args.threshold}")
    if args.paths.count("-") > 1:
        raise UsageError("standard input (-) can be named only once")


def resolve_options(config: Config, args: argparse.Namespace) -> RunOptions:
    """Command line over config file over defaults, for every shared option."""
    typed = {name: getattr(args, name) for name in typed_options(args)}
    merged: dict[str, Any] = {**config.defaults(), **typed}
    if "from_start" in typed:  # --from-start replaces a backfill from the config file
        merged.pop("backfill", None)
    poll = merged.get("poll", False)
    interval = config.poll  # an interval in the config file also times a --poll typed on the command line
    export_dir = merged.get("export_dir") or os.getcwd()
    return RunOptions(
        log_format=merged.get("log_format") or "auto",
        nginx_conf=merged.get("nginx_conf"),
        from_start=bool(merged.get("from_start")),
        backfill=merged.get("backfill"),
        threshold=merged.get("threshold"),
        model=merged.get("model"),
        baseline=merged.get("baseline"),
        detect=not merged.get("no_detect"),
        geoip_db=merged.get("geoip_db"),
        poll=bool(poll),
        poll_interval=float(interval) if isinstance(interval, int | float) and not isinstance(interval, bool) else None,
        export_dir=Path(export_dir).expanduser(),
        config_path=Path(args.config).expanduser() if getattr(args, "config", None) else config.path,
        allowlist=list(config.allowlist),
        parsed_allowlist=config.parsed_allowlist,
        min_severity=merged.get("min_severity") or "attack",
    )
