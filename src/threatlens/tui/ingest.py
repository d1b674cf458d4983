"""``Ingestor``: follows the files and feeds the pipeline, on the ingest worker thread.

It knows nothing of Textual: it reports through two callbacks (``on_note(text, severity)`` and
``on_progress(lines, pending, progress_text)``), which the app turns into messages. Every line
read is counted: parsed, unparsed, or (when the log format cannot be recognised) unparsed with
the reason ``unknown log format``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from threatlens.tui.live import LiveStats
from threatlens.tui.options import MonitorOptions

if TYPE_CHECKING:  # the UI process of threatlens-tui imports this module but never runs a pipeline
    from threatlens.parsers.record import RawLine
    from threatlens.pipeline import Pipeline

__all__ = ["Ingestor", "attach_detection", "build_live", "load_detection", "model_name", "startup_hint"]

OnNote = Callable[[str, str], None]
OnProgress = Callable[[int, int, str], None]
#: Lines waiting for format detection are flushed after this long without new lines.
HELD_FLUSH_AFTER = 1.0
#: Lines per pipeline step when a gate is given (about 20 ms of work; 500 cost 10-15 % more per line).
GATED_CHUNK = 1000


def build_live(opts: MonitorOptions, geo: Any, clock: Callable[[], float],
               pipeline: Pipeline | None = None) -> tuple[LiveStats, Pipeline]:
    """The live aggregates and the pipeline that feeds them (``geo``: a ``GeoLookup``-like object or ``None``)."""
    country = geo.country if geo is not None else None
    threshold = opts.threshold if opts.threshold is not None else 0.5
    batch_geo = geo if hasattr(geo, "countries") else None  # a GeoLookup: batched lookups
    live = LiveStats(country=country, geo=batch_geo, threshold=threshold, clock=clock)
    if pipeline is None:
        from threatlens.pipeline import Pipeline

        pipeline = Pipeline(log_format=opts.log_format, nginx_conf=opts.nginx_conf, detection=None, stats=live,
                            strict=False)
    else:
        pipeline.stats = live
    return live, pipeline


def load_detection(opts: MonitorOptions) -> tuple[Any, str | None, str | None]:
    """``(detection, refused, error)`` for the monitor, without its allowlist (``attach_detection`` gives it one).

    A model file that is refused gives behaviour-only detection and ``refused`` says why; a bug
    while loading gives ``(None, None, error)`` (the monitor runs on without detection).
    """
    from threatlens.errors import ThreatLensError
    from threatlens.models.detection import Detection

    try:
        return Detection.load(opts.model, threshold=opts.threshold, baseline=opts.baseline), None, None
    except ThreatLensError as exc:  # a bad model file: watch behaviour without it, and say so
        return (Detection(None),
                f"model refused: {exc}. Only the behaviour detectors run: no request gets a score", None)
    except Exception as exc:  # a bug: say so, keep the monitor running without detection
        logging.getLogger(__name__).exception("loading the model failed")
        return None, None, f"model failed to load (a bug, please report it): {exc!r}"


def attach_detection(live: LiveStats, pipeline: Pipeline, det: Any, opts: MonitorOptions, allowlist: Any) -> float:
    """Score from now on with ``det`` (port scans too); returns the threshold in force."""
    from threatlens.scanner import add_portscan

    with live.lock:
        pipeline.detection = det
        if pipeline.portscan is None:
            add_portscan(pipeline)
        det.allowlist = allowlist
    threshold = opts.threshold if opts.threshold is not None else det.threshold
    if threshold is not None:
        det.threshold = live.set_threshold(threshold)
    return live.threshold


def model_name(det: Any, refused: str | None = None) -> str:
    """``threatlens-model 0.1.0`` style name of a detection object, for the header."""
    if refused:
        return "refused: behaviour only"
    scorer = det.scorer
    if scorer is None:
        return "behaviour only"
    info = scorer.info or {}
    model_file = str(info.get("model_file", "model")).rsplit(".", 1)[0]
    version = info.get("version")
    return f"{model_file} {version}" if version else model_file


def startup_hint(options: MonitorOptions) -> str:
    """The header hint when existing content is skipped (``tail -F`` behaviour)."""
    if options.from_start or options.backfill is not None:
        return ""
    existing = 0
    for path in options.paths:
        if path == "-":
            continue
        try:
            existing += os.path.getsize(path)
        except OSError:
            continue
    if not existing:
        return ""
    return (f"showing new lines only: {existing:,} bytes already in the file are skipped "
            "(--from-start or --backfill N to read them)")


def _size(done: int, total: int) -> str:
    """``1.2 of 2.9 MB`` (kB below a megabyte)."""
    if total < 1 << 20:
        return f"{done / 1024:.0f} of {total / 1024:.0f} kB"
    return f"{done / (1 << 20):.1f} of {total / (1 << 20):.1f} MB"


class Ingestor:
    """Owns the ``Follower`` and drives the ``Pipeline``; call :meth:`run` on a worker thread."""

    def __init__(
        self,
        options: MonitorOptions,
        pipeline: Pipeline,
        live: LiveStats,
        *,
        on_note: OnNote,
        on_progress: OnProgress,
        follower_options: dict[str, Any] | None = None,
        ready: threading.Event | None = None,
        gate: threading.Event | None = None,
    ) -> None:
        self.options = options
        self.pipeline = pipeline
        self.live = live
        self.on_note = on_note
        self.on_progress = on_progress
        self.follower_options = dict(follower_options or {})
        self.follower: Any = None
        self.ready = ready
        #: Open (set) unless the ingestion process's main thread is answering the UI: batches then go
        #: in chunks of ``GATED_CHUNK`` lines and wait at the gate between chunks, leaving the GIL to it.
        self.gate = gate
        self.lines_in = 0
        from threatlens.tail.lines import DEFAULT_MAX_LINE_BYTES, FirstPieces

        # An over-long line arrives in pieces: the first stands for it, so "lines" counts lines.
        self._first_pieces = FirstPieces(self.follower_options.get("max_line_bytes", DEFAULT_MAX_LINE_BYTES))
        self._initial: dict[str, int] = {}  # --from-start: each file's size when reading began
        self._done: dict[str, int] = {}  # ... and how far into it the processed lines reach
        self._stopping = False

    def _make_follower(self) -> Any:
        from threatlens.tail import Follower

        opts = self.options
        files = [p for p in opts.paths if p != "-"]
        start = "start" if opts.from_start else "end"
        if opts.from_start:
            for path in files:
                with contextlib.suppress(OSError):
                    if size := os.path.getsize(path):
                        self._initial[path] = size
        kwargs: dict[str, Any] = {
            "start": start,
            "backfill": opts.backfill if not opts.from_start else None,
            "poll": opts.poll,
            "on_message": lambda level, text: self.on_note(text, "error" if level == "error" else "information"),
            "batch_interval": 0.1,
        }
        if opts.poll_interval:
            kwargs["poll_interval"] = opts.poll_interval
        kwargs.update(self.follower_options)
        return Follower(opts.paths, **kwargs)

    def _process(self, batch: list[RawLine], final: bool = False) -> None:
        lines = self._first_pieces(batch)
        gate = self.gate
        if gate is None:
            self.pipeline.process(lines, final=final)
        else:
            pipeline = self.pipeline
            for i in range(0, max(len(lines), 1), GATED_CHUNK):  # an empty final batch flushes the held lines
                gate.wait()
                held = pipeline.held_lines
                parsed = pipeline.parse(lines[i:i + GATED_CHUNK], final=final and i + GATED_CHUNK >= len(lines))
                if not held:  # parsing changed nothing a snapshot reads (held lines leave the count until counted)
                    gate.wait()  # so a request waits for half a chunk, not a whole one
                pipeline.complete(parsed)
        if self._initial and batch:
            ends = {line.file: line.offset + len(line.data) + 1 for line in batch}  # a file's lines come in order
            done = self._done
            for file, end in ends.items():
                if end > done.get(file, 0):
                    done[file] = end

    def progress_text(self) -> str:
        """``reading existing content 42% (1.2 of 2.9 MB)`` until the lines there at the start are processed.

        It counts the bytes of the lines the pipeline has processed (not those read ahead into the
        queue), so it tracks the counts on screen and stays until they have caught up. The ingestion
        process reads it before each snapshot's counts and sends it after them, so the header never
        shows it ahead of the counts beside it.
        """
        if not self._initial:
            return ""
        total = sum(self._initial.values())
        done = sum(min(self._done.get(f, 0), size) for f, size in self._initial.items())
        follower = self.follower
        drained = follower is not None and follower.bytes_read >= total and not follower.pending
        if done >= total or drained:  # drained: every line read was processed (CRLF ends count one byte short)
            self._initial = {}
            return ""
        return f"reading existing content {100 * done / total:.0f}% ({_size(done, total)})"

    def run(self, cancelled: Callable[[], bool]) -> None:
        """Follow until ``cancelled()`` or the inputs end; count every line."""
        follower = self.follower = self._make_follower()
        follower.start()  # start positions are fixed now; lines written from here on are read
        if self.ready is not None:  # score from the first line: wait for the model (lines wait in the queue)
            while not self.ready.wait(0.1):
                if cancelled() or self._stopping:
                    self.stop()
                    return
        last_line = time.monotonic()
        try:
            while not cancelled() and not self._stopping:
                batch = follower.get_batch(0.2)
                if batch is None:
                    break
                if batch:
                    self.lines_in += len(batch)
                    self._process(batch)
                    last_line = time.monotonic()
                elif self.pipeline.held_lines and time.monotonic() - last_line > HELD_FLUSH_AFTER:
                    self._process([], final=True)
                else:
                    continue
                self.on_progress(self.lines_in, follower.pending, self.progress_text())
            self._process([], final=True)
            self.on_progress(self.lines_in, 0, "")
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop following (idempotent; safe from any thread)."""
        self._stopping = True
        follower = self.follower
        if follower is not None:
            try:
                follower.stop(timeout=2.0)
            except Exception as exc:  # a failure in a reader thread: report, do not crash the exit
                self.on_note(f"follower stopped with an error: {exc!r}", "error")
