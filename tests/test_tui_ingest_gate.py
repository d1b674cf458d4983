"""The ingestion process's gate: while its main thread answers the UI, the ingest thread waits between chunks."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from threatlens.tui.ingest import GATED_CHUNK, Ingestor, build_live
from threatlens.tui.options import MonitorOptions
from tui_support import attack_lines, normal_lines, write_log


def _counted(live) -> int:
    return live.totals.lines


@contextlib.contextmanager
def _ingesting(opts, pipeline, live, gate: threading.Event) -> Iterator[None]:
    """The ingest thread running ``Ingestor`` with ``gate`` until the block ends (the gate opened to let it stop)."""
    stop = threading.Event()
    ingestor = Ingestor(opts, pipeline, live, on_note=lambda *a: None, on_progress=lambda *a: None, gate=gate)
    thread = threading.Thread(target=ingestor.run, args=(stop.is_set,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        gate.set()
        thread.join(10)


def test_a_closed_gate_holds_ingestion_between_chunks_and_nothing_is_lost(tmp_path: Path) -> None:
    n = 3 * GATED_CHUNK + 17
    log = write_log(tmp_path / "access.log", (normal_lines(40) + attack_lines(10)) * (n // 50) + normal_lines(n % 50))
    opts = MonitorOptions(paths=[str(log)], from_start=True, log_format="combined")
    live, pipeline = build_live(opts, None, time.time)
    gate = threading.Event()  # closed: the main thread is "answering"
    chunks: list[int] = []
    parse = pipeline.parse

    def counting(lines, **kwargs):  # the real pipeline, its calls recorded
        chunks.append(len(lines))
        return parse(lines, **kwargs)

    pipeline.parse = counting
    with _ingesting(opts, pipeline, live, gate):
        time.sleep(1.0)  # the follower has read the file; the ingest thread waits at the gate
        assert _counted(live) == 0 and chunks == []
        gate.set()
        deadline = time.monotonic() + 30
        while _counted(live) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _counted(live) == n  # every line, once
        assert max(chunks) <= GATED_CHUNK and sum(chunks) == n, chunks
        gate.clear()  # closed again: new lines wait, then go through when it opens
        write_log(log, normal_lines(25, start=10_000), mode="a")
        time.sleep(1.0)
        assert _counted(live) == n
        gate.set()
        deadline = time.monotonic() + 30
        while _counted(live) < n + 25 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _counted(live) == n + 25


def test_a_gate_closed_while_a_chunk_is_parsed_holds_its_counting(tmp_path: Path) -> None:
    """The gate is also checked between parsing a chunk and counting it: a request that arrives meanwhile waits
    for the parsing half only; the chunk is counted, whole, once the gate opens."""
    n = 2 * GATED_CHUNK
    log = write_log(tmp_path / "access.log", (normal_lines(40) + attack_lines(10)) * (n // 50))
    opts = MonitorOptions(paths=[str(log)], from_start=True, log_format="combined")
    live, pipeline = build_live(opts, None, time.time)
    gate = threading.Event()
    gate.set()
    parse = pipeline.parse
    parsed: list[int] = []

    def closing(lines, **kwargs):  # the main thread takes a request while the second chunk is being parsed
        out = parse(lines, **kwargs)
        parsed.append(len(lines))
        if len(parsed) == 2:
            gate.clear()
        return out

    pipeline.parse = closing
    with _ingesting(opts, pipeline, live, gate):
        deadline = time.monotonic() + 30
        while len(parsed) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.5)
        assert len(parsed) == 2 and sum(parsed) <= n
        assert _counted(live) == parsed[0]  # the first chunk only: the second, parsed, waits to be counted
        gate.set()
        deadline = time.monotonic() + 30
        while _counted(live) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _counted(live) == n
