"""Following files: start positions, partial lines, batching, backpressure, streams, stats."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import pytest

from tail_support import (
    Collector,
    append,
    check_numbering,
    follow,
    join_lines,
    numbered,
    wait_bytes_read,
)
from threatlens.parsers.record import RawLine
from threatlens.tail import Follower, FollowerError, follow_stream
from threatlens.tail.openfile import CHUNK_BYTES


def test_default_start_is_the_end_and_numbers_continue(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(b"old 1\nold 2\n")
    col = Collector()
    f = follow([log], col)
    try:
        append(log, b"new 3\nnew 4\n")
        col.wait_data([b"new 3", b"new 4"])
        assert [(r.file, r.line, r.offset) for r in col.lines] == [(str(log), 3, 12), (str(log), 4, 18)]
    finally:
        f.stop()


def test_start_at_end_keeps_an_unfinished_last_line_whole(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"done\nhal")
    col = Collector()
    f = follow([log], col)
    try:
        append(log, b"f done\n")
        col.wait_data([b"half done"])
        assert col.lines[0].line == 2 and col.lines[0].offset == 5
    finally:
        f.stop()


def test_from_start_reads_everything_then_follows(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"l1\r\nl2\n")
    col = Collector()
    f = follow([log], col, start="start")
    try:
        col.wait_count(2)
        append(log, b"l3\n")
        col.wait_data([b"l1", b"l2", b"l3"])
        assert [r.offset for r in col.lines] == [0, 4, 7]
    finally:
        f.stop()


@pytest.mark.parametrize(
    ("content", "n", "expected"),
    [
        (b"a\nb\nc\nd\n", 2, [(3, b"c"), (4, b"d")]),
        (b"a\nb\nc\nd\n", 10, [(1, b"a"), (2, b"b"), (3, b"c"), (4, b"d")]),
        (b"a\nb\nc\nd", 2, [(3, b"c"), (4, b"d+")]),  # the unfinished last line counts as one
        (b"a\nb\n", 0, []),
    ],
)
def test_backfill_starts_with_the_last_n_lines(
    tmp_path: Path, content: bytes, n: int, expected: list[tuple[int, bytes]]
) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(content)
    col = Collector()
    f = follow([log], col, backfill=n)
    try:
        append(log, b"+\n" if not content.endswith(b"\n") else b"e\n")
        tail = [] if not content.endswith(b"\n") else [(content.count(b"\n") + 1, b"e")]
        want = expected + tail
        col.wait_count(len(want))
        assert [(r.line, r.data) for r in col.lines] == want
    finally:
        f.stop()


def test_line_numbers_of_a_file_too_large_to_count_start_at_the_start_point(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"x" * 100 + b"\n" + b"a\nb\n")
    col = Collector()
    f = follow([log], col, backfill=1, count_lines_limit=50)
    try:
        col.wait_data([b"b"])
        assert col.lines[0].line == 1 and col.lines[0].offset == 103
        assert col.has_message("line numbers count from byte offset 103")
    finally:
        f.stop()


def test_partial_line_written_in_pieces_is_delivered_once_whole(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    col = Collector()
    f = follow([log], col)
    try:
        pieces = [b'1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET /a', b' HTTP/1.1" 200 ', b"5"]
        written = 0
        for p in pieces:
            append(log, p)
            written += len(p)
            wait_bytes_read(f, written)  # the follower has seen this piece...
            assert col.data() == []  # ...and delivered nothing yet
        append(log, b"\nnext\n")
        col.wait_data([b"".join(pieces), b"next"])
        assert [r.line for r in col.lines] == [1, 2]
    finally:
        f.stop()


def test_stop_delivers_a_final_line_without_newline(tmp_path: Path) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_bytes(b"")
    b.write_bytes(b"")
    col = Collector()
    f = follow([a, b], col)
    append(a, b"whole\nno newline")
    append(b, b"\r\nb-tail")
    wait_bytes_read(f, 24)
    col.wait_count(2)
    f.stop()
    assert sorted((r.file, r.line, r.data) for r in col.lines) == [
        (str(a), 1, b"whole"),
        (str(a), 2, b"no newline"),
        (str(b), 1, b""),
        (str(b), 2, b"b-tail"),
    ]


def test_lines_written_just_before_stop_are_delivered(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    col = Collector()
    f = follow([log], col)
    append(log, join_lines(numbered("l", 0, 100)) + b"end")
    f.stop()  # no waiting: stop reads what is there before ending
    assert col.data() == [*numbered("l", 0, 100), b"end"]


def test_iterator_mode_batches_and_timeout(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(join_lines(numbered("x", 0, 12_000)))
    with Follower([str(log)], start="start", max_batch_lines=5000, batch_interval=0.01) as f:
        got: list[RawLine] = []
        sizes = []
        for batch in f.batches(timeout=0.05):
            if not batch:  # idle for 0.05 s: the timeout yields an empty batch
                if len(got) == 12_000:
                    break
                continue
            sizes.append(len(batch))
            got.extend(batch)
        assert max(sizes) <= 5000 and len(sizes) >= 3
        assert [r.data for r in got] == numbered("x", 0, 12_000)
        check_numbering(got)
        assert f.lines_read == 12_000 and f.bytes_read == log.stat().st_size
        st = f.stats()[str(log)]
        assert st.lines == 12_000 and st.offset == log.stat().st_size and st.status == "following"
    assert list(f.batches()) == []  # stopped: the iterator ends


def test_large_existing_file_streams_with_bounded_memory(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    total = 400_000
    log.write_bytes(join_lines(numbered("request", 0, total)))
    limit = 20_000
    with Follower([str(log)], start="start", max_pending_lines=limit, max_batch_lines=1000) as f:
        batches = f.batches()
        first = next(batches)
        # The first batch came while most of the file was still unread...
        assert len(first) <= 1000 and f.lines_read < total // 2
        count = len(first)
        last = first[-1].line
        for batch in batches:
            # ...and the reader never ran ahead of the consumer by more than the bound
            # (plus the one chunk it was holding when the queue filled up).
            assert f.pending <= limit + 60_000
            assert batch[0].line == last + 1
            last = batch[-1].line
            count += len(batch)
            if count == total:
                break
    assert count == total


def test_slow_consumer_blocks_the_reader_without_losing_lines(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    lines = numbered("x" * 90, 0, 100_000)  # ~97 bytes each
    log.write_bytes(join_lines(lines))
    f = Follower([str(log)], start="start", max_pending_lines=500, batch_interval=0)
    f.start()
    try:
        # Consume nothing for a while: the reader fills the queue and must then wait, at
        # most one read chunk past the limit.
        threading.Event().wait(0.3)
        bound = 500 + CHUNK_BYTES // 90
        assert f.pending <= bound and f.lines_read <= bound
        got = []
        while len(got) < len(lines):
            batch = f.get_batch(timeout=20)
            assert batch, "no lines arrived"
            got.extend(batch)
        assert [r.data for r in got] == lines
    finally:
        f.stop()


def test_several_paths_are_tagged_with_the_name_given(tmp_path: Path) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_bytes(b"")
    b.write_bytes(b"")
    col = Collector()
    rel_b = os.path.relpath(b)
    f = follow([a, rel_b], col)
    try:
        append(a, b"from a\n")
        append(b, b"from b\n")
        col.wait_count(2)
        assert {(r.file, r.data) for r in col.lines} == {(str(a), b"from a"), (rel_b, b"from b")}
    finally:
        f.stop()


def test_on_batch_failure_stops_and_is_reraised(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    col = Collector()

    def boom(batch: list[RawLine]) -> None:
        raise KeyError("consumer broke")

    f = Follower([str(log)], on_batch=boom, on_message=col.on_message).start()
    append(log, b"x\n")
    col.wait_message("on_batch failed")
    with pytest.raises(KeyError):
        f.stop()


def test_follow_stream_reads_a_pipe_until_eof() -> None:
    r, w = os.pipe()
    reader = os.fdopen(r, "rb", buffering=0)

    def write() -> None:
        with os.fdopen(w, "wb", buffering=0) as out:
            out.write(b"one\ntw")
            out.write(b"o\r\nthree")  # the last line has no newline: delivered at EOF

    t = threading.Thread(target=write)
    t.start()
    got = [r for batch in follow_stream(reader, batch_interval=0.0) for r in batch]
    t.join()
    reader.close()
    assert got == [RawLine("-", 1, 0, b"one"), RawLine("-", 2, 4, b"two"), RawLine("-", 3, 9, b"three")]


def test_follow_stream_without_a_descriptor() -> None:
    data = join_lines(numbered("s", 0, 30_000))
    got = [r.data for batch in follow_stream(io.BytesIO(data), name="stdin") for r in batch]
    assert got == numbered("s", 0, 30_000)


def test_stream_and_file_together(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    col = Collector()
    f = follow([log, "-"], col, streams={"-": io.BytesIO(b"from stdin\n")})
    try:
        col.wait_message("-: end of input")
        append(log, b"from file\n")
        col.wait_count(2)
        assert {(r.file, r.data) for r in col.lines} == {("-", b"from stdin"), (str(log), b"from file")}
        assert f.stats()["-"].status == "ended"
    finally:
        f.stop()


def test_internal_failure_is_raised_from_the_iterator(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"")

    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, b: object) -> int:
            raise ValueError("not an OSError")

    f = Follower(["-"], streams={"-": Broken()})  # type: ignore[dict-item]
    with pytest.raises(FollowerError):
        for _ in f.batches(timeout=5):
            pass
    f.stop()
