"""The batch pipeline: per-file format detection, held lines, input order, no line lost."""

from __future__ import annotations

import pytest

from threatlens.parsers import LogRecord, RawLine, UnknownFormatError, Unparsed
from threatlens.pipeline import Pipeline

COMBINED = b'192.0.2.1 - - [21/Nov/2026:10:00:00 +0000] "GET /x HTTP/1.1" 200 5 "-" "curl/8"'
JSON = b'{"remote_addr":"192.0.2.2","time_iso8601":"2026-11-21T10:00:00+00:00","request":"GET / HTTP/1.1","status":200}'


def raws(file: str, lines: list[bytes], start: int = 1) -> list[RawLine]:
    return [RawLine(file, start + i, 0, line) for i, line in enumerate(lines)]


def test_each_file_gets_its_own_format_and_order_is_kept() -> None:
    messages: list[str] = []
    pipe = Pipeline(on_message=messages.append)
    batch = raws("a.log", [COMBINED, b"junk", COMBINED]) + raws("b.json", [JSON])
    done = pipe.process(batch)
    assert [type(r) for r in done.results] == [LogRecord, Unparsed, LogRecord, LogRecord]
    assert pipe.format_names == ["combined", "json"]
    assert any("a.log" in m and "combined" in m for m in messages)


def test_lines_are_held_until_a_format_is_found_then_released_in_order() -> None:
    pipe = Pipeline()
    first = pipe.process(raws("a.log", [b"\x16\x03\x01 tls junk", b"  "]))
    assert first.results == [] and pipe.held_lines == 2
    second = pipe.process(raws("a.log", [COMBINED], start=3))
    assert [r.line for r in second.results] == [1, 2, 3]
    assert isinstance(second.results[0], Unparsed) and isinstance(second.results[2], LogRecord)
    assert pipe.held_lines == 0


def test_undetectable_file_raises_clear_error_at_end_of_input() -> None:
    pipe = Pipeline()
    assert pipe.process(raws("auth.log", [b"Nov 21 sshd[1]: Accepted"])).results == []
    with pytest.raises(UnknownFormatError, match=r"auth\.log"):
        pipe.process([], final=True)


def test_fixed_format_never_holds() -> None:
    pipe = Pipeline(log_format="common")
    done = pipe.process(raws("a.log", [b"junk"]))
    assert len(done.unparsed) == 1 and pipe.held_lines == 0


def test_lenient_pipeline_counts_undetectable_lines_as_unparsed_and_keeps_going() -> None:
    messages: list[str] = []
    pipe = Pipeline(strict=False, on_message=messages.append)
    junk = [b"Nov 21 sshd[1]: Accepted %d" % i for i in range(60)]
    done = pipe.process(raws("auth.log", junk))
    assert len(done.unparsed) == 60 and all("unknown log format" in u.reason for u in done.unparsed)
    assert any("no known log format" in m for m in messages)
    pipe.process(raws("auth.log", junk, start=61))
    assert sum("no known log format" in m for m in messages) == 1  # once per file, not per batch
    later = pipe.process(raws("auth.log", [COMBINED], start=121))
    assert len(later.records) == 1 and pipe.format_names == ["combined"]


def test_reader_numbers_offsets_and_crlf_across_chunk_boundaries(tmp_path, monkeypatch) -> None:
    import threatlens.sources as sources

    monkeypatch.setattr(sources, "CHUNK_BYTES", 5)  # every line crosses a chunk boundary
    data = b"a\r\nbb\n\nccc\r\n" * 50 + b"last\r"
    path = tmp_path / "x.log"
    path.write_bytes(data)
    got = [r for batch in sources.iter_batches(str(path), batch_lines=7) for r in batch]
    expected, offset = [], 0
    pieces = data.split(b"\n")
    for i, piece in enumerate(pieces):
        expected.append((str(path), i + 1, offset, piece[:-1] if piece.endswith(b"\r") else piece))
        offset += len(piece) + 1
    assert [tuple(r) for r in got] == expected
    assert max(len(b) for b in sources.iter_batches(str(path), batch_lines=7)) == 7
