"""What ``threatlens scan`` shows a person: progress on stderr, and the closing summary tables."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from threatlens.errors import ReadError
from threatlens.textsafe import visible


class _Console(Console):
    """A rich console that lets a closed pipe end the scan as the other outputs do (status 0, quietly)."""

    def on_broken_pipe(self) -> None:
        """Rich's own reaction is ``SystemExit(1)``: ``scan -o table | head -1`` would fail."""
        self.quiet = True
        raise BrokenPipeError


class ScanUi:
    """Messages and progress on stderr (only on a terminal), summary on stdout."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.err = Console(stderr=True, highlight=False, markup=False, emoji=False)
        self.out = _Console(highlight=False, markup=False, emoji=False)
        if not self.out.is_terminal:  # a file or a pipe: room for the request and reasons columns
            self.out = _Console(highlight=False, markup=False, emoji=False, width=160)
        self.show_progress = enabled and self.err.is_terminal
        self.lines = 0
        self.started = time.perf_counter()

    def info(self, text: str) -> None:
        """A notice for the user (format chosen, file rotated, export written)."""
        self.err.print(Text("threatlens: " + visible(text), style="dim"), soft_wrap=True)

    def warn(self, text: str) -> None:
        """A warning (missing GeoIP database, unreadable path while following)."""
        self.err.print(Text("threatlens: warning: " + visible(text), style="yellow"), soft_wrap=True)

    def error(self, text: str) -> None:
        """An input error the scan goes on after (an input that cannot be opened or read to its end)."""
        self.err.print(Text("threatlens: error: " + visible(text), style="red"), soft_wrap=True)

    def restart_clock(self) -> None:
        """Count elapsed time from now (after start-up) for the summary's lines/s."""
        self.started = time.perf_counter()

    def count(self, n: int) -> None:
        """Lines processed so far."""
        self.lines += n

    @contextmanager
    def progress_for(self, path: str) -> Iterator[Callable[[int], None] | None]:
        """A progress bar for one input of known size (bytes and lines/s), on a terminal only."""
        size = None
        if path != "-":
            import os

            try:
                size = os.path.getsize(path)
            except OSError:
                size = None
        if not self.show_progress or not size or size < 8 << 20:
            yield None
            return
        start_lines, start = self.lines, time.perf_counter()
        progress = Progress(
            TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(), console=self.err, transient=True)
        task = progress.add_task(path[-40:], total=size, rate="")

        def advance(done: int) -> None:
            elapsed = max(time.perf_counter() - start, 1e-9)
            rate = f"{(self.lines - start_lines) / elapsed:,.0f} lines/s"
            progress.update(task, completed=done, rate=rate)

        with progress:
            yield advance

    def summary(self, stats: Any, pipeline: Any, *, top: int = 10, files: int = 1,
                incomplete: Sequence[ReadError] = (), interrupted: str | None = None) -> None:
        """The closing report: totals, flagged requests, alerts, top tables (``files``: inputs read).

        ``incomplete`` (inputs not read to their end) and ``interrupted`` (the signal that stopped the
        scan) are said at its top and its end: the summary then covers part of the input.
        """
        from threatlens.commands.scan_report import render_summary

        elapsed = time.perf_counter() - self.started
        render_summary(self.out, stats, pipeline, top=top, elapsed=elapsed, files=files, incomplete=incomplete,
                       interrupted=interrupted)

