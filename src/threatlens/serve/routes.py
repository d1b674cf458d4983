"""The JSON API (``/api/v1/...``), ``/metrics`` and ``/healthz``: handlers over the engine's live state."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from aiohttp import web

from threatlens.errors import FormatError
from threatlens.serialize import alert_dict, request_dict
from threatlens.serve.alert_log import SEVERITIES
from threatlens.serve.engine import Engine
from threatlens.serve.metrics import exposition
from threatlens.serve.scoring import ScoreService
from threatlens.serve.security import json_error

#: Scoring requests waiting beyond this many are refused with 503 (the model runs one at a time).
MAX_WAITING = 4
NDJSON = "application/x-ndjson"


@dataclass
class Limits:
    """Request limits: body bytes and line bytes of ``POST /api/v1/score``."""

    max_body: int
    max_line: int


class Api:
    """Route handlers; ``add_routes`` registers them on an application."""

    def __init__(self, engine: Engine, scorer: ScoreService, registry: Any, limits: Limits, epoch: str) -> None:
        self.engine = engine
        self.scorer = scorer
        self.registry = registry
        self.limits = limits
        self.epoch = epoch
        self._slots = asyncio.Semaphore(MAX_WAITING + 1)
        self._executor: Any = None

    def add_routes(self, app: web.Application) -> None:
        """Register every route of the API."""
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        app.router.add_post("/api/v1/score", self.score)
        app.router.add_get("/api/v1/summary", self.summary)
        app.router.add_get("/api/v1/alerts", self.alerts)
        app.router.add_get("/api/v1/ips/{ip}", self.ip)
        app.on_cleanup.append(self._close)

    async def _close(self, _app: web.Application) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    # -- health and metrics ----------------------------------------------------------------------

    async def healthz(self, request: web.Request) -> web.Response:
        """``{"status": "ok"}``, or 503 once reading the logs stopped."""
        engine = self.engine
        if engine.running:
            return _json({"status": "ok"})
        return _json({"status": "stopped", "error": engine.error or "reading stopped"}, status=503)

    async def metrics(self, request: web.Request) -> web.Response:
        """Prometheus text exposition."""
        body = await asyncio.to_thread(exposition, self.registry)
        return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    # -- scoring ----------------------------------------------------------------------------------

    async def score(self, request: web.Request) -> web.StreamResponse:
        """Score the posted lines; answer ``scan --output jsonl`` lines."""
        ctype = request.content_type
        if ctype not in ("text/plain", "application/json"):
            return json_error(415, "send Content-Type: text/plain (access-log lines) "
                              "or application/json (an array of lines)")
        context = request.query.get("context", "fresh")
        if context not in ("fresh", "live"):
            return json_error(400, "context must be fresh or live")
        fmt = request.query.get("format") or None
        only_flagged = _flag(request.query.get("only_flagged"))
        if only_flagged is None:
            return json_error(400, "only_flagged must be true or false")
        body = await _read_body(request, self.limits.max_body)
        if isinstance(body, web.Response):
            return body
        if ctype == "application/json":
            body = _json_lines(body)
            if isinstance(body, web.Response):
                return body
        problem = _long_line(body, self.limits.max_line)
        if problem is not None:
            return problem
        if self._slots.locked():
            return json_error(503, "busy scoring other requests: retry shortly", **{"Retry-After": "1"})
        async with self._slots:
            loop = asyncio.get_running_loop()
            if self._executor is None:
                from concurrent.futures import ThreadPoolExecutor

                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="threatlens-score")
            work = partial(self.scorer.score, body, log_format=fmt, only_flagged=only_flagged,
                           live=context == "live")
            try:
                text = await loop.run_in_executor(self._executor, work)
            except FormatError as exc:
                return json_error(422, str(exc))
        return web.Response(text=text, content_type=NDJSON)

    # -- live views -------------------------------------------------------------------------------

    async def summary(self, request: web.Request) -> web.Response:
        """Totals, rates and the top tables, as the dashboard shows them."""
        top = _int_param(request, "top", 10, 1, 1000)
        if isinstance(top, web.Response):
            return top
        engine = self.engine
        data = await asyncio.to_thread(engine.live.dashboard, top, 0)
        return _json({
            "lines": data.lines, "parsed": data.parsed, "packets": data.packets, "unparsed": data.unparsed,
            "flagged": data.flagged,
            "alerts": data.alerts, "possibly_succeeded": data.possibly, "requests_per_second": data.rate_now,
            "threshold": data.threshold, "model": engine.model_name(), "files": engine.options.paths,
            "log_formats": engine.pipeline.format_names, "following": engine.running,
            "newest_alert_id": engine.alerts.newest_id, "epoch": self.epoch,
            "status_classes": dict(data.status),
            "top_ips": [r.cells._asdict() for r in data.top_ips],
            "top_countries": [r.cells._asdict() for r in data.top_countries],
            "top_ports": [r.cells._asdict() for r in data.top_ports],
            "firewall_ports": [r.cells._asdict() for r in data.firewall_ports],
        })

    async def alerts(self, request: web.Request) -> web.Response:
        """Alerts after ``since`` (an ID), oldest first; poll again with ``since=next_since``."""
        since = _int_param(request, "since", 0, 0, 1 << 62)
        limit = _int_param(request, "limit", 100, 1, 1000)
        for value in (since, limit):
            if isinstance(value, web.Response):
                return value
        severity = request.query.get("min_severity") or None
        if severity is not None and severity not in SEVERITIES:
            return json_error(400, f"min_severity must be one of {', '.join(reversed(SEVERITIES))}")
        page = self.engine.alerts.page(since, min_severity=severity, limit=limit)  # type: ignore[arg-type]
        return _json({
            "epoch": self.epoch,
            "alerts": [{"id": e.id, **alert_dict(e.alert, e.country)} for e in page.entries],
            "next_since": page.next_since, "newest_id": page.newest_id, "oldest_id": page.oldest_id,
            "missed": page.missed,
        })

    async def ip(self, request: web.Request) -> web.Response:
        """What the IP screen shows about one client; its retained requests newest first, paginated."""
        ip = request.match_info["ip"]
        offset = _int_param(request, "offset", 0, 0, 1 << 30)
        limit = _int_param(request, "limit", 100, 1, 1000)
        for value in (offset, limit):
            if isinstance(value, web.Response):
                return value
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            return json_error(400, "not an IP address")
        snap = await asyncio.to_thread(self.engine.live.ip_snapshot, ip)
        fw = snap.firewall
        if not snap.requests and not snap.alerts and (fw is None or not fw.packets):
            return json_error(404, "nothing logged from this client")
        page = snap.rows[offset:offset + limit]  # type: ignore[misc]
        return _json({
            "ip": snap.ip, "country": snap.country, "requests": snap.requests, "approximate": snap.approximate,
            "flagged": snap.flagged, "max_score": snap.max_score, "first_seen": snap.first_seen,
            "last_seen": snap.last_seen, "requests_per_minute": snap.per_minute, "status": dict(snap.status),
            "distinct_paths": snap.distinct_paths,
            "user_agents": [{"user_agent": ua, "requests": n} for ua, n in snap.user_agents],
            "allowlisted": snap.allowlisted, "threshold": snap.threshold,
            "alerts": [alert_dict(a, snap.country) for a in snap.alerts],
            "retained": len(snap.rows), "retained_dropped": snap.retained_dropped,
            "offset": offset, "limit": limit,
            "recent_requests": [request_dict(r.record, r.verdict, snap.country) for r in page],
            "firewall": None if fw is None else {
                "packets": fw.packets, "blocked": fw.blocked, "allowed": fw.allowed, "first_seen": fw.first_seen,
                "last_seen": fw.last_seen, "distinct_ports": fw.distinct_ports,
                "ports": [{"port": port, "service": service, "packets": n} for port, service, n in fw.ports],
                "packets_per_minute": fw.per_minute},
        })


# -- helpers --------------------------------------------------------------------------------------


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data, default=_default), status=status, content_type="application/json")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def _flag(value: str | None) -> bool | None:
    if value is None or value.lower() in ("0", "false", "no", ""):
        return False
    if value.lower() in ("1", "true", "yes"):
        return True
    return None


def _int_param(request: web.Request, name: str, default: int, lo: int, hi: int) -> int | web.Response:
    text = request.query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        return json_error(400, f"{name} must be a whole number")
    if not lo <= value <= hi:
        return json_error(400, f"{name} must be between {lo} and {hi}")
    return value


async def _read_body(request: web.Request, limit: int) -> bytes | web.Response:
    too_big = json_error(413, f"request body larger than {limit} bytes (--max-body): send fewer lines per request")
    if request.content_length is not None and request.content_length > limit:
        return too_big
    data = bytearray()
    async for chunk in request.content.iter_chunked(1 << 16):
        data += chunk
        if len(data) > limit:
            return too_big
    return bytes(data)


def _json_lines(body: bytes) -> bytes | web.Response:
    """A JSON array of strings as newline-separated UTF-8 lines."""
    try:
        lines = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return json_error(400, f"body is not valid JSON: {exc}")
    if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
        return json_error(400, "a JSON body must be an array of strings (one access-log line each)")
    for i, line in enumerate(lines, 1):
        if "\n" in line:
            return json_error(400, f"line {i} contains a newline: send one log line per array element")
    try:
        return "\n".join(lines).encode("utf-8")
    except UnicodeEncodeError:
        return json_error(400, "a line holds an unpaired surrogate escape, which is not text")


def _long_line(body: bytes, limit: int) -> web.Response | None:
    if len(body) <= limit:
        return None
    for number, line in enumerate(body.split(b"\n"), 1):
        if len(line.rstrip(b"\r")) > limit:
            return json_error(413, f"line {number} is {len(line)} bytes, longer than {limit} (--max-line)")
    return None
