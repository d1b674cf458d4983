"""``threatlens serve``: the command line; the server itself is in :mod:`threatlens.serve.app`."""

from __future__ import annotations

import argparse
import os

from threatlens.errors import UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``serve`` with the monitor's own options plus the server's."""
    from threatlens.tui.main import build_parser as monitor_parser

    p = sub.add_parser(
        "serve",
        parents=[monitor_parser()],
        conflict_handler="resolve",
        help="follow logs and serve the live monitor in a browser, a scoring API and Prometheus metrics",
        description="Follow the access logs like threatlens-tui (same options, config and allowlist) and serve "
        "over HTTP: / the live monitor in a browser, /api/v1/score (scan --output jsonl over posted lines), "
        "/api/v1/summary, /api/v1/alerts, /api/v1/ips/IP, /metrics (Prometheus) and /healthz. "
        "Needs the serve extra: pip install 'threatlens[serve]'.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
        "  threatlens serve /var/log/nginx/access.log\n"
        "  threatlens serve --listen 0.0.0.0:8321 --token-file /etc/threatlens/token /var/log/nginx/access.log\n"
        "  curl -s -H 'Content-Type: text/plain' --data-binary @access.log http://127.0.0.1:8321/api/v1/score\n"
        "exit status: 0 stopped by SIGINT/SIGTERM, 2 bad arguments or unreadable input",
    )
    _own_help(p)
    srv = p.add_argument_group("serving")
    srv.add_argument("--listen", default="127.0.0.1:8321", metavar="HOST:PORT",
                     help="address to listen on (default 127.0.0.1:8321; [::1]:PORT for IPv6; port 0 picks one); "
                     "an address other than loopback needs --token-file")
    srv.add_argument("--token-file", metavar="FILE",
                     help="require 'Authorization: Bearer TOKEN' (TOKEN read from FILE) on every route but /healthz")
    srv.add_argument("--max-body", type=int, default=None, metavar="BYTES",
                     help="largest POST /api/v1/score body (default 16 MiB)")
    srv.add_argument("--max-line", type=int, default=None, metavar="BYTES",
                     help="longest line in a scoring request (default 64 KiB)")
    srv.add_argument("--max-sessions", type=int, default=4, metavar="N",
                     help="browser sessions open at once, each a monitor process of its own (default 4)")
    srv.add_argument("--no-browser", action="store_true",
                     help="serve the API and metrics only; / answers 404 and no monitor processes start")
    p.set_defaults(func=run)


def _own_help(p: argparse.ArgumentParser) -> None:
    """Correct what the monitor's options say where serve differs: it has no standard input, its own name."""
    from threatlens import __version__

    for action in p._actions:
        if action.dest == "paths":
            action.help = "access or firewall log(s) to follow (standard input is not supported)"
        elif isinstance(action, argparse._VersionAction):
            action.version = f"threatlens serve {__version__}"


def run(args: argparse.Namespace) -> int:
    """Check the options, then serve until interrupted."""
    from threatlens.config import Config
    from threatlens.options import check_run_options
    from threatlens.tui.main import options_from_args

    try:
        from threatlens.serve.app import (
            DEFAULT_MAX_BODY,
            DEFAULT_MAX_LINE,
            ServeOptions,
            check,
            parse_listen,
            read_token,
        )
        from threatlens.serve.app import run as serve_run
    except ImportError as exc:
        raise UsageError(f"threatlens serve needs the serve extra ({exc.name} is missing): "
                         "pip install 'threatlens[serve]'") from None
    if "-" in args.paths:
        raise UsageError("threatlens serve follows files: standard input (-) is not supported")
    check_run_options(args)
    monitor = options_from_args(args, Config.load(args.config))
    for path in monitor.paths:
        if os.path.isdir(path):
            raise UsageError(f"{path} is a directory")
    if not monitor.export_dir.is_dir():
        raise UsageError(f"--export-dir {monitor.export_dir} is not a directory")
    host, port = parse_listen(args.listen)
    options = ServeOptions(host=host, port=port, token=read_token(args.token_file) if args.token_file else None,
                           max_body=args.max_body if args.max_body is not None else DEFAULT_MAX_BODY,
                           max_line=args.max_line if args.max_line is not None else DEFAULT_MAX_LINE,
                           browser=not args.no_browser, max_sessions=args.max_sessions)
    check(options)
    return serve_run(monitor, options)
