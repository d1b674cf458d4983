"""Start ``threatlens serve`` as a real process on an ephemeral loopback port; a small aiohttp client."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp


@dataclass
class Served:
    """A running server: its base URL (ending in ``/``), token and captured stderr."""

    proc: subprocess.Popen[str]
    url: str
    token: str | None
    stderr: list[str] = field(default_factory=list)

    @property
    def auth(self) -> dict[str, str]:
        """The Authorization header."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def stop(self) -> int:
        """SIGTERM, wait; return the exit status."""
        self.proc.terminate()
        try:
            status = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            status = self.proc.wait()
        time.sleep(0.1)  # the reader thread sees the end of stderr
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        return status


def serve_env(config_home: Path) -> dict[str, str]:
    """The environment for a server or scan process: its own empty config directory, no GeoIP override."""
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = str(config_home)
    env.pop("THREATLENS_GEOIP_DB", None)
    return env


def start_server(args: list[str], env: dict[str, str], token: str | None = None, timeout: float = 120) -> Served:
    """Run ``threatlens serve --listen 127.0.0.1:0 ARGS`` and wait for its address."""
    proc = subprocess.Popen([sys.executable, "-m", "threatlens", "serve", "--listen", "127.0.0.1:0", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    served = Served(proc, "", token)
    found = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            served.stderr.append(line)
            if "listening on " in line and not served.url:
                served.url = line.split("listening on ", 1)[1].strip()
                found.set()
        found.set()

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(timeout) or not served.url:
        served.stop()
        raise RuntimeError("threatlens serve did not start:\n" + "".join(served.stderr))
    return served


@dataclass
class Reply:
    """An HTTP answer."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON."""
        import json

        return json.loads(self.body)


async def request(method: str, url: str, **kw: Any) -> Reply:
    """One HTTP request with aiohttp's client (no redirects followed)."""
    if isinstance(kw.get("data"), bytes):
        kw["data"] = io.BytesIO(kw["data"])  # aiohttp warns about large raw bodies
    async with aiohttp.ClientSession() as session, session.request(method, url, allow_redirects=False,
                                                                    **kw) as resp:
        body = await resp.read()
        return Reply(resp.status, dict(resp.headers), body)


def call(method: str, url: str, **kw: Any) -> Reply:
    """``request`` from synchronous code."""
    return asyncio.run(request(method, url, **kw))


def wait_until(check: Any, timeout: float, interval: float = 0.1) -> Any:
    """Call ``check()`` until it returns something true (returned) or ``timeout`` passes (``None``)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(interval)
    return None
