"""Subcommands of the ``threatlens`` CLI; each module has ``add_parser(subparsers)``."""

from __future__ import annotations
