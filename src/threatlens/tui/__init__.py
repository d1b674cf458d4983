"""The live monitor (``threatlens-tui``): Textual app, screens and widgets.

The core packages never import this one; ``make_app`` is the entry point for tests and scripts.
"""

from __future__ import annotations

from typing import Any

__all__ = ["make_app"]


def make_app(*args: Any, **kwargs: Any) -> Any:
    """Build the monitor (see ``threatlens.tui.app.make_app``)."""
    from threatlens.tui.app import make_app as factory

    return factory(*args, **kwargs)
