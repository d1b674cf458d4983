"""``threatlens-tui``: parse the arguments and the config file, then run the monitor."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from threatlens.config import Config
    from threatlens.tui.options import MonitorOptions

__all__ = ["ESCAPE_DELAY_MS", "build_parser", "escape_delay_ms", "main", "options_from_args"]

#: How long a lone Esc byte waits for the rest of a key's escape sequence before it counts as the Esc key
#: (the ``ESCDELAY`` environment variable, as in curses, overrides it). Textual waits 100 ms, which every
#: Esc (closing a screen, clearing the filter) paid. A terminal or SSH client sends a key's sequence in one
#: write, so its bytes arrive together: the fish shell waits 30 ms (``fish_escape_delay_ms``), tmux 3.5 10 ms,
#: Neovim 50 ms. 30 ms takes 20 ms off every Esc against Neovim's figure.
ESCAPE_DELAY_MS = 30


#: The longest ``ESCDELAY`` taken: a longer wait would leave every key after an Esc waiting with it (Ctrl+C too).
MAX_ESCAPE_DELAY_MS = 1000


def escape_delay_ms(value: str | None) -> int:
    """The Esc wait in milliseconds: ``ESCDELAY`` if it is a number (within 1..1000), else :data:`ESCAPE_DELAY_MS`."""
    try:
        wanted = int(value) if value is not None else ESCAPE_DELAY_MS
    except ValueError:
        return ESCAPE_DELAY_MS
    return max(1, min(MAX_ESCAPE_DELAY_MS, wanted))


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``threatlens-tui``."""
    from threatlens.options import add_run_options

    p = argparse.ArgumentParser(
        prog="threatlens-tui",
        description="Live monitor of Apache/Nginx access logs and the host firewall's log (ufw, iptables/nftables, "
        "firewalld): follows the files (through rotation), scores every request, watches for port scans, and shows "
        "top IPs, countries, ports, alerts and rates. Press ? inside for the keys.",
        epilog="examples:\n  threatlens-tui /var/log/nginx/access.log\n"
        "  threatlens-tui /var/log/nginx/access.log /var/log/ufw.log\n"
        "  threatlens-tui --backfill 5000 /var/log/apache2/access.log /var/log/apache2/other_vhosts_access.log\n"
        "  tail -F access.log | threatlens-tui -",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="access or firewall log(s) to follow, or - for standard input")
    add_run_options(p)
    p.add_argument("--export-dir", default=None, metavar="DIR",
                   help="where exports go by default (default: current directory)")
    from threatlens import __version__

    p.add_argument("--version", action="version", version=f"threatlens-tui {__version__}")
    return p


def options_from_args(args: argparse.Namespace, config: Config) -> MonitorOptions:
    """``MonitorOptions`` from parsed arguments over the config file's values (:func:`resolve_options`)."""
    from threatlens.options import resolve_options
    from threatlens.tui.options import MonitorOptions

    return MonitorOptions(paths=list(args.paths), **vars(resolve_options(config, args)))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the monitor; exit status 0, or 2 for bad arguments, config or log format."""
    # Start-up (Textual's import, the dashboard's widgets and styles) makes objects that live as long as the
    # monitor: with the collector on, about 150 collections rescanned them, 0.1 s of CPU before the first
    # frame. It stays off until then, and what start-up made is frozen out of later collections.
    gc.disable()
    os.environ["ESCDELAY"] = str(escape_delay_ms(os.environ.get("ESCDELAY")))  # read when Textual is imported
    try:
        from threatlens.errors import ThreatLensError

        parser = build_parser()
        args = parser.parse_args(argv)
        try:
            return _run(parser, args)
        except ThreatLensError as exc:  # anything else is a bug: let its traceback through
            from threatlens.textsafe import visible

            print(f"threatlens-tui: error: {visible(str(exc))}", file=sys.stderr)
            return 2
    finally:
        gc.enable()


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from threatlens.config import Config
    from threatlens.options import check_run_options

    check_run_options(args)
    config = Config.load(args.config)
    opts = options_from_args(args, config)
    for path in opts.paths:
        if path != "-" and os.path.isdir(path):
            parser.error(f"{path} is a directory")
    if opts.nginx_conf is not None or opts.log_format != "auto":  # a bad format exits 2 here, not in the child
        from threatlens.parsers import get_parser

        get_parser(opts.log_format, nginx_conf=opts.nginx_conf)
    follower_options = {}
    if "-" in opts.paths:
        follower_options["streams"] = {"-": _take_stdin(parser)}
    # The ingestion process starts first: it imports and loads the model on another core while this one
    # imports Textual and draws the first frame.
    from threatlens.tui.ingest_child import LOAD
    from threatlens.tui.remote import RemoteLive, ingest_spec

    remote = RemoteLive(ingest_spec(opts, detection=LOAD if opts.detect else None,
                                    follower_options=follower_options))
    remote.start()
    try:
        from threatlens.tui.app import make_app

        app = make_app(opts.paths, options=opts, detection=None if not opts.detect else _auto(), remote=remote)
    except BaseException:
        remote.stop()
        raise
    from threatlens.tui.hangup import TerminalGuard

    app.after_first_frame = app.collect_when_idle
    with TerminalGuard(app) as guard:
        app.run()
    return guard.finish()


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
