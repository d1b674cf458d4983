"""``RemoteLive``: the UI's handle on the ingestion process (:mod:`threatlens.tui.ingest_child`).

It answers the calls the app makes of :class:`~threatlens.tui.live.LiveStats` without holding
the data: :meth:`dashboard` returns the newest snapshot the child pushed (never waits), setters
send a command and keep a local copy of the value, and drill-down calls (:meth:`ip_snapshot`,
:meth:`member_rows`, :meth:`flagged_ips`, :meth:`run_export`) are requests answered by the child.
A reader thread receives snapshots and events and hands them to ``on_event``; the child's GIL is
its own, so following 30k lines/s does not delay a key. A snapshot's alerts feed comes as the change
since the previous one (:mod:`threatlens.tui.feed_sync`); the full list is rebuilt here.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import Any

from threatlens.errors import ThreatLensError
from threatlens.tui.feed_sync import apply_feed
from threatlens.tui.ingest_child import LOAD, IngestSpec, run_ingestion
from threatlens.tui.live import MIN_THRESHOLD, DashboardData, IpSnapshot, MemberCells, TableRow, empty_dashboard
from threatlens.tui.options import MonitorOptions

__all__ = ["IngestGone", "RemoteLive", "ingest_spec"]

#: Seconds a drill-down request may take before the UI gives up on it.
CALL_TIMEOUT = 15.0
OnEvent = Callable[[str, tuple[Any, ...]], None]


class IngestGone(ThreatLensError):
    """The ingestion process ended or does not answer."""


def ingest_spec(opts: MonitorOptions, *, detection: Any = LOAD, geo: Any = LOAD, clock: Callable[[], float] = time.time,
                follower_options: dict[str, Any] | None = None) -> IngestSpec:
    """What the child starts from: ``detection`` and ``geo`` are ``LOAD`` (the child loads them), ``None`` or objects.

    ``follower_options`` may hold one stream, standard input (``{"streams": {"-": file}}``): its descriptor goes over.
    """
    from multiprocessing.reduction import DupFd

    follower = dict(follower_options or {})
    streams = dict(follower.pop("streams", None) or {})
    stdin = streams.pop("-", None)
    if streams:
        raise TypeError("ingest='process' reads only standard input as a stream")
    return IngestSpec(options=opts, allow_entries=list(opts.allowlist), detection=detection, geo=geo, clock=clock,
                      follower_options=follower, stdin=DupFd(stdin.fileno()) if stdin is not None else None)


class RemoteLive:
    """Starts the ingestion process (:meth:`start`) and mirrors what the screens need of it.

    It may start before the UI exists (``threatlens-tui`` spawns the child before it imports Textual): events
    that arrive before :meth:`attach` are kept and handed over then.
    """

    #: The child's entry point (``bench/child.py`` runs it wrapped in probes).
    entry: Callable[[Connection, IngestSpec, int], None] = staticmethod(run_ingestion)

    def __init__(self, spec: IngestSpec, on_event: OnEvent | None = None) -> None:
        self.spec = spec
        self._on_event = on_event
        self._early: list[tuple[str, tuple[Any, ...]]] = []  # events before attach()
        self._event_lock = threading.Lock()
        opts = spec.options
        self.threshold = opts.threshold if opts.threshold is not None else 0.5
        self.hide_nuisance = False
        self.filter: Any = None
        #: Snapshots received so far (the app redraws when it changes).
        self.generation = 0
        self.latest: tuple[DashboardData, list[str], int, int] = (empty_dashboard(self.threshold), [], 0, 0)
        self._feed: list[Any] = []  # the alerts feed of the newest snapshot, rebuilt from the changes sent
        #: with ``spec.verify_feed``: per snapshot, whether the rebuilt feed equals the one the child built
        self.feed_checks: list[bool] = []
        self._sent = 0  # commands sent; the child counts those it applied in each snapshot
        self.process: Any = None
        self._conn: Connection | None = None
        self._view: tuple[int, int | None, str] | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, list[Any]] = {}
        self._callbacks: dict[int, tuple[str, Callable[[Any], None]]] = {}
        self._send_lock = threading.Lock()
        self._stopping = False

    # -- the process -----------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        """Whether :meth:`start` ran."""
        return self.process is not None

    def attach(self, on_event: OnEvent) -> None:
        """Hand events to ``on_event`` from now on, after those that came before (on this thread)."""
        with self._event_lock:  # held while replaying: a newer event waits behind the older ones
            early, self._early = self._early, []
            for kind, args in early:
                on_event(kind, args)
            self._on_event = on_event

    def on_event(self, kind: str, args: tuple[Any, ...]) -> None:
        """Pass one event on (kept until :meth:`attach` when nobody listens yet)."""
        with self._event_lock:
            handler = self._on_event
            if handler is None:
                self._early.append((kind, args))
                return
        handler(kind, args)

    def start(self) -> None:
        """Spawn the child (a fresh interpreter: no copied threads or locks) and the reader thread."""
        ctx = multiprocessing.get_context("spawn")
        conn, child_conn = ctx.Pipe()
        self.process = ctx.Process(target=self.entry, args=(child_conn, self.spec, os.getpid()),
                                   name="threatlens-ingest", daemon=True)
        # multiprocessing's resource tracker inherits sys.stderr's descriptor, which Textual has
        # replaced by a capture without one: give it /dev/null (nothing it says belongs on the screen).
        stderr = sys.stderr
        with open(os.devnull, "w") as devnull:
            sys.stderr = devnull
            try:
                self.process.start()
            finally:
                sys.stderr = stderr
        child_conn.close()
        self._conn = conn
        threading.Thread(target=self._read, name="threatlens-ingest-reader", daemon=True).start()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the child to end; kill it if it has not within ``timeout`` (idempotent)."""
        self._stopping = True
        proc = self.process
        if proc is None or proc.pid is None:  # never started
            return
        self._send("stop")
        proc.join(timeout)
        if proc.is_alive():
            proc.kill()
            proc.join(1.0)
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()

    @property
    def pid(self) -> int | None:
        """The child's process id (``None`` before :meth:`start`)."""
        return self.process.pid if self.process is not None else None

    @property
    def caught_up(self) -> bool:
        """Whether the newest snapshot reflects every command sent (sort, filter, threshold...)."""
        return self.latest[3] >= self._sent

    def _command(self, *message: Any) -> None:
        """A change of state: counted when sent (before :meth:`start` the spec carries the state)."""
        if self._send(*message):
            self._sent += 1

    def _send(self, *message: Any) -> bool:
        conn = self._conn
        if conn is None:
            return False
        try:
            with self._send_lock:
                conn.send(message)
        except (OSError, ValueError):
            return False
        return True

    def _read(self) -> None:
        conn = self._conn
        assert conn is not None
        error = None
        try:
            while True:
                message = conn.recv()
                kind = message[0]
                if kind == "snapshot":
                    data, delta, whole, names, held, handled = message[1:]
                    self._feed = apply_feed(self._feed, delta)
                    if whole is not None:
                        self.feed_checks.append(self._feed == whole)
                    self.latest = (replace(data, feed=self._feed), names, held, handled)
                    self.generation += 1
                    self.on_event("snapshot", ())
                elif kind == "reply":
                    asked = self._callbacks.pop(message[1], None)
                    if asked is not None and message[2]:
                        asked[1](message[3])
                    slot = self._pending.get(message[1])
                    if slot is not None:
                        slot[1:] = message[2:]
                        slot[0].set()
                else:
                    if kind == "ready" and message[2] is not None:
                        self.threshold = message[2]
                    self.on_event(kind, message[1:])
        except TypeError:  # stop() closed the connection in the middle of a message (its handle is None now)
            if not self._stopping:
                raise
        except (EOFError, OSError) as exc:
            if not self._stopping:
                error = f"the ingestion process ended ({exc!r})" if not isinstance(exc, EOFError) else \
                    "the ingestion process ended"
        for slot in list(self._pending.values()):
            slot[1:] = [False, IngestGone("the ingestion process ended")]
            slot[0].set()
        if error is not None:
            self.on_event("stopped", (error,))

    def call(self, name: str, *args: Any, timeout: float = CALL_TIMEOUT) -> Any:
        """Ask the child and wait for its answer (its exception is raised here)."""
        call_id = next(self._ids)
        slot: list[Any] = [threading.Event(), False, None]
        self._pending[call_id] = slot
        try:
            if not self._send("call", call_id, name, args):
                raise IngestGone("the ingestion process is not running")
            if not slot[0].wait(timeout):
                raise IngestGone(f"the ingestion process did not answer within {timeout:.0f} s")
        finally:
            self._pending.pop(call_id, None)
        ok, value = slot[1], slot[2]
        if not ok:
            raise value
        return value

    def call_soon(self, name: str, *args: Any, on_reply: Callable[[Any], None], slot: str | None = None) -> None:
        """Ask without waiting: ``on_reply(value)`` runs on the reader thread (a failed call is dropped).

        One call per ``slot`` (default: ``name``) at a time: while one is unanswered, asking again does nothing.
        """
        slot = slot or name
        if any(asked_slot == slot for asked_slot, _cb in self._callbacks.values()):
            return
        call_id = next(self._ids)
        self._callbacks[call_id] = (slot, on_reply)
        if not self._send("call", call_id, name, args):
            self._callbacks.pop(call_id, None)

    # -- what the app asks of LiveStats ------------------------------------------------------------

    def dashboard(self, top: int = 30, feed: int | None = None, sort: str = "requests") -> DashboardData:
        """The newest snapshot; a changed ``top``/``feed``/``sort`` is sent, and its snapshot follows."""
        view = (top, feed, sort)
        if view != self._view:
            self._view = view
            self._command("view", view)
        return self.latest[0]

    @property
    def format_names(self) -> list[str]:
        """The detected log formats (as of the newest snapshot)."""
        return self.latest[1]

    @property
    def held_lines(self) -> int:
        """Lines waiting for format detection (as of the newest snapshot)."""
        return self.latest[2]

    def hold(self, seconds: float) -> None:
        """Ask the child to pause ingestion for up to ``seconds`` (0: resume now); the UI handles a key meanwhile."""
        self._send("hold", seconds)

    def set_threshold(self, value: float) -> float:
        """Clamped and rounded as ``LiveStats.set_threshold`` does; the child re-counts."""
        value = round(min(0.99, max(MIN_THRESHOLD, value)), 2)
        self.threshold = value
        self._command("threshold", value)
        return value

    def set_filter(self, flt: Any) -> None:
        """Apply a ``RecordFilter`` (``None`` clears it) in the child."""
        self.filter = None if flt is None or flt.empty else flt
        self._command("filter", self.filter.text if self.filter is not None else "")  # its tests are closures

    def set_hide_nuisance(self, hide: bool) -> None:
        """Hide or show the nuisance tier."""
        self.hide_nuisance = hide
        self._command("nuisance", hide)

    def set_allowlist(self, allowlist: Any) -> None:
        """The allowlist to mark and to apply to detection."""
        self._command("allowlist", allowlist)

    def ip_snapshot(self, ip: str) -> IpSnapshot:
        """Everything retained about ``ip`` (a request to the child)."""
        return self.call("ip_snapshot", ip)  # type: ignore[no-any-return]

    def member_rows(self, ips: list[str]) -> list[TableRow[MemberCells]]:
        """Campaign members as counted in the child."""
        return self.call("member_rows", list(ips))  # type: ignore[no-any-return]

    def flagged_ips(self, min_severity: str = "attack") -> list[str]:
        """Block-list candidates at ``min_severity`` or above."""
        return self.call("flagged_ips", min_severity)  # type: ignore[no-any-return]

    def run_export(self, request: Any, overwrite: bool = False) -> tuple[int, str]:
        """Write an export in the child (the rows never cross the pipe); raises as ``run_export`` does."""
        return self.call("export", request, overwrite)  # type: ignore[no-any-return]

    @property
    def totals(self) -> Any:
        """Exact totals, asked of the child."""
        return self.call("totals")
