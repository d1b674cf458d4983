"""The ``threatlens`` command line: argument parsing only; the work lives in the core."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from threatlens import __version__
from threatlens.errors import ThreatLensError

#: Subcommand modules under ``threatlens.commands``; each defines ``add_parser(subparsers)``
#: which registers its parser with ``set_defaults(func=run)``, ``run(args) -> int``.
COMMANDS = ("scan", "train", "evaluate")


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="threatlens",
        description="Spot attacks in Apache/Nginx access logs (headless). "
        "For the live terminal monitor run threatlens-tui.",
    )
    parser.add_argument("--version", action="version", version=f"threatlens {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"threatlens.commands.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``threatlens`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except ThreatLensError as exc:  # anything else is a bug: let its traceback through
        from threatlens.textsafe import visible

        print(f"threatlens: error: {visible(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # e.g. `threatlens scan big.log | head`: stop quietly.
        sys.stderr.close()
        return 0
