"""``threatlens-tui``: parse the arguments and the config file, then run the monitor."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["build_parser", "main", "options_from_args"]


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``threatlens-tui``."""
    p = argparse.ArgumentParser(
        prog="threatlens-tui",
        description="Live monitor of Apache/Nginx access logs: follows the files (through rotation), scores "
        "every request, and shows top IPs, countries, ports, alerts and rates. Press ? inside for the keys.",
        epilog="examples:\n  threatlens-tui /var/log/nginx/access.log\n"
        "  threatlens-tui --backfill 5000 /var/log/apache2/access.log /var/log/apache2/other_vhosts_access.log\n"
        "  tail -F access.log | threatlens-tui -",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="access log(s) to follow, or - for standard input")
    p.add_argument("--log-format", default=None, metavar="FORMAT",
                   help="auto (default), a preset (combined, common, vhost_combined, nginx, json...), "
                   "or an Apache LogFormat / nginx log_format string")
    p.add_argument("--nginx-conf", metavar="FILE[:NAME]", help="take the log_format from an nginx.conf")
    start = p.add_mutually_exclusive_group()
    start.add_argument("--from-start", action="store_true", help="read the existing content first (default: new lines)")
    start.add_argument("--backfill", type=int, metavar="N", help="begin with the last N lines")
    p.add_argument("--threshold", type=float, metavar="T", help="flag requests scoring at least T (0-1)")
    p.add_argument("--model", metavar="PATH", help="a model file made by 'threatlens train'")
    p.add_argument("--baseline", metavar="PATH", help="a behaviour baseline made by 'threatlens train --baseline'")
    p.add_argument("--no-detect", action="store_true", help="count and aggregate only, no scoring")
    p.add_argument("--geoip-db", metavar="PATH", help="a MaxMind-format .mmdb country database")
    p.add_argument("--poll", action="store_true", help="poll instead of inotify (NFS, bind mounts)")
    p.add_argument("--export-dir", metavar="DIR", help="where exports go by default (default: current directory)")
    from threatlens import __version__

    p.add_argument("--version", action="version", version=f"threatlens-tui {__version__}")
    p.add_argument("--config", metavar="FILE",
                   help="config file (default ~/.config/threatlens/config.toml): defaults and the allowlist")
    return p


def _load_config(path: str | None) -> Any:
    from threatlens.config import Config

    return Config.load(path)


def _conf(config: Any, name: str, default: Any = None) -> Any:
    if config is None:
        return default
    if isinstance(config, dict):
        return config.get(name, default)
    value = getattr(config, name, default)
    return default if value is None else value


def options_from_args(args: argparse.Namespace, config: Any = None) -> Any:
    """``MonitorOptions`` from parsed arguments, with the config file's values as defaults."""
    from threatlens.tui.options import MonitorOptions

    export_dir = args.export_dir or _conf(config, "export_dir") or os.getcwd()
    return MonitorOptions(
        paths=list(args.paths),
        log_format=args.log_format or _conf(config, "log_format", "auto"),
        nginx_conf=args.nginx_conf or _conf(config, "nginx_conf"),
        from_start=args.from_start,
        backfill=args.backfill if args.backfill is not None or args.from_start else _conf(config, "backfill"),
        threshold=args.threshold if args.threshold is not None else _conf(config, "threshold"),
        model=args.model or _conf(config, "model"),
        baseline=args.baseline or _conf(config, "baseline"),
        geoip_db=args.geoip_db or _conf(config, "geoip_db"),
        poll=args.poll or bool(_conf(config, "poll", False)),
        poll_interval=_poll_interval(_conf(config, "poll")),
        export_dir=Path(export_dir).expanduser(),
        config_path=Path(args.config).expanduser() if args.config else _conf(config, "path"),
        allowlist=[str(e) for e in (_conf(config, "allowlist", []) or [])],
        detect=not args.no_detect,
    )


def _poll_interval(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the monitor; exit status 0, or 2 for bad arguments, config or log format."""
    from threatlens.errors import ThreatLensError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(parser, args)
    except ThreatLensError as exc:  # anything else is a bug: let its traceback through
        from threatlens.textsafe import visible

        print(f"threatlens-tui: error: {visible(str(exc))}", file=sys.stderr)
        return 2


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.paths.count("-") > 1:
        parser.error("standard input (-) can be named only once")
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        parser.error(f"--threshold must be between 0 and 1, not {args.threshold}")
    if args.backfill is not None and args.backfill < 0:
        parser.error("--backfill must be 0 or more")
    config = _load_config(args.config)
    opts = options_from_args(args, config)
    for path in opts.paths:
        if path != "-" and os.path.isdir(path):
            parser.error(f"{path} is a directory")
    from threatlens.tui.app import make_app

    follower_options = {}
    if "-" in opts.paths:
        follower_options["streams"] = {"-": _take_stdin(parser)}
    app = make_app(opts.paths, options=opts, detection=None if not opts.detect else _auto(),
                   follower_options=follower_options)
    app.run()
    return 0


def _take_stdin(parser: argparse.ArgumentParser) -> Any:
    """Move the piped log off file descriptor 0 and put the terminal there, for the keyboard."""
    if sys.stdin.isatty():
        parser.error("- reads the log from standard input: pipe it in (tail -F access.log | threatlens-tui -)")
    log_fd = os.dup(0)
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        parser.error("reading the log from standard input needs a terminal (/dev/tty) for the keys")
    os.dup2(tty, 0)
    os.close(tty)
    return os.fdopen(log_fd, "rb", buffering=0)


def _auto() -> Any:
    from threatlens.tui.app import _AUTO

    return _AUTO


if __name__ == "__main__":
    raise SystemExit(main())
