"""The server's guards: bearer token, Host and Origin checks, response headers, errors as JSON.

- With a token, every route but ``/healthz`` needs ``Authorization: Bearer TOKEN`` (compared in
  constant time). A browser opens ``/?token=TOKEN`` once: the token goes into an ``HttpOnly``,
  ``SameSite=Strict`` cookie and the address bar loses it.
- Bound to loopback, the server answers only requests addressed to a loopback name (``localhost``,
  ``127.x.x.x``, ``[::1]``), so a web page cannot reach it through DNS rebinding.
- The browser session's websocket must come from the page's own origin (no cross-site driving).
- Every response says ``nosniff``; ``/`` carries a Content-Security-Policy; errors are JSON.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

COOKIE = "threatlens_token"
OPEN_PATHS = frozenset({"/healthz"})
#: ``/`` and its assets: the page loads only its own scripts and styles and talks only to its own websocket.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def json_error(status: int, message: str, **headers: str) -> web.Response:
    """``{"error": message}`` with ``status``."""
    return web.Response(status=status, text=json.dumps({"error": message}), content_type="application/json",
                        headers=headers)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is this machine."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def same_origin(origin: str, host: str) -> bool:
    """Whether a browser's ``Origin`` names the host (and port) the request was sent to.

    The scheme is not compared: behind a TLS reverse proxy the page is ``https`` while this server sees ``http``.
    """
    scheme, sep, rest = origin.partition("://")
    return bool(sep) and scheme in ("http", "https") and rest.rstrip("/").lower() == host.lower()


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header[1:host_header.find("]")] if "]" in host_header else host_header
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def make_middlewares(token: str | None, loopback_only: bool) -> list[Callable[..., Awaitable[web.StreamResponse]]]:
    """The middlewares, outermost first."""
    secret = token.encode() if token else None

    def authorised(request: web.Request) -> bool:
        if secret is None:
            return True
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), secret):
            return True
        cookie = request.cookies.get(COOKIE)
        return cookie is not None and hmac.compare_digest(cookie.encode(), secret)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await _guarded(request, handler)
        except web.HTTPException as exc:  # aiohttp's own 404/405/413... as JSON
            if exc.status < 400:
                raise
            response = json_error(exc.status, exc.reason)
            for name in ("Allow", "WWW-Authenticate"):
                if name in exc.headers:
                    response.headers[name] = exc.headers[name]
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
        if loopback_only and not is_loopback(_host_name(request.host)):
            return json_error(421, "this server answers only requests addressed to localhost")
        if request.path in OPEN_PATHS:
            return await handler(request)
        if request.path == "/" and secret is not None and "token" in request.query:
            if not hmac.compare_digest(request.query["token"].encode(), secret):
                return json_error(401, "wrong token", **{"WWW-Authenticate": "Bearer"})
            response = web.Response(status=303, headers={"Location": "/"})
            response.set_cookie(COOKIE, token or "", httponly=True, samesite="Strict", path="/",
                                secure=request.secure)
            return response
        if not authorised(request):
            return json_error(401, "missing or wrong bearer token (Authorization: Bearer TOKEN)",
                              **{"WWW-Authenticate": "Bearer"})
        origin = request.headers.get("Origin")
        if request.path == "/ws" and origin is not None and not same_origin(origin, request.host):
            return json_error(403, "websocket from another origin refused")
        return await handler(request)

    return [guard]
