"""Units of parsing work and the loop that produces them, the same in a local process and a Dask task.

The input is cut exactly as a single-process scan cuts it: each file into batches of
``BATCH_LINES`` lines (:func:`threatlens.sources.iter_batches`), then an end-of-file unit. Units
are numbered in input order. A parsing process reads every line of its files (reading is cheap)
and keeps format detection and the lines held for it in step with a single pass
(:meth:`Pipeline.skip`), but parses only the units it owns. The scanning process takes the units in
order and runs the rest of the pipeline on them (:func:`threatlens.parallel.local.scan_units`).
"""

from __future__ import annotations

import gzip
import os
import pickle
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, BinaryIO, NamedTuple

from threatlens.errors import ReadError, ThreatLensError
from threatlens.parsers import FirewallRecord, LogRecord, RawLine, Unparsed
from threatlens.parsers.record import RECORD_INDEX
from threatlens.pipeline import Pipeline
from threatlens.sources import close_source, open_source, stream_batches

#: Kinds of unit.
BATCH = "batch"  #: one batch of one file, parsed
END = "end"  #: the end of one file, with the lines still held for format detection (and its read error, if any)
ERROR = "error"  #: parsing failed here (the single-process scan would stop here too)


@dataclass(frozen=True)
class ParseSpec:
    """What a parsing process needs to know: the format options of the scan."""

    log_format: str = "auto"
    nginx_conf: str | None = None

    def pipeline(self, on_message: Callable[[str], None]) -> Pipeline:
        """A parse-only pipeline (no detection, no statistics)."""
        return Pipeline(log_format=self.log_format, nginx_conf=self.nginx_conf, on_message=on_message)


class Unit(NamedTuple):
    """One unit of work as it travels to the scanning process."""

    number: int  #: position in input order (all files, batches and ends)
    kind: str  #: BATCH, END or ERROR
    file: int  #: index of the file in the scanned paths
    packed: tuple[bytes, list[tuple[Any, ...]]] | None = None  #: parsed lines or columns (BATCH), see :func:`pack`
    lines: int = 0  #: raw lines read for it (BATCH)
    progress: int = 0  #: bytes of the file consumed when it was read (BATCH)
    messages: tuple[str, ...] = ()  #: what the parser said meanwhile (format detected, ...)
    formats: tuple[tuple[str, str], ...] = ()  #: (file, format name) detected meanwhile
    held: tuple[RawLine, ...] = ()  #: lines of the file held for format detection (END)
    error: BaseException | None = None  #: the exception to raise in the scanning process (ERROR), or the
    #: :class:`ReadError` that ended reading the file early (END)


def parse_units(paths: Sequence[str], spec: ParseSpec, mine: Callable[[int], bool], *, first: int = 0,
                stop: int | None = None, names: Sequence[str] | None = None,
                limits: Sequence[int | None] | None = None) -> Iterator[Unit]:
    """Read ``paths`` in order and yield the units ``mine(index)`` selects, parsed.

    Units are numbered from ``first``; reading stops once the unit numbered ``stop`` (if given)
    has been produced. A file that cannot be opened or read to its end gets its ``END`` unit at
    the place reading stopped, carrying the :class:`ReadError`, and reading goes on with the next
    file. Any other failure yields an ``ERROR`` unit at the current position, whoever owns it, and
    ends the loop: every process stops where a single pass would. ``names`` are the
    names the lines carry (default: ``paths``), for a process that opens the files by another path;
    ``limits`` the sizes of the files when the scan started (see :func:`read_batches`).
    """
    said: list[str] = []
    pipeline = spec.pipeline(said.append)
    index = first
    file_index = 0
    try:
        for file_index, path in enumerate(paths):
            progress = [0]

            def advance(pos: int, progress: list[int] = progress) -> None:
                progress[0] = pos

            name = path if names is None else names[file_index]
            limit = None if limits is None else limits[file_index]
            failed: ReadError | None = None
            batches = read_batches(path, name, advance, limit)
            while True:
                try:
                    batch = next(batches)
                except StopIteration:
                    break
                except ReadError as exc:  # reported at the file's end; the next file is read as usual
                    failed = exc
                    break
                known = len(pipeline.formats)
                if mine(index):
                    packed = pack(pipeline.parse(batch))
                    yield Unit(index, BATCH, file_index, packed, len(batch), progress[0], tuple(said),
                               _new_formats(pipeline, known))
                else:
                    pipeline.skip(batch)
                said.clear()
                if stop is not None and index >= stop:
                    return
                index += 1
            if mine(index):
                yield Unit(index, END, file_index, held=tuple(pipeline.held().get(name, ())), error=failed)
            if stop is not None and index >= stop:
                return
            index += 1
    except Exception as exc:
        yield Unit(index, ERROR, file_index, error=portable(exc))


#: The record types a parsed line may be, by their code in :func:`pack`.
_KINDS: tuple[type, ...] = (LogRecord, FirewallRecord, Unparsed)
_CODE = {kind: code for code, kind in enumerate(_KINDS)}
#: Request fields whose texts repeat within a batch (a client keeps its agent), sent once each by :func:`pack`.
_REPEATED = tuple(RECORD_INDEX[name] for name in ("user", "referer", "user_agent"))


def pack(results: list[LogRecord | FirewallRecord | Unparsed]) -> tuple[bytes, list[tuple[Any, ...]]]:
    """Parsed lines as plain tuples and one type code per line: half the pickling cost of the records.

    A batch of requests only (the usual one) goes as columns, each user, referer and user agent text
    once per batch (pickle writes a repeated object as a reference): a third fewer bytes, and the
    scanning process rebuilds the records in one C loop instead of a Python one per line.
    """
    kinds = bytes(map(_CODE.__getitem__, map(type, results)))
    if kinds.strip(b"\x00"):
        return kinds, list(map(tuple, results))
    columns = list(zip(*results, strict=True))
    for i in _REPEATED if columns else ():
        seen: dict[Any, Any] = {}
        columns[i] = tuple(map(seen.setdefault, columns[i], columns[i]))
    return kinds, columns


def unpack(packed: tuple[bytes, list[tuple[Any, ...]]]) -> list[LogRecord | FirewallRecord | Unparsed]:
    """The records :func:`pack` took apart, the same values and types."""
    kinds, rows = packed
    new = tuple.__new__
    if not kinds.strip(b"\x00"):  # requests only, as columns: the usual batch
        return list(map(new, repeat(LogRecord), zip(*rows, strict=True)))
    return [new(_KINDS[code], row) for code, row in zip(kinds, rows, strict=True)]


def read_batches(path: str, name: str, advance: Callable[[int], None] | None = None,
                 limit: int | None = None) -> Iterator[list[RawLine]]:
    """The batches of :func:`~threatlens.sources.iter_batches` of ``path``, its lines named ``name``.

    ``limit``: read a plain file only up to this many bytes (its size when the scan started), so
    that every process reads the same lines of a log that grows meanwhile.
    """
    opened, _size = open_source(path, name=name)
    stream: Any = opened if limit is None or isinstance(opened, gzip.GzipFile) else _Limited(opened, limit)
    try:
        yield from stream_batches(stream, name, on_progress=advance)
    finally:
        close_source(opened)


class _Limited:
    """A binary stream that ends after ``limit`` bytes."""

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self.stream = stream
        self.left = limit

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        data = self.stream.read(self.left if size < 0 else min(size, self.left))
        self.left -= len(data)
        return data

    def tell(self) -> int:
        return self.stream.tell()


def sizes(paths: Sequence[str]) -> list[int | None]:
    """The size of each file now (``None`` if it cannot be read: the scan reports that itself)."""
    out: list[int | None] = []
    for path in paths:
        try:
            out.append(os.stat(path).st_size)
        except OSError:
            out.append(None)
    return out


def count_batches(path: str, limit: int | None = None) -> int:
    """How many batches ``path`` holds (those before a read error, if one stops it)."""
    n = 0
    try:
        for _batch in read_batches(path, path, limit=limit):
            n += 1
    except ThreatLensError:
        pass  # the parsing pass meets the same error at the same place and reports it
    return n


def _new_formats(pipeline: Pipeline, known: int) -> tuple[tuple[str, str], ...]:
    return tuple(list(pipeline.formats.items())[known:]) if len(pipeline.formats) > known else ()


class ParseFailed(RuntimeError):
    """A bug in a parsing process: its traceback, to be shown by the scanning process."""


def portable(exc: BaseException) -> BaseException:
    """``exc`` itself if it is a user-facing error, else a ``ParseFailed`` carrying its traceback."""
    if isinstance(exc, ThreatLensError):
        try:  # a round trip of our own object, to learn whether the scanning process can load it
            pickle.loads(pickle.dumps(exc))
            return exc
        except Exception:  # an error class that does not survive pickling: keep its text
            return ParseFailed(str(exc))
    text = "".join(traceback.format_exception(exc)).rstrip()
    return ParseFailed(f"a parsing process failed:\n{text}")


def apply_unit(pipeline: Pipeline, unit: Unit) -> Any:
    """Feed one BATCH unit to the scanning pipeline (messages, formats, then the rest of the pipeline)."""
    for text in unit.messages:
        pipeline.on_message(text)
    if unit.formats:
        pipeline.formats.update(unit.formats)
    if unit.packed is None:
        return pipeline.complete([])
    return pipeline.complete(unpack(unit.packed), requests_only=not unit.packed[0].strip(b"\x00"))
