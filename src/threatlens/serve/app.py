"""Put the server together (engine, scoring, routes, browser sessions, guards) and run it until a signal."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import secrets
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from threatlens.errors import UsageError
from threatlens.serve.browser import OPTIONS_ENV, BrowserSessions, options_json, session_command
from threatlens.serve.engine import Engine
from threatlens.serve.metrics import make_registry
from threatlens.serve.routes import Api, Limits
from threatlens.serve.scoring import ScoreService
from threatlens.serve.security import is_loopback, make_middlewares
from threatlens.tui.options import MonitorOptions

DEFAULT_LISTEN = "127.0.0.1:8321"
DEFAULT_MAX_BODY = 16 << 20
DEFAULT_MAX_LINE = 64 << 10


@dataclass
class ServeOptions:
    """How to serve: address, token, limits, and whether ``/`` serves the monitor."""

    host: str = "127.0.0.1"
    port: int = 8321
    token: str | None = None
    max_body: int = DEFAULT_MAX_BODY
    max_line: int = DEFAULT_MAX_LINE
    browser: bool = True
    max_sessions: int = 4

    @property
    def loopback(self) -> bool:
        """Whether the server listens on this machine only."""
        return is_loopback(self.host)


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6; port 0 picks a free one) as (host, port)."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not host:
        raise UsageError(f"--listen {text!r}: give HOST:PORT, e.g. 127.0.0.1:8321 or [::1]:8321")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise UsageError(f"--listen {text!r}: write an IPv6 address in brackets, e.g. [::1]:8321")
    try:
        port = int(port_text)
    except ValueError:
        raise UsageError(f"--listen {text!r}: the port must be a number") from None
    if not 0 <= port <= 65535:
        raise UsageError(f"--listen {text!r}: the port must be between 0 and 65535")
    return host, port


def read_token(path: str) -> str:
    """The bearer token in ``path`` (surrounding whitespace dropped; at least 16 characters)."""
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read --token-file {path}: {exc}") from None
    if len(token) < 16 or any(c.isspace() or not c.isprintable() for c in token):
        raise UsageError(f"--token-file {path}: the token must be one word of at least 16 printable characters "
                         "(e.g. from: openssl rand -hex 32)")
    return token


def check(options: ServeOptions) -> None:
    """Refuse settings that would open a hole: a non-loopback address without a token."""
    if not options.loopback and options.token is None:
        raise UsageError(f"refusing to listen on {options.host} without --token-file: anyone who can reach it "
                         "would read the live state (use 127.0.0.1, or give a token)")
    if options.max_body < 1 or options.max_line < 1 or options.max_sessions < 1:
        raise UsageError("--max-body, --max-line and --max-sessions must be positive")


def load_detection(options: MonitorOptions) -> Any:
    """The model, baseline and allowlist of the monitor options (``None`` with ``--no-detect``)."""
    if not options.detect:
        return None
    from threatlens.models.detection import Detection

    return Detection.load(options.model, threshold=options.threshold, baseline=options.baseline,
                          allowlist=tuple(options.allowlist))


def build_app(engine: Engine, service: ScoreService, options: ServeOptions, command: str | None) -> web.Application:
    """The aiohttp application: guards, API, metrics, and (with ``command``) the browser sessions."""
    app = web.Application(middlewares=make_middlewares(options.token, options.loopback),
                          client_max_size=options.max_body)
    Api(engine, service, make_registry(engine), Limits(options.max_body, options.max_line),
        secrets.token_hex(8)).add_routes(app)
    if command is not None:
        BrowserSessions(command, options.max_sessions).add_routes(app)
    return app


async def serve(monitor: MonitorOptions, options: ServeOptions, *, on_note: Callable[[str, str], None],
                on_ready: Callable[[str], None], stop: asyncio.Event) -> None:
    """Follow the logs and answer HTTP until ``stop`` is set."""
    live_detection = await asyncio.to_thread(load_detection, monitor)
    # The scoring API's own copy (its caches and state are never shared with the live engine's thread);
    # copying takes milliseconds where loading the model file again takes seconds.
    score_detection = copy.deepcopy(live_detection)
    engine = Engine(monitor, on_note=on_note, detection=live_detection)
    geo = engine.geo
    service = ScoreService(monitor, score_detection, lambda ip: geo.country(ip) if ip else None,
                           live_context=engine.live_context)
    if options.browser:
        os.environ[OPTIONS_ENV] = options_json(monitor)  # inherited by each browser session's process
    app = build_app(engine, service, options, session_command() if options.browser else None)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    engine.start()
    try:
        site = web.TCPSite(runner, options.host, options.port, shutdown_timeout=2.0)
        try:
            await site.start()
        except OSError as exc:
            raise UsageError(f"cannot listen on {options.host}:{options.port}: {exc.strerror or exc}") from None
        host, port = runner.addresses[0][:2]
        shown = f"[{host}]" if ":" in host else host
        on_ready(f"http://{shown}:{port}/")
        await stop.wait()
    finally:
        await runner.cleanup()
        await asyncio.to_thread(engine.stop)


def run(monitor: MonitorOptions, options: ServeOptions) -> int:
    """Serve until SIGINT or SIGTERM; exit status 0."""
    from threatlens.textsafe import visible

    def note(text: str, level: str) -> None:
        print(f"threatlens serve: {level}: {visible(text)}", file=sys.stderr, flush=True)

    def ready(url: str) -> None:
        print(f"threatlens serve: listening on {url}", file=sys.stderr, flush=True)

    async def main() -> None:
        # The ingest thread is CPU-bound Python: a 1 ms GIL switch interval (as the monitor uses) lets the
        # event loop answer within about a millisecond instead of 5 ms per switch while the logs are busy.
        sys.setswitchinterval(0.001)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await serve(monitor, options, on_note=note, on_ready=ready, stop=stop)

    asyncio.run(main())
    return 0
