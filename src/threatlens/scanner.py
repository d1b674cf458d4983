"""Build the full pipeline (parser, detection, geo, stats) and run it over whole inputs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from threatlens.collector import collect_less
from threatlens.errors import ReadError
from threatlens.models.allowlist import Allowlist
from threatlens.pipeline import Pipeline, Processed
from threatlens.sources import iter_batches


def build_pipeline(
    *,
    log_format: str = "auto",
    nginx_conf: str | Path | None = None,
    detect: bool = True,
    model: str | Path | None = None,
    threshold: float | None = None,
    baseline: str | Path | None = None,
    allowlist: Iterable[str] = (),
    parsed_allowlist: Allowlist | None = None,
    geoip_db: str | None = None,
    on_message: Callable[[str], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> Pipeline:
    """A pipeline with country lookup, aggregates and (unless ``detect`` is false) detection.

    The log format is checked first, so a bad ``--log-format`` fails before the model loads.
    ``parsed_allowlist``: ``allowlist`` already read (the config's), see :meth:`Allowlist.parse`.
    """
    from threatlens.stats import Stats
    from threatlens.stats.geo import GeoLookup

    pipeline = Pipeline(log_format=log_format, nginx_conf=nginx_conf, on_message=on_message)
    geo = GeoLookup.open(geoip_db, on_warning=on_warning)
    pipeline.stats = Stats(geo=geo, threshold=threshold, recent=0)
    if detect:
        from threatlens.models.detection import Detection

        pipeline.detection = Detection.load(model, threshold=threshold, baseline=baseline, allowlist=allowlist,
                                            parsed_allowlist=parsed_allowlist)
        add_portscan(pipeline)
    collect_less()
    return pipeline




def add_portscan(pipeline: Pipeline) -> None:
    """Give ``pipeline`` port-scan detection over firewall records and the web/firewall correlation."""
    from threatlens.models.crossref import CrossSource
    from threatlens.models.portscan import PortScanDetector

    detector = PortScanDetector()
    pipeline.portscan = detector
    pipeline.crossref = CrossSource(footprint=detector.footprint)


def scan_paths(
    pipeline: Pipeline,
    paths: Iterable[str],
    *,
    on_batch: Callable[[Processed, int], None] | None = None,
    progress: Callable[[str], AbstractContextManager[Callable[[int], None] | None]] | None = None,
    on_error: Callable[[ReadError], None] | None = None,
) -> int:
    """Run every line of ``paths`` through ``pipeline`` in order; return the number of lines.

    The loop of ``threatlens scan`` (and of ``bench/scan.py``). One process: per-IP behaviour
    windows and the site context see every line in log order. ``on_batch(done, lines_read)`` gets
    each processed batch, the last one being the final flush (``lines_read`` 0); ``progress(path)``
    is entered around each file and gives the byte-progress callback of :func:`iter_batches`.
    An input that cannot be opened or read to its end goes to ``on_error`` once its lines before
    the failure are processed, and the scan goes on with the next input (without ``on_error``
    the :class:`ReadError` is raised).
    """
    lines = 0
    for path in paths:
        with progress(path) if progress is not None else nullcontext() as advance:
            try:
                for batch in iter_batches(path, on_progress=advance, notify=pipeline.on_message):
                    done = pipeline.process(batch)
                    lines += len(batch)
                    if on_batch is not None:
                        on_batch(done, len(batch))
            except ReadError as exc:
                if on_error is None:
                    raise
                on_error(exc)
    done = pipeline.process([], final=True, ended=True)  # finished inputs: campaigns waiting for quiet report now
    if on_batch is not None:
        on_batch(done, 0)
    return lines
