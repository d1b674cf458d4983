"""``Engine``: follows the logs with the monitor's own parts and keeps what the API and metrics read.

The same pieces as ``threatlens-tui`` — :class:`~threatlens.tui.ingest.Ingestor` (follower and
pipeline on a thread), :class:`~threatlens.tui.live.LiveStats` (what the screens show) — plus the
numbered :class:`~threatlens.serve.alert_log.AlertLog` and the counters behind ``/metrics``.
"""

from __future__ import annotations

import contextlib
import copy
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from typing import Any

from threatlens.models.verdict import Alert, Verdict
from threatlens.parsers.record import LogRecord, Unparsed
from threatlens.pipeline import Pipeline
from threatlens.serve.alert_log import AlertLog
from threatlens.tui.ingest import Ingestor
from threatlens.tui.live import LiveStats
from threatlens.tui.options import MonitorOptions

#: lines/s is the mean over this many seconds.
RATE_WINDOW = 10.0


class Counters:
    """Running totals for ``/metrics`` (written by the ingest thread, read under ``lock``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.parsed = 0  # access-log lines parsed into requests
        self.packets = 0  # firewall lines parsed into packets
        self.unparsed = 0
        self.flagged: Counter[str] = Counter()  # by severity
        self.categories: Counter[str] = Counter()  # flagged requests by category
        self.alerts: Counter[tuple[str, str]] = Counter()  # by (kind, severity)
        self._recent: deque[tuple[float, int]] = deque()

    def add(self, records: Sequence[LogRecord], verdicts: Sequence[Verdict] | None, alerts: Sequence[Alert],
            unparsed: Sequence[Unparsed], packets: Sequence[Any] = ()) -> None:
        """Count one processed batch (requests, firewall packets and unparsed lines apart)."""
        flagged = [v for v in verdicts if v.flagged] if verdicts else []
        now = time.monotonic()
        with self.lock:
            self.parsed += len(records)
            self.packets += len(packets)
            self.unparsed += len(unparsed)
            for v in flagged:
                self.flagged[v.severity or "unrated"] += 1
                self.categories.update(v.categories)
            for a in alerts:
                self.alerts[a.kind, a.severity] += 1
            if records or unparsed or packets:
                self._recent.append((now, len(records) + len(unparsed) + len(packets)))

    def lines_per_second(self) -> float:
        """Lines processed per second over the last ``RATE_WINDOW`` seconds."""
        cutoff = time.monotonic() - RATE_WINDOW
        with self.lock:
            while self._recent and self._recent[0][0] < cutoff:
                self._recent.popleft()
            return sum(n for _t, n in self._recent) / RATE_WINDOW


class _Feed:
    """The pipeline's ``stats``: hands each batch to the live views, the alert log and the counters."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def update(self, records: Sequence[LogRecord], verdicts: Sequence[Verdict] | None, alerts: Sequence[Alert],
               unparsed: Sequence[Unparsed], packets: Sequence[Any] = ()) -> None:
        engine = self.engine
        engine.live.update(records, verdicts, alerts, unparsed, packets)
        engine.alerts.add(alerts, engine.live.country)
        engine.counters.add(records, verdicts, alerts, unparsed, packets)


class _LockedDetection:
    """The live detection behind a lock, so a ``context=live`` score can copy its state consistently."""

    def __init__(self, detection: Any, lock: threading.Lock) -> None:
        self.detection = detection
        self.lock = lock

    def process(self, records: Sequence[LogRecord]) -> tuple[list[Verdict], list[Alert]]:
        with self.lock:
            return self.detection.process(records)  # type: ignore[no-any-return]


class Engine:
    """Follow ``options.paths`` like the monitor does; thread-safe views for the HTTP handlers."""

    def __init__(self, options: MonitorOptions, *, on_note: Callable[[str, str], None],
                 detection: Any = None) -> None:
        from threatlens.models.allowlist import Allowlist
        from threatlens.scanner import add_portscan
        from threatlens.stats.geo import GeoLookup

        self.options = options
        self.on_note = on_note
        self.geo = GeoLookup.open(options.geoip_db, on_warning=lambda text: on_note(text, "warning"))
        self.live = LiveStats(geo=self.geo, threshold=options.threshold if options.threshold is not None else 0.5)
        self.alerts = AlertLog()
        self.counters = Counters()
        self.detection = detection
        self.detection_lock = threading.Lock()
        allow = Allowlist.parse(options.allowlist, built=options.parsed_allowlist)
        self.live.set_allowlist(allow)
        self.pipeline = Pipeline(log_format=options.log_format, nginx_conf=options.nginx_conf, stats=_Feed(self),
                                 on_message=lambda text: on_note(text, "information"), strict=False)
        if detection is not None:
            detection.allowlist = allow
            self.pipeline.detection = _LockedDetection(detection, self.detection_lock)
            add_portscan(self.pipeline)  # firewall logs: port scans, and scan-then-web by one IP
            if detection.threshold is not None:
                self.live.set_threshold(float(detection.threshold))
        self.ingestor = Ingestor(options, self.pipeline, self.live, on_note=on_note,
                                 on_progress=lambda lines, pending, progress: None)
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="threatlens-serve-ingest", daemon=True)
        self.error: str | None = None
        self.started = time.time()

    def _run(self) -> None:
        try:
            self.ingestor.run(lambda: self._stop)
        except Exception as exc:
            self.error = f"reading stopped: {exc!r}"
            self.on_note(self.error, "error")

    def start(self) -> None:
        """Start following (lines written from now on are read; ``--from-start``/``--backfill`` apply)."""
        self._thread.start()

    def stop(self) -> None:
        """Stop following and wait for the ingest thread."""
        self._stop = True
        self.ingestor.stop()
        self._thread.join(timeout=5)

    @property
    def running(self) -> bool:
        """Whether the ingest thread is still following."""
        return self._thread.is_alive()

    def live_context(self) -> tuple[Any, Any]:
        """Copies of the live site context and of the live detection's other state, for ``?context=live``.

        The detection copy has no model (per-client windows, campaigns, allowlist only); both are
        taken between two batches, under the lock the ingest thread scores under.
        """
        from threatlens.serve.scoring import shared_model

        det = self.detection
        with self.detection_lock:
            context = copy.deepcopy(getattr(det.scorer, "context", None))
            return context, copy.deepcopy(det, shared_model(det))

    def follow_lag(self) -> tuple[int, int, int]:
        """(files followed, bytes written but not read yet, lines read but not processed yet)."""
        follower = self.ingestor.follower
        if follower is None:
            return 0, 0, 0
        files = 0
        lag = 0
        for name, st in follower.stats().items():
            if name == "-":
                continue
            files += 1
            if st.offset is not None:
                with contextlib.suppress(OSError):
                    lag += max(0, os.path.getsize(name) - st.offset)
        return files, lag, follower.pending

    def model_name(self) -> str:
        """``threatlens-model 0.1.0``-style name of the model in use, ``none`` without detection."""
        det = self.detection
        if det is None:
            return "none"
        info = getattr(det.scorer, "info", None) or {}
        return str(info.get("version", "unknown"))
