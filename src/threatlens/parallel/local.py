"""``threatlens scan -j N``: N-1 local processes parse, this one scores, watches, counts and writes.

Each parsing process reads all the input and parses every (N-1)-th batch (round robin, so the
processes stay in step); it sends the parsed batch through its own bounded queue, so memory stays
a few batches per process whatever the input size. The scanning process takes the batches back in
input order (:func:`scan_units`) and runs the stateful rest of the pipeline on each.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import signal
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from threatlens.collector import collect_less
from threatlens.errors import ReadError
from threatlens.parallel.units import BATCH, END, ERROR, ParseSpec, Unit, apply_unit, parse_units, sizes
from threatlens.pipeline import Pipeline, Processed

#: Parsed batches a parsing process may have ready before the scanning process takes them.
AHEAD = 4
#: The signals that stop a scan.
_STOPS = {signal.SIGINT, signal.SIGTERM}
#: Seconds between checks that a parsing process is still alive while waiting for its batch.
POLL = 1.0


class LocalParsers:
    """``workers`` parsing processes over ``paths``, started at once (before the model loads)."""

    def __init__(self, paths: Sequence[str], spec: ParseSpec, workers: int) -> None:
        if workers < 1:
            raise ValueError("at least one parsing process")
        ctx = mp.get_context("spawn")  # a clean interpreter: safe whatever threads this process runs
        self.paths = list(paths)
        self.queues = [ctx.Queue(maxsize=AHEAD) for _ in range(workers)]
        limits = sizes(self.paths)  # a log that grows meanwhile is read as it is now, by every process alike
        self.processes = [
            ctx.Process(target=_work, args=(self.paths, spec, w, workers, q, os.getpid(), limits), daemon=True,
                        name=f"threatlens-parse-{w}")
            for w, q in enumerate(self.queues)
        ]
        # Ctrl-C reaches the whole process group: the parsing processes hold it from their first instruction
        # (the mask survives exec) and ignore it once they run, leaving it to this process.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
        try:
            for p in self.processes:
                p.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def units(self) -> Iterator[Unit]:
        """Every unit in input order, from the process that owns it."""
        index = 0
        n = len(self.queues)
        while True:
            unit = self._get(index % n)
            if unit.number != index:
                raise RuntimeError(f"parsing process sent unit {unit.number}, expected {index}")
            yield unit
            if unit.kind == ERROR or (unit.kind == END and unit.file == len(self.paths) - 1):
                return
            index += 1

    def _get(self, w: int) -> Unit:
        q = self.queues[w]
        while True:
            try:
                unit: Unit = q.get(timeout=POLL)
                return unit
            except queue.Empty:
                p = self.processes[w]
                if not p.is_alive():
                    raise RuntimeError(f"parsing process {p.name} ended unexpectedly "
                                       f"(exit status {p.exitcode})") from None

    def close(self) -> None:
        """Stop the parsing processes (they may still be reading ahead) and reap them."""
        for p in self.processes:
            if p.is_alive():
                p.kill()
        for p in self.processes:
            p.join()
        for q in self.queues:
            q.close()
            q.cancel_join_thread()

    def __enter__(self) -> LocalParsers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _work(paths: list[str], spec: ParseSpec, w: int, n: int, out: Any, parent: int,
          limits: list[int | None]) -> None:
    """A parsing process: parse the units ``w, w+n, w+2n, ...`` and put them on ``out`` in order."""
    # Ctrl-C and SIGTERM are the scanning process's to handle: it finishes the exports, then ends us.
    for signum in _STOPS:
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)
    collect_less()
    for unit in parse_units(paths, spec, lambda index: index % n == w, limits=limits):
        while True:
            try:
                out.put(unit, timeout=POLL)
                break
            except queue.Full:
                if os.getppid() != parent:  # the scanning process is gone: nobody will read
                    return
        if unit.kind == ERROR:
            break
    out.close()
    out.join_thread()


def scan_units(
    pipeline: Pipeline,
    paths: Sequence[str],
    units: Iterable[Unit],
    *,
    on_batch: Callable[[Processed, int], None] | None = None,
    progress: Callable[[str], AbstractContextManager[Callable[[int], None] | None]] | None = None,
    on_error: Callable[[ReadError], None] | None = None,
) -> int:
    """Run parsed units through the rest of ``pipeline`` in order, like :func:`threatlens.scanner.scan_paths`.

    ``on_batch``, ``progress`` and ``on_error`` are called exactly as there: the same batches, the
    same read errors at the same places, then the final flush.
    """
    lines = 0
    stream = iter(units)
    for file_index, path in enumerate(paths):
        with progress(path) if progress is not None else nullcontext() as advance:
            for unit in stream:
                if unit.kind == ERROR:
                    assert unit.error is not None
                    raise unit.error
                if unit.file != file_index:
                    raise RuntimeError(f"unit {unit.number} of file {unit.file} while reading file {file_index}")
                if unit.kind == END:
                    pipeline.hold(path, unit.held)
                    if isinstance(unit.error, ReadError):
                        if on_error is None:
                            raise unit.error
                        on_error(unit.error)
                    break
                assert unit.kind == BATCH
                done = apply_unit(pipeline, unit)
                lines += unit.lines
                if on_batch is not None:
                    on_batch(done, unit.lines)
                if advance is not None:
                    with contextlib.suppress(OSError, ValueError):
                        advance(unit.progress)
    done = pipeline.process([], final=True, ended=True)  # finished inputs: campaigns waiting for quiet report now
    if on_batch is not None:
        on_batch(done, 0)
    return lines
