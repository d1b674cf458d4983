"""``ThreatLensApp``, the live monitor, and ``make_app``, its factory (tests build it with real files)."""

from __future__ import annotations

import contextlib
import math
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.worker import get_current_worker

from threatlens.errors import ThreatLensError
from threatlens.models.verdict import Alert
from threatlens.stats.filter import RecordFilter
from threatlens.textsafe import visible
from threatlens.tui.ingest import Ingestor, attach_detection, build_live, load_detection, model_name, startup_hint
from threatlens.tui.ip_ahead import IpAhead
from threatlens.tui.live import LiveStats
from threatlens.tui.messages import (
    DetectionReady,
    IngestNote,
    IngestProgress,
    IngestStopped,
    IpPrefetched,
    IpSnapshotArrived,
    SnapshotArrived,
)
from threatlens.tui.options import MonitorOptions
from threatlens.tui.screens.dashboard import DashboardScreen
from threatlens.tui.widgets.header_bar import HeaderInfo

if TYPE_CHECKING:
    from textual.driver import Driver

    from threatlens.pipeline import DetectionLike, Pipeline
    from threatlens.tui.idle_collector import IdleCollector
    from threatlens.tui.remote import RemoteLive
    from threatlens.tui.screens.ip_detail import IpDetailScreen

__all__ = ["ThreatLensApp", "make_app"]

#: ``t`` / ``T`` move the threshold by this much.
THRESHOLD_STEP = 0.05
#: Seconds between redraws while no line arrives (keeps idle CPU low).
IDLE_REDRAW = 5.0
#: Seconds between redraws while no line arrives but the last 10 s still held some ("now" is falling).
DECAY_REDRAW = 1.0
#: Timed redraws are never spaced more than this by slow drawing.
MAX_DRAW_GAP = 2.0
#: A key holds back snapshot redraws until its effect is drawn, but never for longer than this (keys held down).
MAX_KEY_HOLD = 0.5
_AUTO = object()


class ThreatLensApp(App[None]):
    """The live monitor: dashboard, IP drill-down, filter, pause, threshold, allowlist, exports.

    Ingestion runs on a worker thread over ``live`` and ``pipeline``, or, with ``remote``, in its
    own process (``live`` is then the :class:`~threatlens.tui.remote.RemoteLive` and ``pipeline``
    is ``None``): the UI thread then never waits on the ingest thread's GIL.
    """

    CSS_PATH = "threatlens.tcss"
    TITLE = "ThreatLens"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        options: MonitorOptions,
        *,
        live: LiveStats | RemoteLive,
        pipeline: Pipeline | None,
        detection: Any = _AUTO,
        geo_source: str = "",
        clock: Callable[[], float] = time.time,
        follower_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.options = options
        self.live: Any = live
        self.pipeline = pipeline
        self.remote: RemoteLive | None = None if isinstance(live, LiveStats) else live
        self.clock = clock
        self.follower_options = follower_options
        self._detection_arg = detection
        self.header_info = HeaderInfo(files=tuple(options.paths), log_format=options.log_format, geo=geo_source,
                                      model="loading…" if detection is _AUTO and options.detect else "none",
                                      hint=startup_hint(options))
        self.paused = False
        self.sort_ips = "requests"
        self.blocked: set[str] = set()
        self.allow_entries: list[str] = list(options.allowlist)
        self.allow_added: list[str] = []
        self.ingestor: Ingestor | None = None
        self.refreshes = 0
        self.refresh_log: list[tuple[float, int, bool]] = []
        self._last_generation = -1
        self._force_pending = False  # a forced redraw waits for the ingestion process's answer
        self._steps_token = 0  # the redraw under way (a newer one stops the steps left of an older one)
        self._key_hold = False  # a key was pressed and its effect is not drawn yet
        self._held_steps: tuple[Any, ...] | None = None  # the steps of a redraw left, held back for it
        self._forced_token = -1  # the redraw a key asked for (never held back)
        #: the selected row's IP snapshot, asked ahead of Enter (with ingestion in its own process)
        self.ahead = IpAhead(self.remote, lambda ip, snap: self.post_message(IpPrefetched(ip, snap))) \
            if self.remote is not None else None
        self._ip_screen: IpDetailScreen | None = None  # made on first use, see open_ip
        self._draw_gap = 0.0  # the least time between timed redraws (see _drawn)
        self._last_refresh = 0.0
        self._rates_falling = False  # the last redraw's "now" rates were not all 0 yet
        self.notes: list[str] = []
        #: called once, when the first redraw has reached the screen
        self.after_first_frame: Callable[[], None] | None = None
        self.collector: IdleCollector | None = None  # see collect_when_idle
        self.detection_ready = threading.Event()
        if (detection is not _AUTO or not options.detect) and self.remote is None:
            self.detection_ready.set()
        if self.remote is None:  # the ingestion process takes the allowlist the options carry (ingest_spec)
            self._apply_allowlist(options.parsed_allowlist)

    def notify(self, message: str, *, title: str = "", markup: bool = False, **kwargs: Any) -> None:
        """Every toast as literal text: file names, log content and errors come from outside."""
        super().notify(visible(message), title=visible(title), markup=False, **kwargs)

    # -- lifecycle -----------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        """Get default screen."""
        return DashboardScreen(id="dashboard")

    @property
    def dashboard(self) -> DashboardScreen:
        """The dashboard (the bottom screen)."""
        return self.screen_stack[0]  # type: ignore[return-value]

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver for this terminal; on Linux one that acts on Esc when it is due (``terminal_driver``)."""
        driver = super().get_driver_class()
        if driver.__name__ == "LinuxDriver" and driver.__module__ == "textual.drivers.linux_driver":
            from threatlens.tui.terminal_driver import PromptEscapeDriver

            return PromptEscapeDriver
        return driver

    def on_mount(self) -> None:
        self.set_interval(1 / max(0.5, min(4.0, self.options.refresh_hz)), self.refresh_dashboard)
        # A shorter GIL switch interval lets the other threads in within about 1 ms instead of 5: the UI thread
        # when a CPU-bound ingest thread runs here, the terminal's input thread while the UI thread draws a frame
        # (its key, an Esc's wait running out, waited up to 5 ms more per switch).
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(0.001)
        if self.remote is not None:
            if not self.remote.started:
                self.remote.start()
            self.remote.attach(self.call_from_thread_safe)
            self.refresh_dashboard(force=True)
            return
        if self._detection_arg is _AUTO:
            if self.options.detect:
                self.load_detection()
        elif self._detection_arg is not None:
            self._use_detection(self._detection_arg)
        self.ingest()
        self.refresh_dashboard(force=True)

    def call_from_thread_safe(self, kind: str, args: tuple[Any, ...]) -> None:
        """An event of the ingestion process (on its reader thread), as the message a worker would post."""
        if kind == "snapshot":
            self.post_message(SnapshotArrived())
        elif kind == "note":
            self.post_message(IngestNote(*args))
        elif kind == "progress":
            self.post_message(IngestProgress(*args))
        elif kind == "stopped":
            self.post_message(IngestStopped(*args))
        elif kind == "ready":
            name, threshold, error = args
            self.detection_ready.set()
            self.post_message(DetectionReady(name, threshold, error))

    def on_key(self, event: events.Key) -> None:
        """Hand the filter prompt the keys typed in the same instant as ``/`` (issue #11 item 2).

        They reach the app after the prompt opened but before its input took focus; they were lost.
        """
        from threatlens.tui.screens.filter_prompt import FilterPrompt

        screen = self.screen
        if isinstance(screen, FilterPrompt) and event.is_printable and event.character:
            event.stop()
            screen.type_ahead(event.character)

    def on_unmount(self) -> None:
        if self.ingestor is not None:
            self.ingestor.stop()
        if self.remote is not None:
            self.remote.stop()
        sys.setswitchinterval(getattr(self, "_switch_interval", 0.005))
        if self.collector is not None:
            self.collector.stop()

    # -- workers (threads post, the main thread paints) ----------------------------------------

    @work(thread=True, exclusive=True, group="ingest", exit_on_error=False)
    def ingest(self) -> None:
        """Follow the files and feed the pipeline (worker thread)."""
        worker = get_current_worker()
        self.ingestor = Ingestor(
            self.options, self.pipeline, self.live,
            on_note=lambda text, severity: self.post_message(IngestNote(text, severity)),
            on_progress=lambda lines, pending, progress: self.post_message(IngestProgress(lines, pending, progress)),
            follower_options=self.follower_options,
            ready=self.detection_ready,
        )
        error = None
        try:
            self.ingestor.run(lambda: worker.is_cancelled)
        except Exception as exc:
            error = f"reading stopped: {exc!r}"
        self.post_message(IngestStopped(error))

    @work(thread=True, exclusive=True, group="model", exit_on_error=False)
    def load_detection(self) -> None:
        """Load the model off the UI thread (the first frame does not wait for it)."""
        det, refused, error = load_detection(self.options)
        if det is None:
            self.detection_ready.set()
            self.post_message(DetectionReady("failed: no detection", error=error))
            return
        self.call_from_thread(self._use_detection, det, refused)

    def _use_detection(self, det: DetectionLike, refused: str | None = None) -> None:
        assert self.pipeline is not None
        threshold = attach_detection(self.live, self.pipeline, det, self.options, self.live.allowlist)
        self.detection_ready.set()
        self.post_message(DetectionReady(model_name(det, refused), threshold, error=refused))

    def on_snapshot_arrived(self, _message: SnapshotArrived) -> None:
        """A snapshot from the ingestion process: forced through (even paused) once it shows a change asked for."""
        force = self._force_pending and self.remote is not None and self.remote.caught_up
        if force:
            self._force_pending = False
        self.refresh_dashboard(force=force)

    def on_detection_ready(self, message: DetectionReady) -> None:
        self.header_info.model = message.name
        self.header_info.model_problem = message.error is not None
        if message.error:
            self.notify(message.error, severity="error", markup=False, timeout=20)
        self.refresh_dashboard(force=True)

    def on_ingest_note(self, message: IngestNote) -> None:
        self.notes.append(message.text)
        del self.notes[:-200]
        self.notify(message.text, severity=message.severity, markup=False,  # type: ignore[arg-type]
                    timeout=8 if message.severity == "error" else 4)

    def on_ingest_progress(self, message: IngestProgress) -> None:
        if message.progress != self.header_info.progress:
            self.header_info.progress = message.progress

    def on_ingest_stopped(self, message: IngestStopped) -> None:
        if message.error:
            self.notify(message.error, severity="error", markup=False, timeout=30)
        self.header_info.progress = "input ended" if not message.error else "reading stopped (error)"
        self.refresh_dashboard(force=True)

    # -- refresh -------------------------------------------------------------------------------

    def refresh_dashboard(self, force: bool = False, steps: bool = False) -> None:
        """Redraw the dashboard from a snapshot (skipped while paused or covered by another screen).

        ``force`` redraws now, paused or covered, all panels in one frame unless ``steps`` (a key whose effect is
        the first step's: unpausing).
        """
        if self.paused and not force:
            return
        if not self.screen_stack:  # shutting down: a timer fired after the last screen left
            return
        if self.screen is not self.dashboard and not force:
            return
        if not self.dashboard.is_mounted:
            return
        now = time.monotonic()
        generation = self.live.generation
        idle = DECAY_REDRAW if self._rates_falling else IDLE_REDRAW
        if not force and generation == self._last_generation and now - self._last_refresh < idle:
            return  # idle: nothing new; redraw now and then so the rate charts move on (each second while they fall)
        if not force and now - self._last_refresh < self._draw_gap:
            return  # drawing is slow (a flood, a busy machine): leave the loop free for keys in between
        if not force and self._key_hold and now - self._last_refresh < MAX_KEY_HOLD:
            return  # a key's effect is not on screen yet: it goes first (redrawn when it is, see on_event)
        try:
            rows = self.dashboard.rows_wanted()
        except NoMatches:  # shutting down: the widgets left before the screen did
            return
        data = self.live.dashboard(top=rows, sort=self.sort_ips)  # (remote: sends a changed view)
        if force and self.remote is not None and not self.remote.caught_up:
            self._force_pending = True  # drawn when the snapshot showing the change arrives, not the stale one
            if self.refreshes:
                return  # (the first frame does not wait for the ingestion process: header and empty panels)
        self._last_generation = generation
        self._last_refresh = now
        self._rates_falling = data.rates_falling
        source = self._note_format()
        data = _with_held(data.in_order(self.sort_ips), source.held_lines)
        started = time.perf_counter()
        try:
            parts = self.dashboard.show_steps(self.header_info, data)
        except NoMatches:  # shutting down: the widgets left before the screen did
            return
        parts.insert(1, lambda: self._show_sort(data.sort))
        self._steps_token += 1
        if force:  # what a key asked for
            self._forced_token = self._steps_token
        if force and not steps:  # all at once
            self._run_steps(self._steps_token, parts, started)
        else:  # a new snapshot: a key pressed meanwhile goes between two steps
            self._run_steps(self._steps_token, parts[:2], started, parts[2:])
        self.refreshes += 1
        self.refresh_log.append((now, data.lines, force))
        del self.refresh_log[:-1000]

    def _run_steps(self, token: int, now: list[Callable[[], None]], started: float,
                   later: list[Callable[[], None]] | None = None) -> None:
        """Run ``now`` as one update, then each step of ``later`` after a frame is drawn (a newer redraw stops them).

        A key in flight goes first: the steps left wait until its effect is drawn (the app hands a key on to the
        focused widget's own queue, so a step queued behind it in the app's would still run before its action).
        """
        if token != self._steps_token or (self.paused and token != self._forced_token):
            return  # a newer redraw took over, or the dashboard was frozen since
        if self._key_hold and self.refreshes and token != self._forced_token:
            self._held_steps = (token, now, started, later)
            return
        try:
            with self.batch_update():
                for step in now:
                    step()
        except NoMatches:  # shutting down: the widgets left before the screen did
            return
        if later:  # once drawn, behind what waits in the app's queue (a key: the screen's idle is not the app's)
            self.call_after_refresh(self.call_later, self._run_steps, token, later[:1], started, later[1:])
        else:
            self.call_after_refresh(self._drawn, started)

    async def on_event(self, event: events.Event) -> None:
        """A key holds back the next snapshot's redraw, and ingestion, until the key's own effect has been drawn."""
        if isinstance(event, events.Key):
            self._key_hold = True
            if self.remote is not None:  # and the ingestion process leaves the cores to the key meanwhile
                self.remote.hold(MAX_KEY_HOLD)
            self.call_after_refresh(self._release_key_hold)
        await super().on_event(event)

    def _release_key_hold(self) -> None:
        self._key_hold = False
        if self.remote is not None:
            self.remote.hold(0)
        self._prefetch_selected()  # the cursor may be on another row now
        held, self._held_steps = self._held_steps, None
        if held is not None:
            self._run_steps(*held)
        self.refresh_dashboard()  # a snapshot held back, or the newest one after a screen closed (else nothing)

    def _prefetch_selected(self) -> None:
        """Ask the ingestion process for the selected row's IP snapshot, so Enter need not wait for it."""
        if self.ahead is None or not self.screen_stack or self.screen is not self.dashboard:
            return
        try:
            ip = self.dashboard.selected_ip()
        except NoMatches:
            return
        if ip is not None:
            self.ahead.ask(ip)

    def _note_format(self) -> Any:
        """Put the detected format(s) in the header; returns where they came from (pipeline or ingestion)."""
        source: Any = self.pipeline if self.pipeline is not None else self.live
        names = source.format_names
        self.header_info.log_format = ", ".join(names) if names else f"{self.options.log_format} (detecting)"
        return source

    def show_first_header(self) -> None:
        """Fill the header before the first frame: files, format and model show with the empty panels."""
        self._note_format()
        self.dashboard.show_header(self.header_info)

    def _drawn(self, started: float) -> None:
        """A redraw reached the screen: the next timed one waits at least twice as long as this one took."""
        self._draw_gap = min(MAX_DRAW_GAP, 2 * (time.perf_counter() - started))
        self._prefetch_selected()
        if self.collector is not None:
            self.collector.check()
        if self.after_first_frame is not None:
            callback, self.after_first_frame = self.after_first_frame, None
            callback()

    def collect_when_idle(self) -> None:
        """Garbage collection from now on only between frames (``threatlens-tui`` calls it after the first frame)."""
        from threatlens.tui.idle_collector import IdleCollector

        self.collector = IdleCollector(self)
        self.collector.start()

    def repaint_header(self) -> None:
        """Redraw only the header (PAUSED, filter) without touching the frozen tables."""
        self.dashboard.show_header(self.header_info)

    # -- actions used by screens ---------------------------------------------------------------

    def action_help(self) -> None:
        """Show every key."""
        from threatlens.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        # Made once and shown again: composing and styling its grids cost more than drawing them.
        if not self.is_screen_installed("help"):
            self.install_screen(HelpScreen(), "help")
        help_screen = self.get_screen("help")
        self.push_screen(help_screen if help_screen not in self.screen_stack else HelpScreen())

    def toggle_pause(self) -> None:
        """Freeze the dashboard (ingestion goes on); unpausing catches up at once."""
        self.paused = not self.paused
        self.header_info.paused = self.paused
        if self.paused:
            self.repaint_header()
        else:  # the header (PAUSED gone) and top IPs in the first frame, the other panels in the next ones
            self.refresh_dashboard(force=True, steps=True)

    def toggle_sort(self) -> None:
        """Order the top IPs by requests or by flagged requests and alerts.

        Each snapshot holds both orders: the rows on screen are put in the other one at once (paused too), and
        the ingestion process is told which one its next snapshots lead with.
        """
        self.sort_ips = "flagged" if self.sort_ips == "requests" else "requests"
        shown = self.dashboard.shown
        if shown is None:
            self.refresh_dashboard(force=True)
            return
        if self.remote is not None:
            self.remote.dashboard(top=self.dashboard.rows_wanted(), sort=self.sort_ips)
        with self.batch_update():
            self.dashboard.show_top_ips(shown.in_order(self.sort_ips))
            self._show_sort(self.sort_ips)

    def _show_sort(self, sort: str) -> None:
        """Title the top IPs with the order of the rows on screen (a new order starts at its top)."""
        table = self.dashboard.query_one("#top-ips")
        title = f"Top IPs by {sort} (s)"
        if table.border_title != title:
            table.border_title = title
            table.move_cursor(row=0)
            table.scroll_home(animate=False)

    def change_threshold(self, delta: float) -> None:
        """Move the flag threshold by ``delta`` in steps of ``THRESHOLD_STEP``; counts re-evaluate.

        The steps are multiples of it, so ``t`` and ``T`` retrace each other (0.99, the highest, goes down to 0.95,
        not 0.94; a threshold given between two steps moves to the next one).
        """
        steps = self.live.threshold / THRESHOLD_STEP
        n = max(1, round(abs(delta) / THRESHOLD_STEP))
        step = math.floor(steps + 1e-6) + n if delta > 0 else math.ceil(steps - 1e-6) - n
        value = self._set_threshold(round(step * THRESHOLD_STEP, 2))
        self.notify(f"threshold {value:.2f}", timeout=2)
        self.refresh_dashboard(force=True)

    def _set_threshold(self, value: float) -> float:
        """Detection owns the threshold; the live counts re-evaluate to it. Returns the value in force."""
        value = self.live.set_threshold(value)  # clamped and rounded for the screen's steps
        det = self.pipeline.detection if self.pipeline is not None else None
        if det is not None:
            det.threshold = value
        return value

    def toggle_nuisance(self) -> None:
        """Hide nuisance-tier rows (bad bots, floods) from the top IPs, the feed and the IP screen, or show them."""
        hide = not self.live.hide_nuisance
        self.live.set_hide_nuisance(hide)
        self.header_info.nuisance_hidden = hide
        self.notify("nuisance tier hidden (n shows it)" if hide else "nuisance tier shown", timeout=2)
        self.refresh_dashboard(force=True)
        screen = self.screen
        if hasattr(screen, "reload"):
            screen.reload()

    def set_filter(self, text: str) -> None:
        """Apply a filter string (already validated) to every panel."""
        flt = RecordFilter.parse(text) if text.strip() else None
        self.live.set_filter(flt)
        self.header_info.filter = flt.text if flt is not None else ""
        self.refresh_dashboard(force=True)

    def open_ip(self, ip: str) -> None:
        """Open the drill-down screen of one client."""
        from threatlens.tui.screens.ip_detail import IpDetailScreen

        remote = self.remote
        ahead = self.ahead.take(ip) if self.ahead is not None else None
        early = ahead is not None
        try:
            snapshot = ahead if early else self.live.ip_snapshot(ip)
        except ThreatLensError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        if remote is None:
            def source() -> Any:
                return self.live.ip_snapshot(ip)
        else:
            newest = [snapshot]
            if early:  # shown at once from the snapshot asked ahead; the current one follows in a few ms
                def fresh(snap: Any) -> None:  # (the reader thread)
                    newest[0] = snap
                    self.post_message(IpSnapshotArrived(ip, snap))

                remote.call_soon("ip_snapshot", ip, on_reply=fresh, slot="open")

            def source() -> Any:  # the live update never waits for the ingestion process: the newest answer
                remote.call_soon("ip_snapshot", ip, on_reply=lambda snap: newest.__setitem__(0, snap))
                return newest[0]

        # One IP screen, made once and shown again for the next IP: building a screen costs more than drawing it.
        screen = self._ip_screen
        if screen is None:
            screen = self._make_ip_screen(ip, snapshot)
            screen.open(ip, snapshot, source)
        elif screen in self.screen_stack and screen is not self.screen:
            screen = IpDetailScreen(ip, snapshot, source)  # under another screen: this one is a new one
        else:
            screen.open(ip, snapshot, source)
        if screen is not self.screen:
            self.push_screen(screen)

    def on_ip_prefetched(self, message: IpPrefetched) -> None:
        """The hidden IP screen shows the selected row's IP ahead of Enter (its rows drawn now, not after Enter)."""
        screen = self._ip_screen
        if screen is None:
            self._make_ip_screen(message.ip, message.snapshot)
        elif screen not in self.screen_stack:
            screen.prepare(message.ip, message.snapshot)  # type: ignore[arg-type]

    def _make_ip_screen(self, ip: str, snapshot: Any) -> IpDetailScreen:
        """The IP screen, made once and composed ahead of the first Enter (building it took 100-200 ms)."""
        from threatlens.tui.screens.ip_detail import IpDetailScreen

        screen = self._ip_screen = IpDetailScreen(ip, snapshot, None)
        self.install_screen(screen, "ip-detail")
        with contextlib.suppress(AttributeError):  # (another Textual: composed when first shown, as before)
            self._get_screen(screen)  # composes and mounts it, off the stack
        return screen

    def on_ip_snapshot_arrived(self, message: IpSnapshotArrived) -> None:
        """The current snapshot of the IP screen opened from one asked ahead."""
        screen = self._ip_screen
        if screen is not None and screen is self.screen and screen.ip == message.ip:
            # after the frame under way: shown before it, the newer rows were drawn before the screen appeared
            self.call_after_refresh(screen.show_newer, message.snapshot)

    def open_campaign(self, alert: Alert) -> None:
        """Open the member list of a campaign alert (Enter on a member opens its IP screen)."""
        from threatlens.tui.screens.campaign import CampaignScreen

        try:
            rows = self.live.member_rows(alert.members)
        except ThreatLensError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.push_screen(CampaignScreen(alert, rows))

    # -- allowlist -----------------------------------------------------------------------------

    def _apply_allowlist(self, built: Any = None) -> None:
        """Mark and apply ``allow_entries`` (``built``: the config's allowlist, copied if they are its entries)."""
        from threatlens.models.allowlist import Allowlist

        allow = Allowlist.parse(self.allow_entries, built=built)
        self.live.set_allowlist(allow)
        det = self.pipeline.detection if self.pipeline is not None else None
        if det is not None:
            det.allowlist = allow

    def ask_allowlist(self, suggestion: str) -> None:
        """Ask which entry to allowlist (prefilled with the IP; a CIDR or ``path:`` works too)."""
        from threatlens.tui.screens.allowlist_prompt import AllowlistPrompt

        self.push_screen(AllowlistPrompt(suggestion), self.add_allowlist)

    def add_allowlist(self, entry: str | None) -> None:
        """Add an entry, persist it in the config file, say how to undo."""
        if not entry:
            return
        if entry in self.allow_entries:
            self.notify(f"already allowlisted: {entry}", markup=False)
            return
        self.allow_entries.append(entry)
        self.allow_added.append(entry)
        self._apply_allowlist()
        where = self._persist_allowlist()
        self.notify(f"allowlisted {entry} ({where}); u undoes", markup=False)
        self.refresh_dashboard(force=True)

    def undo_allowlist(self) -> None:
        """Remove the last entry added in this session."""
        if not self.allow_added:
            self.notify("nothing to undo", severity="warning")
            return
        entry = self.allow_added.pop()
        if entry in self.allow_entries:
            self.allow_entries.remove(entry)
        self._apply_allowlist()
        where = self._persist_allowlist()
        self.notify(f"removed {entry} from the allowlist ({where})", markup=False)
        self.refresh_dashboard(force=True)

    def _persist_allowlist(self) -> str:
        from threatlens.config import Config

        if self.options.confine_writes:
            return "this session only: the served monitor does not write the config file"
        try:
            saved = Config.load(self.options.config_path).save_allowlist(self.allow_entries)
        except (OSError, ThreatLensError) as exc:
            return f"this session only, not saved: {exc}"
        return f"saved to {saved.path}"

    # -- exports -------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The injected clock as a local datetime (export names)."""
        return datetime.fromtimestamp(self.clock())

    def ask_export(self, ip: str | None = None, what: str = "flagged") -> None:
        """Open the export dialog.

        ``ip`` offers "this IP"; ``what`` is preselected; the tier starts at ``--min-severity``, as in the
        block-list dialog.
        """
        from threatlens.tui.screens.export_dialog import ExportDialog

        self.push_screen(ExportDialog(self.options.export_dir, self.now(), ip=ip, what=what,
                                      min_severity=self.options.min_severity), self.do_export)

    def _reopen_export(self, request: Any) -> None:
        """Back to the export dialog with the same choices and path (after "No" to overwriting)."""
        from threatlens.tui.screens.export_dialog import ExportDialog

        self.push_screen(ExportDialog(self.options.export_dir, self.now(), ip=request.ip, what=request.what,
                                      fmt=request.fmt, path=request.path, min_severity=request.min_severity),
                         self.do_export)

    def do_export(self, request: Any, overwrite: bool = False) -> None:
        """Write what the dialog asked for (``threatlens.export`` writes atomically)."""
        if request is None:
            return
        from threatlens.tui.exporting import run_export

        remote = self.remote
        result = self._write(request, "export", lambda: remote.run_export(request, overwrite) if remote is not None
                             else run_export(self.live, request, overwrite=overwrite),
                             self.do_export, self._reopen_export)
        if result is not None:
            n, note = result
            self.notify(f"exported {n} {note} to {request.path}", markup=False, timeout=8)

    def _write(self, request: Any, what: str, write: Callable[[], Any], retry: Callable[..., None],
               reopen: Callable[[Any], None]) -> Any:
        """Run ``write``; an existing file asks first: yes ``retry(request, overwrite=True)``, no ``reopen``."""
        if self.options.confine_writes and not _inside(request.path, self.options.export_dir):
            self.notify(f"{what} refused: this monitor writes only under {self.options.export_dir}",
                        severity="error", markup=False, timeout=10)
            return None
        try:
            return write()
        except FileExistsError:
            from threatlens.tui.screens.confirm import ConfirmScreen

            self.push_screen(ConfirmScreen(f"{request.path} exists. Overwrite it?"),
                             lambda yes: retry(request, overwrite=True) if yes else reopen(request))
        except (OSError, ThreatLensError) as exc:
            self.notify(f"{what} failed: {exc}", severity="error", markup=False, timeout=10)
        return None

    def blocklist_ips(self, min_severity: str) -> list[str]:
        """The block list: IPs flagged or alerted at ``min_severity`` or above, plus those added with ``b``."""
        return sorted(set(self.live.flagged_ips(min_severity)) | self.blocked)

    def ask_blocklist(self) -> None:
        """Open the block-list dialog; its tier choice starts at ``--min-severity`` (default ``attack``)."""
        from threatlens.models.verdict import SEVERITIES
        from threatlens.tui.screens.blocklist_dialog import BlocklistDialog

        counts = {tier: len(self.blocklist_ips(tier)) for tier in SEVERITIES}
        self.push_screen(BlocklistDialog(self.options.export_dir, self.now(), counts, self.options.min_severity),
                         self.do_blocklist)

    def _reopen_blocklist(self, request: Any) -> None:
        """Back to the block-list dialog with the same format and path (after "No" to overwriting)."""
        from threatlens.models.verdict import SEVERITIES
        from threatlens.tui.screens.blocklist_dialog import BlocklistDialog

        counts = {tier: len(self.blocklist_ips(tier)) for tier in SEVERITIES}
        self.push_screen(BlocklistDialog(self.options.export_dir, self.now(), counts, request.min_severity,
                                         fmt=request.fmt, path=request.path), self.do_blocklist)

    def do_blocklist(self, request: Any, overwrite: bool = False) -> None:
        """Write the block list."""
        if request is None:
            return
        from threatlens.export import blockable, left_out_notice, write_blocklist

        ips = self.blocklist_ips(request.min_severity)
        good = [ip for ip in ips if _is_ip(ip)]
        left = left_out_notice(blockable(good)[1])
        n = self._write(request, "block list",
                        lambda: write_blocklist(request.path, good, request.fmt, overwrite=overwrite),
                        self.do_blocklist, self._reopen_blocklist)
        if n is None:
            return
        skipped = len(ips) - len(good)
        extra = f" ({skipped} invalid addresses skipped)" if skipped else ""
        extra += f"; {left}" if left else ""
        self.notify(f"wrote {n} IPs ({request.fmt}) to {request.path}{extra}", markup=False, timeout=8)

    def block_ip(self, ip: str) -> None:
        """Add one IP to the session's block list."""
        if not _is_ip(ip):
            self.notify(f"not an IP address: {ip}", severity="error", markup=False)
            return
        again = ip in self.blocked
        self.blocked.add(ip)
        n = len(self.blocked)
        self.notify(f"{ip} {'is already' if again else 'added'} in this session's block list ({n} IP{'s' * (n > 1)}"
                    " added by hand). No file written yet: b on the dashboard writes them, with the flagged IPs, "
                    f"to a block-list file (under {self.options.export_dir} unless you choose another path)",
                    markup=False, timeout=10)


def _inside(path: Path, directory: Path) -> bool:
    """Whether ``path``, symlinks resolved, lies under ``directory``."""
    return Path(path).expanduser().resolve().is_relative_to(Path(directory).expanduser().resolve())


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _with_held(data: Any, held: int) -> Any:
    if not held:
        return data
    from dataclasses import replace

    return replace(data, held=held)


def make_app(
    paths: Sequence[str | Path],
    *,
    options: MonitorOptions | None = None,
    pipeline: Pipeline | None = None,
    detection: Any = _AUTO,
    geo: Any = _AUTO,
    clock: Callable[[], float] = time.time,
    follower_options: dict[str, Any] | None = None,
    ingest: str = "thread",
    remote: RemoteLive | None = None,
    **option_values: Any,
) -> ThreatLensApp:
    """Build the monitor for ``paths``; everything else has working defaults.

    ``detection``: a ``Detection``-like object, ``None`` for no scoring, or (default) load the model
    in a worker. ``geo``: a ``GeoLookup``-like object (``.country(ip)``, ``.source``), ``None`` for
    none, or (default) ``GeoLookup.open(options.geoip_db)``. ``clock`` drives rates and export names.
    ``option_values`` set ``MonitorOptions`` fields (``from_start=True``, ``threshold=0.7``...).
    ``ingest="process"`` follows, parses, scores and counts in a child process (``threatlens-tui``
    does); ``detection``, ``geo``, ``clock`` and ``follower_options`` must then be picklable, and
    ``pipeline`` cannot be given. ``remote``: that ingestion process (maybe started already), built from
    the same options (``ingest="process"`` is implied).
    """
    opts = options or MonitorOptions()
    opts.paths = [str(p) for p in paths]
    for key, value in option_values.items():
        if not hasattr(opts, key):
            raise TypeError(f"unknown option {key!r}")
        setattr(opts, key, value)
    if ingest not in ("thread", "process"):
        raise ValueError(f"ingest must be 'thread' or 'process', not {ingest!r}")
    if ingest == "process" or remote is not None:
        return _process_app(opts, detection=detection, geo=geo, clock=clock, follower_options=follower_options,
                            pipeline=pipeline, remote=remote)
    if geo is _AUTO:
        from threatlens.stats.geo import GeoLookup

        geo = GeoLookup.open(opts.geoip_db, on_warning=lambda msg: None)
    live, pipeline = build_live(opts, geo, clock, pipeline)
    if detection is None:
        opts.detect = False
    app = ThreatLensApp(opts, live=live, pipeline=pipeline, detection=detection,
                        geo_source=geo.source if geo is not None else "none", clock=clock,
                        follower_options=follower_options)
    pipeline.on_message = lambda text: app.post_message(IngestNote(text))
    return app


def _process_app(opts: MonitorOptions, *, detection: Any, geo: Any, clock: Callable[[], float],
                 follower_options: dict[str, Any] | None, pipeline: Pipeline | None,
                 remote: RemoteLive | None) -> ThreatLensApp:
    """The monitor with ingestion in a child process (see :mod:`threatlens.tui.ingest_child`)."""
    from threatlens.tui.ingest_child import LOAD
    from threatlens.tui.remote import RemoteLive, ingest_spec

    if pipeline is not None:
        raise TypeError("ingest='process' builds its own pipeline in the child: pipeline cannot be given")
    if detection is None:
        opts.detect = False
    if remote is None:
        remote = RemoteLive(ingest_spec(opts, detection=(LOAD if opts.detect else None) if detection is _AUTO
                                        else detection, geo=LOAD if geo is _AUTO else geo, clock=clock,
                                        follower_options=follower_options))
    if geo is _AUTO:
        from threatlens.stats.geo import GeoLookup

        geo = GeoLookup.open(opts.geoip_db, on_warning=lambda msg: None)  # for its name in the header
    return ThreatLensApp(opts, live=remote, pipeline=None, detection=detection,
                         geo_source=geo.source if geo is not None else "none", clock=clock)
