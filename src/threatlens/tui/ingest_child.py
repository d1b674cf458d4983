"""The ingestion process of the monitor: follow, parse, score and count, away from the UI's GIL.

:func:`run_ingestion` is the child's entry point (``multiprocessing`` spawn; no Textual here). It
owns the ``Follower``, the ``Pipeline`` and the ``LiveStats``, and talks to the UI
(:class:`threatlens.tui.remote.RemoteLive`) over one pipe:

* it pushes a ``DashboardData`` snapshot at most ``refresh_hz`` times a second while lines arrive
  (its alerts feed as what changed since the previous snapshot, :mod:`threatlens.tui.feed_sync`)
  (every ``IDLE_PUSH`` seconds when idle, every ``DECAY_PUSH`` while the last 10 s still held lines, so
  "now" falls to 0 within seconds of the log going quiet), and at once after a command that changes
  what the dashboard shows;
* it answers requests (one IP's screen, campaign members, the block list, an export) by id;
* it forwards notes, progress (after each snapshot, read before its counts), model readiness and the end of
  the input as events.

It ends when the UI says ``stop``, when the pipe closes (the UI is gone, however it ended), or,
on Linux, when the parent dies (``PR_SET_PDEATHSIG``): no orphan keeps a core busy.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from threatlens.tui.feed_sync import FeedEncoder
from threatlens.tui.options import MonitorOptions

if TYPE_CHECKING:
    from threatlens.tui.ingest import Ingestor

__all__ = ["DECAY_PUSH", "HOLD_BACKLOG", "IDLE_PUSH", "NICE", "IngestSpec", "run_ingestion"]

#: Seconds between snapshots while nothing changes.
IDLE_PUSH = 5.0
#: Seconds between snapshots while nothing arrives but the rates of the last 10 s are still falling.
DECAY_PUSH = 1.0
#: Niceness added to the ingestion process (the UI process keeps its own).
NICE = 5
#: A key's hold is not granted while more lines than this wait to be ingested: ingestion is behind (a flood, the
#: existing content) and holding it would only make it more so.
HOLD_BACKLOG = 5_000
#: ``detection`` / ``geo`` value: load the shipped model / open the configured GeoIP database in the child.
LOAD = "load"


@dataclass
class IngestSpec:
    """What the child needs to start (everything picklable: spawn sends it over)."""

    options: MonitorOptions
    allow_entries: list[str]
    detection: Any = LOAD  #: ``LOAD``, ``None`` (no scoring) or a picklable ``Detection``-like object
    geo: Any = LOAD  #: ``LOAD``, ``None`` or a picklable ``GeoLookup``-like object
    clock: Callable[[], float] = time.time
    follower_options: dict[str, Any] = field(default_factory=dict)
    stdin: Any = None  #: a ``multiprocessing.reduction.DupFd`` of the piped log for ``-``
    #: tests: each snapshot also carries its whole feed, which the UI compares with the feed it rebuilt
    verify_feed: bool = False


class _Child:
    """The state of the ingestion process and its command handlers."""

    def __init__(self, conn: Connection, spec: IngestSpec) -> None:
        self.conn = conn
        self.spec = spec
        self.opts = spec.options
        self.send_lock = threading.Lock()
        from threatlens.tui.ingest import build_live

        geo = spec.geo
        if geo == LOAD:
            from threatlens.stats.geo import GeoLookup

            geo = GeoLookup.open(self.opts.geoip_db, on_warning=lambda msg: self.send("note", msg, "warning"))
        self.live, self.pipeline = build_live(self.opts, geo, spec.clock)
        self.pipeline.on_message = lambda text: self.send("note", text, "information")
        self.allowlist = _allowlist(spec)
        self.live.set_allowlist(self.allowlist)
        self.ready = threading.Event()
        self.stopping = threading.Event()
        self.view: tuple[int, int | None, str] = (30, None, "requests")
        self.push_now = True
        self.decaying = False  #: the last snapshot's rates were not all 0 yet
        self.handled = 0  #: commands applied so far: the UI knows a snapshot shows all it asked for
        self.ingestor: Ingestor | None = None
        self.progress = ""  # the --from-start progress last sent (with a snapshot, never ahead of its counts)
        self.ingest_ended = False
        self.feed = FeedEncoder()
        #: Closed while this thread answers the UI or builds a snapshot: the ingest thread waits at its next
        #: chunk instead of sharing the GIL (its lines wait in the follower's queue meanwhile).
        self.gate = threading.Event()
        self.gate.set()
        #: Until then (monotonic) the gate stays closed: the UI handles a key and wants the cores (``hold``).
        self.hold_until = 0.0

    def send(self, *message: Any) -> None:
        """One message to the UI (from any thread); a closed pipe means the UI is gone: stop."""
        try:
            with self.send_lock:
                self.conn.send(message)
        except (OSError, ValueError):
            self.stopping.set()

    # -- threads -------------------------------------------------------------------------------

    def load_model(self) -> None:
        from threatlens.tui.ingest import attach_detection, load_detection, model_name

        det = self.spec.detection
        refused = error = None
        if det == LOAD:
            det, refused, error = load_detection(self.opts)
        if det is None:
            self.ready.set()
            self.send("ready", "failed: no detection" if error else "none", None, error)
            return
        threshold = attach_detection(self.live, self.pipeline, det, self.opts, self.allowlist)
        gc.freeze()  # the model's objects live as long as we do: no collection needs to scan them again
        self.ready.set()
        self.push_now = True
        self.send("ready", model_name(det, refused), threshold, refused)

    def ingest(self) -> None:
        from threatlens.tui.ingest import Ingestor

        follower_options = dict(self.spec.follower_options)
        if self.spec.stdin is not None:
            follower_options["streams"] = {"-": os.fdopen(self.spec.stdin.detach(), "rb", buffering=0)}
        self.ingestor = Ingestor(
            self.opts, self.pipeline, self.live,
            on_note=lambda text, severity: self.send("note", text, severity),
            on_progress=lambda lines, pending, progress: None,  # sent with the snapshots (push_snapshot)
            follower_options=follower_options, ready=self.ready, gate=self.gate,
        )
        error = None
        try:
            self.ingestor.run(self.stopping.is_set)
        except Exception as exc:
            error = f"reading stopped: {exc!r}"
        self.ingest_ended = True  # "stopped" is the last word on progress
        self.push_now = True
        self.send("stopped", error)

    # -- the command loop (main thread) --------------------------------------------------------

    def serve(self) -> None:
        hz = max(0.5, min(4.0, self.opts.refresh_hz))
        period = 1.0 / hz
        last_check = last_push = 0.0
        last_generation = -1
        while not self.stopping.is_set():
            now = time.monotonic()
            wait = max(0.0, last_check + period - now)
            if self.hold_until:
                if now < self.hold_until:
                    wait = min(wait, self.hold_until - now)
                else:
                    self.release()
            try:
                if self.conn.poll(wait):
                    self.handle(self.conn.recv())
                    continue  # answer every queued command before the next snapshot
            except (EOFError, OSError):
                return  # the UI is gone
            now = time.monotonic()
            if now - last_check < period or self.hold_until:
                continue  # (no snapshot while the UI handles a key: it would only compete with it)
            last_check = now
            generation = self.live.generation
            idle = DECAY_PUSH if self.decaying else IDLE_PUSH
            if self.push_now or generation != last_generation or now - last_push >= idle:
                self.push_now = False
                last_generation = generation
                self.push_snapshot()
                last_push = now

    def push_snapshot(self) -> None:
        """The dashboard to the UI, its alerts feed as the change since the last snapshot (``feed_sync``)."""
        self.gate.clear()
        try:
            self._push_snapshot()
        finally:
            self.open_gate()

    def open_gate(self) -> None:
        """Let the ingest thread go on, unless the UI holds it (``hold``)."""
        if not self.hold_until:
            self.gate.set()

    def hold(self, seconds: float) -> None:
        """Keep the ingest thread at its gate for up to ``seconds`` (0: let it go now).

        The UI asks while it handles a key: on two cores, ingestion at 10k lines/s takes most of one, and the
        key's work (drawing, the terminal's) waited for a core. The lines wait in the file meanwhile. Not while
        ingestion is behind (``HOLD_BACKLOG``): at 30k lines/s holds for a key every 0.5 s cost 1-3k lines/s.
        """
        if seconds <= 0:
            self.release()
            return
        follower = self.ingestor.follower if self.ingestor is not None else None
        if follower is not None and follower.pending > HOLD_BACKLOG:
            return
        self.hold_until = time.monotonic() + seconds
        self.gate.clear()

    def release(self) -> None:
        """End a hold (the next snapshot goes out at the next period)."""
        self.hold_until = 0.0
        self.gate.set()

    def _push_snapshot(self) -> None:
        top, feed, sort = self.view
        ingestor = self.ingestor
        # progress as of before the counts are read, sent after them: the header never shows it ahead of them
        running = ingestor is not None and not self.ingest_ended
        progress = ingestor.progress_text() if running else ""
        data = self.live.dashboard(top=top, feed=feed, sort=sort)
        self.decaying = data.rates_falling
        delta = self.feed.encode(data.feed)
        whole = data.feed if self.spec.verify_feed else None
        self.send("snapshot", replace(data, feed=[]), delta, whole, self.pipeline.format_names,
                  self.pipeline.held_lines, self.handled)
        if progress != self.progress and running:
            self.progress = progress
            self.send("progress", ingestor.lines_in, 0, progress)

    def handle(self, message: tuple[Any, ...]) -> None:
        """One message from the UI, the ingest thread held at its gate meanwhile."""
        self.gate.clear()
        try:
            self._handle(message)
        finally:
            self.open_gate()

    def _handle(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "stop":
            self.stopping.set()
        elif kind == "hold":
            self.hold(message[1])
        elif kind == "call":
            _kind, call_id, name, args = message
            try:
                value = getattr(self, f"call_{name}")(*args)
            except Exception as exc:
                self.send("reply", call_id, False, _picklable(exc))
            else:
                self.send("reply", call_id, True, value)
        elif kind == "view":
            self.view = message[1]
            self.handled += 1
            self.push_now = True
        else:
            getattr(self, f"do_{kind}")(*message[1:])
            self.handled += 1
            self.push_now = True
        if self.push_now:  # what the user just changed is on screen within one round trip
            self.push_now = False
            self._push_snapshot()

    # -- commands (no reply) ---------------------------------------------------------------------

    def do_threshold(self, value: float) -> None:
        value = self.live.set_threshold(value)
        det = self.pipeline.detection
        if det is not None:
            det.threshold = value

    def do_filter(self, text: str) -> None:
        from threatlens.stats.filter import RecordFilter

        self.live.set_filter(RecordFilter.parse(text) if text.strip() else None)

    def do_nuisance(self, hide: bool) -> None:
        self.live.set_hide_nuisance(hide)

    def do_allowlist(self, allowlist: Any) -> None:
        self.allowlist = allowlist
        self.live.set_allowlist(self.allowlist)
        det = self.pipeline.detection
        if det is not None:
            det.allowlist = self.allowlist

    # -- requests (one reply each) ----------------------------------------------------------------

    def call_ip_snapshot(self, ip: str) -> Any:
        return self.live.ip_snapshot(ip)

    def call_member_rows(self, ips: list[str]) -> Any:
        return self.live.member_rows(ips)

    def call_flagged_ips(self, min_severity: str) -> list[str]:
        return self.live.flagged_ips(min_severity)

    def call_export(self, request: Any, overwrite: bool) -> tuple[int, str]:
        from threatlens.tui.exporting import run_export

        return run_export(self.live, request, overwrite=overwrite)

    def call_totals(self) -> Any:
        return self.live.totals


def _allowlist(spec: IngestSpec) -> Any:
    """The allowlist the UI process read with the config (it came over with the options), else read here."""
    from threatlens.models.allowlist import Allowlist

    built = spec.options.parsed_allowlist
    if built is not None and built.entries == spec.allow_entries:
        return built  # unpickled by this process from its parent: its own, no copy needed
    return Allowlist.parse(spec.allow_entries)


def _picklable(exc: Exception) -> Exception:
    """The exception itself if it crosses the pipe, else a ``RuntimeError`` saying what it was.

    The round trip is of an object this process just made (never of bytes from a file or the network):
    an exception class whose constructor takes other arguments pickles but fails to load, and would
    fail in the UI's ``recv`` instead of here.
    """
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(repr(exc))
    return exc


def _die_with_parent() -> None:
    """Linux: the kernel sends SIGKILL when the parent ends (even by SIGKILL); elsewhere the pipe's end does it."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def run_ingestion(conn: Connection, spec: IngestSpec, parent: int) -> None:
    """The child's main: serve the UI until it stops us or goes away, then exit at once."""
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(0)
    # Ctrl+C and a terminal hang-up are the UI's to handle; it stops us (or its exit closes the pipe).
    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTSTP):
        with contextlib.suppress(OSError, ValueError):
            signal.signal(signum, signal.SIG_IGN)
    if _isatty(2):  # the terminal is the UI's: a stray warning or traceback must not draw over it
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)
    sys.setswitchinterval(0.001)  # answer the UI's requests between the ingest thread's steps
    # The screen goes first when both want a core: the UI's start-up, keys and redraws are what the user
    # waits for, ingestion catches up (its lines wait in the file). Linux shares a core between the
    # terminal sessions first (autogroup), so this does not lower our share against other programs there.
    with contextlib.suppress(OSError):
        os.nice(NICE)
    # Each batch makes thousands of short-lived objects: with the default thresholds the collector
    # ran ~4 times per 1000 lines and a full collection paused every thread for 0.1-0.5 s, requests
    # from the UI included. The scan's settings: fewer young collections, start-up objects never rescanned.
    from threatlens.collector import collect_less

    collect_less()
    child = _Child(conn, spec)
    threading.Thread(target=child.load_model, name="threatlens-model", daemon=True).start()
    ingest = threading.Thread(target=child.ingest, name="threatlens-ingest", daemon=True)
    ingest.start()
    try:
        child.serve()
    finally:
        child.stopping.set()
        if child.ingestor is not None:
            child.ingestor.stop()
        ingest.join(2.0)
        with contextlib.suppress(Exception):
            conn.close()
        # Tearing down the tables and the model takes seconds on a busy machine and nobody waits for it.
        os._exit(0)
