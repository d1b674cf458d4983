"""``ScoreService``: ``POST /api/v1/score`` answers exactly what ``threatlens scan --output jsonl -`` prints.

It runs the scan command's own parts — lines split by :func:`threatlens.sources.stream_batches`, a
strict :class:`~threatlens.pipeline.Pipeline`, and ``scan``'s ``Writer`` — over a fresh per-request
detection state (site context, per-IP windows, campaigns), so nothing one caller sends leaks into
another's answer. The model itself is loaded once and used by one worker thread only.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from typing import Any

from threatlens.pipeline import Pipeline
from threatlens.sources import stream_batches
from threatlens.tui.options import MonitorOptions

#: The file name the lines are reported under, as ``scan -`` reports standard input.
STDIN_NAME = "-"


def shared_model(detection: Any) -> dict[int, Any]:
    """A ``copy.deepcopy`` memo that copies a detection's state but not its model.

    The copy gets ``scorer = None`` (the caller sets the scorer it uses) and shares the learned
    behaviour baseline; per-client windows, campaigns and the allowlist are copied.
    """
    memo: dict[int, Any] = {id(detection.scorer): None}
    baseline = getattr(getattr(detection, "behaviour", None), "baseline", None)
    if baseline is not None:
        memo[id(baseline)] = baseline
    return memo


class ScoreService:
    """Score request bodies; call :meth:`score` from one thread at a time (the server uses one worker)."""

    def __init__(self, options: MonitorOptions, detection: Any, country: Callable[[str | None], str | None],
                 live_context: Callable[[], tuple[Any, Any]] | None = None) -> None:
        self.options = options
        self.detection = detection  # a Detection of its own (not the live one); None: --no-detect
        self.country = country
        self.live_context = live_context
        self._empty_context = copy.deepcopy(getattr(detection.scorer, "context", None)) if detection else None

    def _fresh_detection(self, live: bool) -> Any:
        """The model with empty per-client and site state (or copies of the live engine's, ``live``)."""
        det = self.detection
        if det is None:
            return None
        if live and self.live_context is not None:
            context, fresh = self.live_context()
        else:  # self.detection never scores a line itself: its state is the empty start state
            context, fresh = copy.deepcopy(self._empty_context), copy.deepcopy(det, shared_model(det))
        fresh.scorer = det.scorer  # the one model; its caches hold only context-free results
        if det.scorer is not None:
            det.scorer.context = context
        return fresh

    def score(self, body: bytes, *, log_format: str | None = None, only_flagged: bool = False,
              live: bool = False) -> str:
        """JSON lines for every line of ``body`` (requests, unparsed lines, then alerts, batch by batch).

        The body is a finished input, as a scanned file is: the campaign alerts still waiting for log
        time to pass come at its end, as ``scan`` prints them.

        Raises ``threatlens.errors.FormatError`` for a bad ``log_format`` or lines whose
        format cannot be recognised.
        """
        from threatlens.commands.scan import Writer

        opts = self.options
        fmt = log_format or opts.log_format
        pipeline = Pipeline(log_format=fmt, nginx_conf=opts.nginx_conf if log_format is None else None,
                            detection=self._fresh_detection(live))
        out = io.StringIO()
        writer = Writer("jsonl", only_flagged, out, self.country, opts.min_severity)
        for batch in stream_batches(io.BytesIO(body), STDIN_NAME):
            writer.write(pipeline.process(batch))
        # an upload is a finished input, as scan's files are: campaigns waiting for log time report now
        writer.write(pipeline.process([], final=True, ended=True))
        return out.getvalue()
