"""Drive Debian's headless ``chromium`` over the DevTools protocol (aiohttp's websocket client).

The page's terminal is drawn on a canvas, so what the browser shows is checked in the bytes the page
received on its session websocket (``Network.webSocketFrameReceived``: the terminal output xterm.js
draws, escape sequences removed) plus a screenshot kept as an artifact.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-port=0", "--window-size=1400,900",
]
_ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def chromium_path() -> str | None:
    """The browser binary, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def terminal_text(data: bytes) -> str:
    """Terminal output with its escape sequences removed."""
    return _ANSI.sub(b"", data).decode("utf-8", "replace")


class Page:
    """One tab: navigate, collect websocket frames and console/CSP messages, take screenshots."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._id = 0
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self.frames = bytearray()
        self.messages: list[str] = []
        self.session: str | None = None
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            if "id" in data and data["id"] in self._waiting:
                fut = self._waiting.pop(data["id"])
                if "error" in data:
                    fut.set_exception(RuntimeError(str(data["error"])))
                else:
                    fut.set_result(data.get("result", {}))
                continue
            method = data.get("method")
            params = data.get("params", {})
            if method == "Network.webSocketFrameReceived":
                resp = params["response"]
                payload = resp["payloadData"]
                self.frames += base64.b64decode(payload) if resp.get("opcode") == 2 else payload.encode()
            elif method == "Log.entryAdded":
                self.messages.append(params["entry"].get("text", ""))
            elif method == "Runtime.consoleAPICalled":
                self.messages.append(" ".join(str(a.get("value", "")) for a in params.get("args", [])))

    async def send(self, method: str, **params: Any) -> Any:
        """Call a DevTools method in the tab's session and wait for its result."""
        self._id += 1
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[self._id] = fut
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if self.session is not None:
            msg["sessionId"] = self.session
        await self.ws.send_str(json.dumps(msg))
        return await asyncio.wait_for(fut, 30)

    def text(self) -> str:
        """Everything the page's terminal received so far, as plain text."""
        return terminal_text(bytes(self.frames))

    async def wait_for_text(self, needle: str, timeout: float) -> bool:
        """Wait until the terminal output contains ``needle``."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while loop.time() < end:
            if needle in self.text():
                return True
            await asyncio.sleep(0.2)
        return False

    async def screenshot(self, path: Path) -> int:
        """Save a PNG of the page; return its size in bytes."""
        shot = await self.send("Page.captureScreenshot", format="png")
        data = base64.b64decode(shot["data"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return len(data)


@contextlib.asynccontextmanager
async def open_page(url: str) -> AsyncIterator[Page]:
    """Start chromium with a fresh profile, open ``url`` in a tab, and close everything afterwards."""
    binary = chromium_path()
    assert binary is not None
    profile = tempfile.mkdtemp(prefix="threatlens-chromium-")
    proc = subprocess.Popen([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        endpoint = await asyncio.to_thread(_devtools_url, proc)
        async with aiohttp.ClientSession() as http, http.ws_connect(endpoint, max_msg_size=0) as ws:
            page = Page(ws)
            target = await page.send("Target.createTarget", url="about:blank")
            attached = await page.send("Target.attachToTarget", targetId=target["targetId"], flatten=True)
            page.session = attached["sessionId"]
            for domain in ("Network", "Page", "Log", "Runtime"):
                await page.send(f"{domain}.enable")
            await page.send("Page.navigate", url=url)
            try:
                yield page
            finally:
                page._reader.cancel()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
        shutil.rmtree(profile, ignore_errors=True)


def _devtools_url(proc: subprocess.Popen[bytes]) -> str:
    """Read chromium's stderr until it prints its DevTools websocket address."""
    assert proc.stderr is not None
    for raw in proc.stderr:
        line = raw.decode("utf-8", "replace")
        if "DevTools listening on " in line:
            threading_drain(proc)
            return line.split("DevTools listening on ", 1)[1].strip()
    raise RuntimeError(f"chromium exited ({proc.wait()}) before opening DevTools")


def threading_drain(proc: subprocess.Popen[bytes]) -> None:
    """Keep reading chromium's stderr so the pipe never fills."""
    import threading

    def drain() -> None:
        assert proc.stderr is not None
        for _ in proc.stderr:
            pass

    threading.Thread(target=drain, daemon=True).start()
