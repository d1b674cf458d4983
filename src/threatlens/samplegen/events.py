"""The generator's intermediate types: one request and one timed event."""

from __future__ import annotations

from typing import NamedTuple


class Request(NamedTuple):
    """One HTTP exchange as a server would log it; ``target`` is the path and query as sent."""

    method: str
    target: str
    status: int
    size: int
    referer: str | None
    user_agent: str | None
    protocol: str = "HTTP/1.1"
    host: str = "shop.example.com"
    port: int = 443
    client_port: int = 50000
    duration: float = 0.01


class Event(NamedTuple):
    """A request at ``t`` seconds after the start, from ``ip`` whose ground-truth role is ``role``.

    ``category`` is the attack category of this very request (a ``CATEGORIES`` word) or ``None``
    for a benign-looking one (attackers also fetch ordinary pages).
    """

    t: float
    ip: str
    role: str
    category: str | None
    request: Request
