"""``GET /``: the live monitor in a browser, the same Textual app served through ``textual-serve``.

Each browser session gets a websocket to a ``threatlens-tui`` process of its own (``textual-serve``
runs ``python -m threatlens.serve.browser OPTIONS.json``), started with the server's monitor options
and ``confine_writes``: exports go only under ``--export-dir`` and the config file is never written.
The page is our own minimal copy of ``textual-serve``'s: no inline script, no third-party font,
so a strict Content-Security-Policy holds.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from threatlens.tui.options import MonitorOptions

PAGE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>ThreatLens</title>
<link rel="stylesheet" href="{static}css/xterm.css">
<script src="{static}js/textual.js"></script>
<style>
body {{ background: #0c181f; margin: 0; }}
.textual-terminal {{ width: 100vw; height: 100vh; }}
</style>
</head>
<body>
<div id="terminal" class="textual-terminal" data-session-websocket-url="{websocket}" data-font-size="{font_size}">
</div>
</body>
</html>
"""


def write_options(options: MonitorOptions, directory: Path) -> Path:
    """Save the monitor options for the browser sessions' processes (a file only this user can read)."""
    data = dataclasses.asdict(options)
    data["export_dir"] = str(options.export_dir)
    data["config_path"] = str(options.config_path) if options.config_path is not None else None
    data["confine_writes"] = True
    path = directory / "monitor-options.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    return path


def read_options(path: str | Path) -> MonitorOptions:
    """The options ``write_options`` saved."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    data["export_dir"] = Path(data["export_dir"])
    data["config_path"] = Path(data["config_path"]) if data.get("config_path") else None
    return MonitorOptions(**data)


def session_command(options_file: Path) -> str:
    """The shell command ``textual-serve`` runs for each browser session (every part quoted)."""
    return shlex.join([sys.executable, "-m", "threatlens.serve.browser", str(options_file)])


class BrowserSessions:
    """The ``/``, ``/ws`` and ``/static`` routes, over ``textual-serve``'s websocket bridge."""

    def __init__(self, command: str) -> None:
        from textual_serve.server import Server

        self.server = Server(command, title="ThreatLens")
        self.static = Path(self.server.statics_path)

    def add_routes(self, app: Any) -> None:
        """Register the page, its assets and the session websocket."""
        app.router.add_get("/", self.index)
        app.router.add_get("/ws", self.server.handle_websocket)
        app.router.add_static("/static/", self.static, show_index=False, follow_symlinks=False)

    async def index(self, request: Any) -> Any:
        """The page: the terminal widget and the address of its websocket."""
        from aiohttp import web

        from threatlens.serve.security import CSP

        try:
            font_size = max(6, min(40, int(request.query.get("fontsize", "16"))))
        except ValueError:
            font_size = 16
        scheme = "wss" if request.secure else "ws"
        page = PAGE.format(static="/static/", websocket=html.escape(f"{scheme}://{request.host}/ws", quote=True),
                           font_size=font_size)
        return web.Response(text=page, content_type="text/html",
                            headers={"Content-Security-Policy": CSP, "X-Frame-Options": "DENY"})


def main(argv: Sequence[str] | None = None) -> int:
    """Run one browser session's monitor (``textual-serve`` sets the web driver in the environment)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m threatlens.serve.browser OPTIONS.json (started by threatlens serve)",
              file=sys.stderr)
        return 2
    options = read_options(args[0])
    os.chdir(options.export_dir)  # a relative export name lands in the export directory
    from threatlens.tui.app import make_app

    no_model: dict[str, Any] = {} if options.detect else {"detection": None}
    make_app(options.paths, options=options, **no_model).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
