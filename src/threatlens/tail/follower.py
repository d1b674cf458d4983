"""``Follower``: the ``tail -F`` of ThreatLens, following files through rotation, in batches."""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO, Literal, NamedTuple, TypeVar

from threatlens.parsers.record import RawLine
from threatlens.tail.batches import BatchQueue
from threatlens.tail.lines import DEFAULT_MAX_LINE_BYTES
from threatlens.tail.openfile import OpenFile
from threatlens.tail.position import count_newlines, start_of_last_lines
from threatlens.tail.stream import StreamReader

if TYPE_CHECKING:  # watchdog loads only when a follower starts watching (a plain scan never does)
    from threatlens.tail.watch import DirWatcher

_log = logging.getLogger("threatlens.tail")

#: A rotated file still written to after this long no longer holds back the new file.
_MAX_HOLD = 30.0
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)

_T = TypeVar("_T")
OnMessage = Callable[[str, str], None]
OnBatch = Callable[[list[RawLine]], None]


class FollowerError(RuntimeError):
    """The follower's reader thread failed; the original exception is the ``__cause__``."""


class SourceStats(NamedTuple):
    """Progress of one followed source."""

    lines: int
    bytes: int
    offset: int | None
    status: str


_LEVELS = {"error": logging.ERROR, "warning": logging.WARNING}


def _default_message(level: str, text: str) -> None:
    _log.log(_LEVELS.get(level, logging.INFO), text)


class _PathState:
    """Everything the follower knows about one followed path."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.abspath = os.path.abspath(name)
        self.parent = os.path.dirname(self.abspath)
        self.current: OpenFile | None = None
        self.old: list[OpenFile] = []  # rotated inodes still being read, oldest first
        self.problem: str | None = None  # last reported condition, so each is reported once
        self.initial_identity: tuple[int, int] | None = None
        self.initial = True  # the start position options apply to the file present at start
        self.lines = 0
        self.bytes = 0
        self.status = "starting"


class Follower:
    r"""Follow files (and ``-`` for standard input) and deliver their new lines in batches.

    Lines come as lists of :class:`~threatlens.parsers.record.RawLine`: ``file`` is the
    path as given, ``line`` counts from 1 in each file the path names (a new file after
    rotation, or the same file after a truncation, starts again at 1; the change is
    announced through ``on_message``), ``offset`` is the byte offset in that file, and
    ``data`` is the line without its ``\n`` or ``\r\n``.

    Either iterate :meth:`batches` or pass ``on_batch`` to get the batches on a background
    thread. A bounded queue sits in between: when the consumer is slow the reader waits
    (the lines wait in the file), so nothing is dropped and memory stays bounded.

    Change notification comes from watchdog (inotify on Linux) on each path's parent
    directory; every ``recheck_interval`` seconds the paths are checked anyway, so a
    missed event never stalls. ``poll=True`` checks every ``poll_interval`` seconds
    instead, for NFS and other places where notifications are silent.

    After a rename (or delete) rotation the old file stays open: it is read to its end
    and the new file waits until the old one was quiet for ``rotate_grace`` seconds, so
    lines arrive in the order they were written; late writes to the old file are still
    read for ``rotate_linger`` seconds. An old file that ends inside a line holds the new
    one for up to ``rotate_linger`` seconds: the server finishes that line in the old file
    (it writes there until it reopens its log), so the halves of a line written seconds
    apart stay one line; a line still unfinished then is delivered as it is (it is never
    joined with the new file, whose first line may be a whole one from a restarted server).
    After an in-place truncation (copytruncate) the writer's unfinished line is joined
    with the first bytes written after it (see :class:`~threatlens.tail.openfile.OpenFile`).

    Start position (for the files present at :meth:`start`; files that appear later are
    read from their start): ``start="end"`` (default; an unfinished last line is kept
    whole), ``"start"``, or ``backfill=N`` for the last N lines, found by reading
    backwards from the end. Line numbers of a file started in its middle are exact when
    the part skipped is at most ``count_lines_limit`` bytes (counted once, quickly);
    beyond that they count from the start point and a message says so.

    Other options: ``batch_interval`` (a quiet source is delivered at once, a busy one
    at most that often unless ``max_batch_lines`` are ready), ``max_pending_lines`` /
    ``max_pending_bytes`` (the backpressure bound), ``max_line_bytes`` (longer lines are
    delivered in pieces sharing one line number), ``streams`` (name -> binary stream,
    read like ``-``), ``min_check_interval`` (events are coalesced for this long).
    """

    def __init__(
        self,
        paths: Sequence[str | os.PathLike[str]],
        *,
        start: Literal["end", "start"] = "end",
        backfill: int | None = None,
        poll: bool = False,
        poll_interval: float = 0.25,
        batch_interval: float = 0.1,
        max_batch_lines: int = 5000,
        max_pending_lines: int = 100_000,
        max_pending_bytes: int = 64 << 20,
        on_message: OnMessage | None = None,
        on_batch: OnBatch | None = None,
        recheck_interval: float = 1.0,
        rotate_grace: float = 1.0,
        rotate_linger: float = 10.0,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        count_lines_limit: int = 256 << 20,
        read_budget: int = 4 << 20,
        min_check_interval: float = 0.01,
        streams: Mapping[str, BinaryIO] | None = None,
    ) -> None:
        if start not in ("end", "start"):
            raise ValueError(f"start must be 'end' or 'start', not {start!r}")
        if backfill is not None and (backfill < 0 or start != "end"):
            raise ValueError("backfill must be >= 0 and only goes with start='end'")
        names = list(dict.fromkeys(os.fspath(p) for p in paths))
        if not names:
            raise ValueError("no paths to follow")
        streams = dict(streams or {})
        self._stream_names = [n for n in names if n == "-" or n in streams]
        self._paths = [_PathState(n) for n in names if n not in self._stream_names]
        self._streams = streams
        self.start_at = start
        self.backfill = backfill
        self.poll = poll
        self.poll_interval = poll_interval
        self.recheck_interval = recheck_interval
        self.rotate_grace = rotate_grace
        self.rotate_linger = max(rotate_linger, rotate_grace)
        self.max_line_bytes = max_line_bytes
        self.count_lines_limit = count_lines_limit
        self.read_budget = read_budget
        self.min_check_interval = min_check_interval
        self._on_message = on_message or _default_message
        self._on_batch = on_batch
        producers = (1 if self._paths else 0) + len(self._stream_names)
        self._queue = BatchQueue(
            batch_interval=batch_interval,
            max_batch_lines=max_batch_lines,
            max_pending_lines=max_pending_lines,
            max_pending_bytes=max_pending_bytes,
            producers=producers,
        )
        self._wake = threading.Event()
        self._stop_event = threading.Event()
        self._stopping = False
        self._started = False
        self._stopped = False
        self._watcher: DirWatcher | None = None
        self._watched_dirs: frozenset[str] = frozenset()
        self._watch_ok = False
        self._next_watch_check = 0.0
        self._threads: list[threading.Thread] = []
        self._engine: threading.Thread | None = None
        self._delivery: threading.Thread | None = None
        self._readers: list[StreamReader] = []
        self.error: BaseException | None = None
        self._error_raised = False

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Follower:
        """Open the files, fix their start positions, and start the background threads.

        Start positions are settled before this returns: with ``start="end"`` a line
        written after ``start()`` is always delivered.
        """
        if self._started:
            raise RuntimeError("follower already started")
        self._started = True
        if self._paths:
            if not self.poll:
                from threatlens.tail.watch import DirWatcher

                self._watcher = DirWatcher(self._wake.set, self._notify)
                self._watcher.start()
            for ps in self._paths:
                self._guard(ps, self._locate, ps)
                ps.initial = False
            self._update_watches(force=True)
            self._engine = self._spawn(self._run, "threatlens-tail")
        for name in self._stream_names:
            stream = self._streams.get(name) or sys.stdin.buffer
            reader = StreamReader(
                name,
                stream,
                self._queue.put,
                self._notify,
                lambda: self._stopping,
                max_line_bytes=self.max_line_bytes,
            )
            self._readers.append(reader)
            self._spawn(self._run_stream, f"threatlens-tail-{name}", reader)
        if self._on_batch is not None:
            self._delivery = self._spawn(self._deliver, "threatlens-tail-deliver")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop following: read what is there, deliver final unfinished lines, end the batches.

        Lines already queued are still delivered (the iterator ends after them; in
        callback mode this waits for them). Re-raises an exception from ``on_batch``.
        """
        if self._stopped:
            return
        self._stopped = True
        if not self._started:
            self._queue.close()
            return
        self._request_stop()
        deadline = time.monotonic() + timeout
        if self._engine is not None:
            self._engine.join(max(0.0, deadline - time.monotonic()))
        if self._watcher is not None:
            self._watcher.stop()
        for t in self._threads:
            if t is not self._delivery and t is not threading.current_thread():
                t.join(min(1.0, max(0.0, deadline - time.monotonic())))
        self._queue.close()  # a reader stuck in a blocking read must not hold up the end
        if self._delivery is not None and self._delivery is not threading.current_thread():
            self._delivery.join(max(0.0, deadline - time.monotonic()))
        if self.error is not None and self._on_batch is not None and not self._error_raised:
            self._error_raised = True
            raise self.error

    def check_now(self) -> None:
        """Look at every path right away instead of waiting for an event or the next poll."""
        self._wake.set()

    def __enter__(self) -> Follower:
        if not self._started:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ----------------------------------------------------------------- consuming

    def batches(self, timeout: float | None = None) -> Iterator[list[RawLine]]:
        """Yield batches of new lines until the follower is stopped (or every stream ended).

        With ``timeout``, an empty list is yielded whenever no line arrived for that
        many seconds, so a caller can refresh a display or check a deadline. Starts the
        follower if needed. Raises :class:`FollowerError` if the reader thread failed.
        """
        if self._on_batch is not None:
            raise RuntimeError("this follower delivers to on_batch; batches() is for iterator mode")
        if not self._started:
            self.start()
        while True:
            batch = self._queue.get(timeout)
            if batch is None:
                break
            yield batch
        self._raise_error()

    def get_batch(self, timeout: float | None = None) -> list[RawLine] | None:
        """Return the next batch, ``[]`` after ``timeout`` seconds without lines, None at the end."""
        batch = self._queue.get(timeout)
        if batch is None:
            self._raise_error()
        return batch

    # ----------------------------------------------------------------- statistics

    @property
    def lines_read(self) -> int:
        """Lines read from all sources so far (delivered or waiting in the queue)."""
        return sum(ps.lines for ps in self._paths) + sum(r.lines_read for r in self._readers)

    @property
    def bytes_read(self) -> int:
        """Bytes read from all sources so far."""
        return sum(ps.bytes for ps in self._paths) + sum(r.bytes_read for r in self._readers)

    @property
    def pending(self) -> int:
        """Lines read but not yet handed to the consumer."""
        return self._queue.pending

    def stats(self) -> dict[str, SourceStats]:
        """Per source: lines and bytes read, current offset and a short status."""
        out: dict[str, SourceStats] = {}
        for ps in self._paths:
            cur = ps.current
            out[ps.name] = SourceStats(ps.lines, ps.bytes, cur.offset if cur else None, ps.status)
        for r in self._readers:
            status = "ended" if r.ended else "reading"
            out[r.name] = SourceStats(r.lines_read, r.bytes_read, r.asm.pos, status)
        return out

    # ----------------------------------------------------------------- threads

    def _spawn(self, target: Callable[..., None], name: str, *args: object) -> threading.Thread:
        t = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(t)
        t.start()
        return t

    def _request_stop(self) -> None:
        self._stopping = True
        self._stop_event.set()
        self._queue.release()
        self._wake.set()

    def _notify(self, level: str, text: str) -> None:
        try:
            self._on_message(level, text)
        except Exception:  # a broken message sink must not stop the reading
            _log.exception("on_message failed for: %s", text)

    def _raise_error(self) -> None:
        if self.error is not None and not self._error_raised:
            self._error_raised = True
            raise FollowerError(f"following stopped: {self.error!r}") from self.error

    def _deliver(self) -> None:
        on_batch = self._on_batch
        assert on_batch is not None
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            try:
                on_batch(batch)
            except Exception as exc:
                self.error = exc
                self._notify("error", f"on_batch failed, stopping: {exc!r}")
                self._request_stop()
                return

    def _run_stream(self, reader: StreamReader) -> None:
        try:
            reader.run()
        except Exception as exc:
            self.error = exc
            self._notify("error", f"{reader.name}: reading stopped after an internal error: {exc!r}")
        finally:
            self._queue.producer_done()

    def _run(self) -> None:
        try:
            while not self._stopping:
                self._wake.clear()
                began = time.monotonic()
                more, due = self._cycle()
                if more:
                    continue
                timeout = self.poll_interval if self.poll or not self._watch_ok else self.recheck_interval
                if due is not None:
                    timeout = min(timeout, max(0.0, due - time.monotonic()) + 0.002)
                if self._wake.wait(timeout) and not self._stopping:
                    # A busy file sends an event per write: let them pile up a few
                    # milliseconds and read them with one look instead of hundreds.
                    rest = began + self.min_check_interval - time.monotonic()
                    if rest > 0:
                        self._stop_event.wait(rest)
            for ps in self._paths:
                self._guard(ps, self._final_read, ps)
        except Exception as exc:
            self.error = exc
            self._notify("error", f"following stopped after an internal error: {exc!r}")
        finally:
            for ps in self._paths:
                for f in [*ps.old, ps.current]:
                    if f is not None:
                        f.close()
                ps.old.clear()
                ps.current = None
            self._queue.producer_done()

    def _cycle(self) -> tuple[bool, float | None]:
        more = False
        due: float | None = None
        for ps in self._paths:
            self._guard(ps, self._locate, ps)
            result = self._guard(ps, self._read_path, ps)
            if result is not None:
                more |= result[0]
                if result[1] is not None:
                    due = result[1] if due is None else min(due, result[1])
        self._update_watches()
        return more, due

    def _guard(self, ps: _PathState, fn: Callable[[_PathState], _T], arg: _PathState) -> _T | None:
        """Run one per-path step; an OS error is reported and the other paths go on."""
        try:
            return fn(arg)
        except OSError as exc:
            self._report(ps, f"{ps.name}: {exc.strerror or exc}", level="error")
            return None

    # ----------------------------------------------------------------- per path

    def _emitter(self, ps: _PathState) -> Callable[[list[RawLine], int], None]:
        put = self._queue.put

        def emit(lines: list[RawLine], nbytes: int) -> None:
            put(lines, nbytes)
            ps.lines += len(lines)
            ps.bytes += nbytes

        return emit

    def _report(self, ps: _PathState, text: str, *, level: str = "error", status: str | None = None) -> None:
        ps.status = status or text
        if ps.problem != text:
            ps.problem = text
            self._notify(level, text)

    def _locate(self, ps: _PathState) -> None:
        """Find out which file the path names now; detect rotation, deletion, replacement."""
        name = ps.name
        try:
            st = os.stat(name)
        except (FileNotFoundError, NotADirectoryError):
            self._gone(ps)
            return
        except PermissionError as exc:
            self._report(ps, f"permission denied: {name} ({exc.strerror})")
            return
        if ps.initial and ps.initial_identity is None:
            ps.initial_identity = (st.st_dev, st.st_ino)
        cur = ps.current
        if cur is not None and cur.identity == (st.st_dev, st.st_ino):
            return
        if stat.S_ISDIR(st.st_mode):
            self._retire(ps)
            self._report(ps, f"{name} is a directory; not following it (other paths go on)")
            return
        if not stat.S_ISREG(st.st_mode):
            self._retire(ps)
            self._report(ps, f"{name} is not a regular file; not following it (other paths go on)")
            return
        try:
            fd = os.open(name, _OPEN_FLAGS)
        except FileNotFoundError:
            self._gone(ps)
            return
        except PermissionError as exc:
            self._retire(ps)
            self._report(ps, f"permission denied: {name} ({exc.strerror})")
            return
        self._adopt(ps, fd)

    def _adopt(self, ps: _PathState, fd: int) -> None:
        """Make the just opened ``fd`` the path's current file."""
        try:
            fst = os.fstat(fd)
            ident = (fst.st_dev, fst.st_ino)
            cur = ps.current
            if not stat.S_ISREG(fst.st_mode) or (cur is not None and cur.identity == ident):
                os.close(fd)
                return
            for f in ps.old:
                if f.identity == ident:  # renamed away and back again: continue where we were
                    os.close(fd)
                    ps.old.remove(f)
                    self._retire(ps)
                    f.rotated_at = None
                    ps.current = f
                    self._report(
                        ps,
                        f"{ps.name}: the earlier file is back; continuing",
                        level="info",
                        status="following",
                    )
                    return
            was_problem = ps.problem
            rotated = self._retire(ps, announce=True)
            offset, line = self._start_position(ps, fd, fst, ident)
            ps.current = OpenFile(
                fd,
                fst,
                ps.name,
                offset=offset,
                line=line,
                max_line_bytes=self.max_line_bytes,
                notify=self._notify,
            )
        except BaseException:
            os.close(fd)
            raise
        ps.status = "following"
        ps.problem = None
        if not ps.initial and not rotated:
            why = "is readable now" if was_problem and "waiting" not in was_problem else "appeared"
            self._notify("info", f"{ps.name} {why}; following it from the start")

    def _start_position(self, ps: _PathState, fd: int, fst: os.stat_result, ident: tuple[int, int]) -> tuple[int, int]:
        """Offset and line count to start from: the options apply only to the file there at start."""
        if not ps.initial or ident != ps.initial_identity or self.start_at == "start":
            return 0, 0
        n = self.backfill or 0
        offset = start_of_last_lines(fd, fst.st_size, n, max_scan=None if n else self.max_line_bytes)
        line = count_newlines(fd, offset, self.count_lines_limit)
        if line is None:
            self._notify(
                "info",
                f"{ps.name}: too large to count its lines quickly; line numbers count from byte "
                f"offset {offset} (offsets are exact)",
            )
            line = 0
        return offset, line

    def _retire(self, ps: _PathState, *, announce: bool = False) -> bool:
        """Move the current file to the rotated ones, which are read to their end first."""
        cur = ps.current
        if cur is None:
            return False
        ps.current = None
        if announce:
            if os.path.islink(ps.name):
                target = os.path.realpath(ps.name)
                what = f"symlink now points to {target}; finishing the old target, then following the new"
            elif cur.links() == 0:
                what = "replaced (the old file was deleted); finishing it, then following the new"
            else:
                what = "rotated (renamed, new file created); finishing the old file, then following the new"
            self._notify("info", f"{ps.name}: {what} one from its start (line numbers restart at 1)")
        now = time.monotonic()
        cur.rotated_at = now
        cur.last_growth = now
        ps.old.append(cur)
        return True

    def _gone(self, ps: _PathState) -> None:
        cur = ps.current
        if cur is not None:
            links = cur.links()
            self._retire(ps)
            how = "was deleted" if links == 0 else "was moved away (rotated)"
            text = f"{ps.name} {how}; reading the rest of the old file, waiting for {ps.name} to reappear"
            self._report(ps, text, level="info", status="waiting")
            ps.problem = "waiting"
        elif ps.problem != "waiting":
            self._report(ps, f"waiting for {ps.name} to appear", level="info", status="waiting")
            ps.problem = "waiting"

    def _read_path(self, ps: _PathState) -> tuple[bool, float | None]:
        """Read the rotated files in order, then (unless one still holds it back) the current one."""
        emit = self._emitter(ps)
        more = False
        due: float | None = None
        for f in list(ps.old):
            try:
                more |= f.read(self.read_budget, emit)
            except OSError as exc:
                self._notify("error", f"{ps.name}: reading the rotated file failed ({exc.strerror or exc})")
                f.flush(emit)
                f.close()
                ps.old.remove(f)
                continue
            now = time.monotonic()
            quiet = now - f.last_growth
            if f.at_eof and quiet >= self.rotate_linger:
                f.flush(emit)
                f.close()
                ps.old.remove(f)
                continue
            # An unfinished last line means its writer is mid-line: the rest goes to this file (logrotate's
            # rename; the server writes here until it reopens), so wait for it up to rotate_linger.
            holding = not f.at_eof or quiet < (self.rotate_linger if f.asm.partial else self.rotate_grace)
            if holding and f.rotated_at is not None and now - f.rotated_at < _MAX_HOLD:
                return more, (None if not f.at_eof else f.last_growth + self.rotate_grace)
            if not f.partial_flushed:
                f.flush(emit)
                f.partial_flushed = True
            if holding:
                self._notify(
                    "warning",
                    f"{ps.name}: the rotated file is still written to {_MAX_HOLD:.0f} s after rotation "
                    "(did the server reopen its log?); reading it and the new file side by side",
                )
                f.rotated_at = None
            lingering_until = f.last_growth + self.rotate_linger
            due = lingering_until if due is None else min(due, lingering_until)
        cur = ps.current
        if cur is not None:
            try:
                more |= cur.read(self.read_budget, emit)
            except OSError as exc:
                self._notify("error", f"{ps.name}: read error ({exc.strerror or exc}); reopening")
                cur.flush(emit)
                cur.close()
                ps.current = None
        return more, due

    def _final_read(self, ps: _PathState) -> None:
        emit = self._emitter(ps)
        for f in [*ps.old, ps.current]:
            if f is None:
                continue
            with contextlib.suppress(OSError):
                f.read(self.read_budget, emit)
            f.flush(emit)

    # ----------------------------------------------------------------- watching

    def _update_watches(self, *, force: bool = False) -> None:
        watcher = self._watcher
        if watcher is None:
            return
        dirs: set[str] = set()
        files: set[str] = set()
        any_old = False
        for ps in self._paths:
            dirs.add(ps.parent)
            files.add(ps.abspath)
            any_old = any_old or bool(ps.old)
            if os.path.islink(ps.abspath):
                real = os.path.realpath(ps.abspath)
                dirs.add(os.path.dirname(real))
                files.add(real)
        now = time.monotonic()
        frozen = frozenset(dirs)
        if force or frozen != self._watched_dirs or now >= self._next_watch_check:
            self._watch_ok = watcher.update(frozen) and not watcher.failed
            self._watched_dirs = frozen
            self._next_watch_check = now + self.recheck_interval
        # While rotated files are drained, their writes (under other names) must wake us too.
        watcher.set_filter(files, any_event=any_old)


def follow_stream(stream: BinaryIO, name: str = "-", **options: object) -> Iterator[list[RawLine]]:
    """Yield batches of lines read from ``stream`` (a pipe, standard input) until end of file.

    ``options`` are :class:`Follower` keyword arguments (``batch_interval``,
    ``max_batch_lines``, ``on_message``...). Closing the generator stops the reading.
    """
    with Follower([name], streams={name: stream}, **options) as follower:  # type: ignore[arg-type]
        yield from follower.batches()
