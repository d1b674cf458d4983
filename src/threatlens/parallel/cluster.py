"""``threatlens scan --dask SCHEDULER|local``: the parsing runs as Dask tasks, the scan stays here.

Two passes of tasks: one per file counts its batches (files in parallel); then each file's units
are cut into spans of :data:`SPAN` batches, one task each, which reads the file from its start
(keeping format detection in step) and parses its span only. This process takes the spans back in
input order, a bounded number in flight, and runs the rest of the scan on them exactly as
``-j 1`` would (:func:`threatlens.parallel.local.scan_units`). The workers read the files by their
absolute paths: on a real cluster the logs must be on a file system every worker mounts at the
same place, and ``threatlens`` must be installed on the workers.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any

from threatlens.errors import UsageError
from threatlens.parallel.units import ParseSpec, Unit, count_batches, parse_units, sizes

#: Batches per task: 50,000 lines, a few seconds of parsing, about 25 MB of results.
SPAN = 25
#: Spans in flight per worker: enough to keep each busy while this process consumes results.
AHEAD = 2


def parse_span(path: str, name: str, limit: int | None, spec: ParseSpec, first: int, start: int,
               stop: int) -> list[Unit]:
    """One task: the units ``start..stop`` of the file whose first unit is numbered ``first``."""
    return list(parse_units([path], spec, lambda index: start <= index <= stop, first=first, stop=stop,
                            names=[name], limits=[limit]))


class DaskParsers:
    """Parsing on a Dask cluster (``address``: a scheduler address, or ``local`` for a LocalCluster)."""

    def __init__(self, paths: Sequence[str], spec: ParseSpec, address: str, *, workers: int | None = None,
                 span: int | None = None) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise UsageError("--dask needs Dask: pip install 'threatlens[dask]'") from None
        if len(set(paths)) != len(paths):
            raise UsageError("with --dask, name each file once")
        self.paths = list(paths)
        self.spec = spec
        self.span = span or SPAN
        self.cluster: Any = None
        try:
            if address == "local":
                # loopback only (its HTTP server too): Dask moves tasks and results with pickle, so nothing
                # but this machine may talk to its scheduler and workers
                self.cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                            processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0")
                self.client: Any = Client(self.cluster)
            else:
                self.client = Client(address, timeout=30)
        except OSError as exc:
            self.close()
            raise UsageError(f"--dask {address}: cannot reach the scheduler ({exc})") from None
        self.absolute = [os.path.abspath(p) for p in self.paths]
        self.limits = sizes(self.absolute)  # a log that grows meanwhile is read as it is now, by every task
        self._counts = self.client.map(count_batches, self.absolute, self.limits, pure=False)  # while the model loads

    def plan(self) -> list[tuple[int, int, int, int]]:
        """The parsing tasks in input order: (file index, first unit of the file, first and last unit of the span)."""
        counts = self.client.gather(self._counts)
        tasks = []
        base = 0
        for f, n in enumerate(counts):
            end = base + n  # the file's END (or the place of its read error)
            start = base
            while start <= end:
                stop = min(start + self.span - 1, end)
                tasks.append((f, base, start, stop))
                start = stop + 1
            base = end + 1
        return tasks

    def units(self) -> Iterator[Unit]:
        """Every unit in input order."""
        tasks = deque(self.plan())
        window = AHEAD * max(1, len(self.client.scheduler_info().get("workers", {})))
        futures: deque[Any] = deque()

        def submit() -> None:
            f, base, start, stop = tasks.popleft()
            futures.append((f, self.client.submit(parse_span, self.absolute[f], self.paths[f], self.limits[f],
                                                  self.spec, base, start, stop, pure=False)))

        while tasks and len(futures) < window:
            submit()
        while futures:
            f, future = futures.popleft()
            result: list[Unit] = future.result()
            future.release()
            if tasks:
                submit()
            for unit in result:
                yield unit._replace(file=f)

    def close(self) -> None:
        """Disconnect (and stop the LocalCluster of ``local``)."""
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None
