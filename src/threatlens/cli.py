"""The ``threatlens`` command line: argument parsing only; the work lives in the core."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from threatlens import __version__
from threatlens.errors import ThreatLensError

#: Subcommand name -> module; each module defines ``add_parser(subparsers)`` which registers its
#: parser with ``set_defaults(func=run)``, ``run(args) -> int``. ``serve`` is a front end of its own
#: (above ``commands`` and ``tui``, which it uses), so it lives in its own package.
COMMANDS = {
    "scan": "threatlens.commands.scan",
    "train": "threatlens.commands.train",
    "evaluate": "threatlens.commands.evaluate",
    "serve": "threatlens.serve.command",
}


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="threatlens",
        description="Spot attacks in Apache/Nginx access logs (headless). "
        "For the live terminal monitor run threatlens-tui.",
    )
    parser.add_argument("--version", action="version", version=f"threatlens {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
        importlib.import_module(module).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``threatlens`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return status
    except ThreatLensError as exc:  # anything else is a bug: let its traceback through
        from threatlens.textsafe import visible

        print(f"threatlens: error: {visible(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # e.g. `threatlens scan big.log | head`: stop quietly, whatever the output format. What is
        # still buffered for the closed pipe goes nowhere (the interpreter's last flush would fail).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
