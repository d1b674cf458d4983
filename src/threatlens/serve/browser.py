"""``GET /``: the live monitor in a browser, the same Textual app served through ``textual-serve``.

Each browser session gets a websocket to a ``threatlens-tui`` process of its own (``textual-serve``
runs ``python -m threatlens.serve.browser``), started with the server's monitor options
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


#: The environment variable that hands the monitor options to each browser session's process (the
#: environment of a process is readable by its user only; nothing is written to disk).
OPTIONS_ENV = "THREATLENS_SERVE_OPTIONS"


def options_json(options: MonitorOptions) -> str:
    """The monitor options for the browser sessions' processes, with ``confine_writes`` set."""
    data = dataclasses.asdict(options)
    data["export_dir"] = str(options.export_dir)
    data["config_path"] = str(options.config_path) if options.config_path is not None else None
    data["confine_writes"] = True
    return json.dumps(data)


def read_options(text: str) -> MonitorOptions:
    """The options ``options_json`` wrote."""
    data = json.loads(text)
    data["export_dir"] = Path(data["export_dir"])
    data["config_path"] = Path(data["config_path"]) if data.get("config_path") else None
    return MonitorOptions(**data)


def session_command() -> str:
    """The shell command ``textual-serve`` runs for each browser session (quoted)."""
    return shlex.join([sys.executable, "-m", "threatlens.serve.browser"])


class BrowserSessions:
    """The ``/``, ``/ws`` and ``/static`` routes, over ``textual-serve``'s websocket bridge."""

    def __init__(self, command: str, max_sessions: int) -> None:
        from textual_serve.server import Server

        self.server = Server(command, title="ThreatLens")
        self.static = Path(self.server.statics_path)
        self.max_sessions = max_sessions
        self.sessions = 0

    def add_routes(self, app: Any) -> None:
        """Register the page, its assets and the session websocket."""
        app.router.add_get("/", self.index)
        app.router.add_get("/ws", self.websocket)
        app.router.add_static("/static/", self.static, show_index=False, follow_symlinks=False)

    async def websocket(self, request: Any) -> Any:
        """One browser session (a monitor process of its own), at most ``max_sessions`` at a time."""
        if self.sessions >= self.max_sessions:
            from threatlens.serve.security import json_error

            return json_error(503, f"{self.max_sessions} browser sessions are open already (--max-sessions): "
                              "close one and reload")
        self.sessions += 1
        try:
            return await self.server.handle_websocket(request)
        finally:
            self.sessions -= 1

    async def index(self, request: Any) -> Any:
        """The page: the terminal widget and the address of its websocket."""
        from aiohttp import web

        from threatlens.serve.security import CSP

        try:
            font_size = max(6, min(40, int(request.query.get("fontsize", "16"))))
        except ValueError:
            font_size = 16
        # Behind a TLS reverse proxy the page is https and its websocket must be wss (the header only
        # chooses the scheme of the address this same client is told to connect to).
        secure = request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
        scheme = "wss" if secure else "ws"
        page = PAGE.format(static="/static/", websocket=html.escape(f"{scheme}://{request.host}/ws", quote=True),
                           font_size=font_size)
        return web.Response(text=page, content_type="text/html",
                            headers={"Content-Security-Policy": CSP, "X-Frame-Options": "DENY"})


def main() -> int:
    """Run one browser session's monitor (``textual-serve`` sets the web driver in the environment)."""
    text = os.environ.get(OPTIONS_ENV)
    if not text:
        print("threatlens.serve.browser runs the monitor of one browser session: threatlens serve starts it",
              file=sys.stderr)
        return 2
    options = read_options(text)
    os.chdir(options.export_dir)  # a relative export name lands in the export directory
    from threatlens.tui.app import make_app

    no_model: dict[str, Any] = {} if options.detect else {"detection": None}
    make_app(options.paths, options=options, **no_model).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
