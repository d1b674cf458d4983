"""Building blocks of the follower: line assembly, the batch queue, start positions."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from threatlens.parsers.record import RawLine
from threatlens.tail import BatchQueue, LineAssembler
from threatlens.tail.position import count_newlines, start_of_last_lines


def feed_all(asm: LineAssembler, chunks: list[bytes]) -> list[RawLine]:
    out: list[RawLine] = []
    for c in chunks:
        out.extend(asm.feed(c))
    return out


def test_assembler_numbers_offsets_and_crlf() -> None:
    asm = LineAssembler("f")
    out = feed_all(asm, [b"ab", b"c\r\nd", b"e\n\nx"])
    assert out == [RawLine("f", 1, 0, b"abc"), RawLine("f", 2, 5, b"de"), RawLine("f", 3, 8, b"")]
    assert asm.partial == b"x" and asm.partial_start == 9
    assert asm.flush() == RawLine("f", 4, 9, b"x")
    assert asm.flush() is None


def test_assembler_bare_carriage_return_inside_line_is_data() -> None:
    asm = LineAssembler("f")
    assert [r.data for r in asm.feed(b"a\rb\n\r\n")] == [b"a\rb", b""]


@given(st.lists(st.binary(max_size=40), max_size=30), st.data())
def test_assembler_any_split_gives_the_same_lines(pieces: list[bytes], data: st.DataObject) -> None:
    text = b"".join(pieces)
    whole = LineAssembler("f")
    expected = whole.feed(text)
    tail = whole.flush()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=10)))
    chunks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    split = LineAssembler("f")
    assert feed_all(split, chunks) == expected
    assert split.flush() == tail


def test_assembler_splits_overlong_lines_under_one_number() -> None:
    notes: list[tuple[str, str]] = []
    asm = LineAssembler("f", max_line_bytes=4, notify=lambda lvl, t: notes.append((lvl, t)))
    out = feed_all(asm, [b"ok\n", b"abcdefghij", b"k\nnext\n"])
    assert [(r.line, r.offset, r.data) for r in out] == [
        (1, 0, b"ok"),
        (2, 3, b"abcdefghij"),
        (2, 13, b"k"),
        (3, 15, b"next"),
    ]
    assert len(notes) == 1 and "line 2" in notes[0][1]


def raw(i: int) -> RawLine:
    return RawLine("f", i, i, b"x")


def test_queue_batches_and_end() -> None:
    q = BatchQueue(batch_interval=0.0, max_batch_lines=3, producers=1)
    q.put([raw(1), raw(2)], 4)
    q.put([raw(3), raw(4), raw(5)], 6)
    assert [r.line for r in q.get(0)] == [1, 2, 3]
    assert [r.line for r in q.get(0)] == [4, 5]
    assert q.get(0.01) == []
    q.producer_done()
    assert q.get(1) is None


def test_queue_rate_limits_small_batches_but_not_full_ones() -> None:
    q = BatchQueue(batch_interval=30.0, max_batch_lines=2, producers=1)
    q.put([raw(1)], 2)
    assert q.get(5) == [raw(1)]  # first delivery is immediate
    q.put([raw(2), raw(3)], 4)
    assert q.get(5) == [raw(2), raw(3)]  # a full batch does not wait for the interval
    q.put([raw(4)], 2)
    q.producer_done()  # the end does not wait either
    assert q.get(5) == [raw(4)]


def test_queue_blocks_producer_when_full_and_release_unblocks() -> None:
    q = BatchQueue(batch_interval=0.0, max_pending_lines=2, producers=1)
    q.put([raw(1), raw(2)], 4)
    done = threading.Event()

    def produce() -> None:
        q.put([raw(3)], 2)
        done.set()

    t = threading.Thread(target=produce, daemon=True)
    t.start()
    assert not done.wait(0.2)  # cannot fail by timing: the producer must block
    assert q.pending == 2
    assert q.get(1) == [raw(1), raw(2)]
    assert done.wait(10)
    q.release()
    q.put([raw(4), raw(5), raw(6)], 6)  # released: never blocks
    t.join(5)


def test_start_of_last_lines(tmp_path: Path) -> None:
    def start(content: bytes, n: int) -> bytes:
        p = tmp_path / "f"
        p.write_bytes(content)
        fd = os.open(p, os.O_RDONLY)
        try:
            return content[start_of_last_lines(fd, len(content), n) :]
        finally:
            os.close(fd)

    assert start(b"a\nb\nc\n", 0) == b""
    assert start(b"a\nb\nc", 0) == b"c"
    assert start(b"a\nb\nc\n", 2) == b"b\nc\n"
    assert start(b"a\nb\nc", 2) == b"b\nc"
    assert start(b"a\nb\nc\n", 5) == b"a\nb\nc\n"
    assert start(b"", 3) == b""
    big = b"".join(b"%06d\n" % i for i in range(100_000))  # several backward blocks
    assert start(big, 30_000) == b"".join(b"%06d\n" % i for i in range(70_000, 100_000))


def test_backfill_of_a_huge_file_reads_only_its_tail(tmp_path: Path) -> None:
    p = tmp_path / "huge"
    try:
        with open(p, "wb") as fh:
            fh.truncate(1 << 40)  # 1 TiB, sparse: reading it all would blow the test timeout
            fh.seek(0, os.SEEK_END)
            fh.write(b"x\ny\nz\n")
    except OSError as exc:
        pytest.skip(f"this file system cannot hold a 1 TiB sparse file: {exc}")
    fd = os.open(p, os.O_RDONLY)
    try:
        off = start_of_last_lines(fd, os.fstat(fd).st_size, 2)
        assert os.pread(fd, 100, off) == b"y\nz\n"
        assert count_newlines(fd, off, limit=1 << 20) is None
    finally:
        os.close(fd)


def test_count_newlines(tmp_path: Path) -> None:
    p = tmp_path / "f"
    p.write_bytes(b"a\n" * 3_000_000)
    fd = os.open(p, os.O_RDONLY)
    try:
        assert count_newlines(fd, 2 * 1_000_001, limit=1 << 30) == 1_000_001
        assert count_newlines(fd, 10, limit=5) is None
    finally:
        os.close(fd)


@pytest.mark.parametrize("bad", [{"start": "middle"}, {"backfill": -1}, {"start": "start", "backfill": 3}])
def test_follower_rejects_bad_options(bad: dict[str, object], tmp_path: Path) -> None:
    from threatlens.tail import Follower

    with pytest.raises(ValueError):
        Follower([str(tmp_path / "x")], **bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Follower([])


def test_first_pieces_keeps_one_record_per_line() -> None:
    from threatlens.tail.lines import FirstPieces

    asm_a, asm_b = LineAssembler("a", max_line_bytes=8), LineAssembler("b", max_line_bytes=8)
    keep = FirstPieces(8)
    got = []
    for chunk_a, chunk_b in [(b"ok\n0123456789", b"x\n"), (b"abcdefghij", b"y\n"), (b"klm\nend\n", b"z\n")]:
        got += keep(asm_a.feed(chunk_a) + asm_b.feed(chunk_b))  # pieces of a's line 2, b's lines between them
    assert [(r.file, r.line, r.data) for r in got] == [
        ("a", 1, b"ok"), ("a", 2, b"0123456789"), ("b", 1, b"x"), ("b", 2, b"y"), ("a", 3, b"end"), ("b", 3, b"z"),
    ]
    fresh = LineAssembler("a", max_line_bytes=8)  # the same name again (rotated): line 2 is a new line
    assert [r.data for r in keep(fresh.feed(b"1\n2\n"))] == [b"1", b"2"]
