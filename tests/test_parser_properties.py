"""Property tests: arbitrary bytes never raise, never lose a line, and parse quickly."""

from __future__ import annotations

import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threatlens.parsers import PRESETS, FirewallRecord, LogRecord, RawLine, Unparsed, get_parser

PARSERS = [get_parser(name) for name in PRESETS]
VALID = b'192.0.2.1 - - [21/Nov/2026:10:00:00 +0000] "GET /a?b=c HTTP/1.1" 200 5 "-" "agent"'

# Bytes that look like log lines: fragments of valid lines, quotes, backslashes, brackets.
line_bytes = st.one_of(
    st.binary(max_size=400),
    st.lists(st.sampled_from([b'"', b"\\", b"[", b"]", b" ", b"-", b"\x00", b"\xff", b"\x16\x03", b"GET",
                              b"/a?b", b"200", b"1.2.3.4", b"{", b"}", b":", b'\\"', b"\\x41", VALID]),
             max_size=60).map(b"".join),
    st.builds(lambda i, j, junk: VALID[:i] + junk + VALID[j:], st.integers(0, len(VALID)),
              st.integers(0, len(VALID)), st.binary(max_size=30)),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line_bytes, min_size=1, max_size=8))
def test_every_line_gives_exactly_one_result_quickly(lines: list[bytes]) -> None:
    raws = [RawLine("f", i + 1, i * 10, data) for i, data in enumerate(lines)]
    for parser in PARSERS:
        start = time.perf_counter()
        results = list(parser.parse_lines(raws))
        elapsed = time.perf_counter() - start
        assert len(results) == len(raws)
        for raw, result in zip(raws, results, strict=True):
            assert isinstance(result, (LogRecord, FirewallRecord, Unparsed))
            assert result.raw == raw.data and result.line == raw.line and result.offset == raw.offset
            if isinstance(result, Unparsed):
                assert result.reason
        assert elapsed < 1.0 * len(raws), f"{parser.name} took {elapsed * 1000:.1f} ms"  # only a blow-up breaks it


def test_many_quotes_do_not_backtrack() -> None:
    # the 20 KB many-quote line that made apache-log-parser run for minutes
    hostile = b'192.0.2.1 - - [21/Nov/2026:10:00:00 +0000] "' + b'a" "b\\' * 4000 + b'"'
    for parser in PARSERS:
        start = time.perf_counter()
        result = parser.parse_raw(RawLine("f", 1, 0, hostile))
        assert time.perf_counter() - start < 2.0  # linear time is milliseconds; a backtracking blow-up, minutes
        assert isinstance(result, (LogRecord, FirewallRecord, Unparsed))


def test_megabyte_line_is_refused_fast() -> None:
    big = b"1.2.3.4 " + b"x" * (1 << 20)
    for parser in PARSERS:
        start = time.perf_counter()
        result = parser.parse_raw(RawLine("f", 1, 0, big))
        assert isinstance(result, Unparsed) and "too long" in result.reason
        assert time.perf_counter() - start < 2.0  # linear time is milliseconds; a backtracking blow-up, minutes


#: Presets and custom formats whose patterns also match blank-looking text ("%U" matches "\x1c").
BATCH_PARSERS = [*PARSERS, get_parser("%U"), get_parser('%h "%{User-Agent}i" %>s')]
#: Lines the batch path must hand to ``parse_raw``: blank, Unicode blank, NUL, invalid UTF-8, a bad IP, a bad
#: timestamp, an escaped quote, a lone surrogate escape.
EDGE_LINES = [b"", b"\t", b" \x1c ", b"\x85", b"\xc2\x85", b"a\x00b", VALID + b"\xff",
              VALID.replace(b"192.0.2.1", b"999.1.1.1"),
              VALID.replace(b"21/Nov", b"21/Nox"), VALID.replace(b'"agent"', b'"a\\"gent"'),
              VALID.replace(b"/a?b=c", b"/a\\xed\\xa0\\x80"), b'192.0.2.1 "x" 200', b"%U"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(line_bytes, st.sampled_from([VALID, *EDGE_LINES])), min_size=1, max_size=12))
def test_batch_parsing_gives_what_line_by_line_parsing_gives(lines: list[bytes]) -> None:
    # parse_batch decodes a batch at once and builds records in one loop; every line it does not take
    # (blank, undecodable, not matching, a field that fails) goes to parse_raw: the results must be equal
    raws = [RawLine("f", i + 1, i * 10, data) for i, data in enumerate(lines)]
    for parser in BATCH_PARSERS:
        assert parser.parse_batch(raws) == [parser.parse_raw(raw) for raw in raws], parser.name


def test_batch_parsing_of_a_too_long_line_is_line_by_line() -> None:
    raws = [RawLine("f", 1, 0, VALID), RawLine("f", 2, 90, b"1.2.3.4 " + b"x" * 70_000), RawLine("f", 3, 70_100, VALID)]
    for parser in BATCH_PARSERS:
        got = parser.parse_batch(raws)
        assert got == [parser.parse_raw(raw) for raw in raws]
        assert isinstance(got[1], Unparsed) and "too long" in got[1].reason


def test_lines_without_a_backslash_take_the_fast_pattern_with_the_same_groups() -> None:
    # the batch path matches a line without a backslash with quoted fields as plain runs of non-quote
    # characters; it must match every such line the full pattern matches, with the same groups (a
    # pattern that matched less would only be slow, each line falling back to parse_raw)
    samples = Path(__file__).resolve().parents[1] / "sample_logs"
    matched = 0
    for name in ("combined", "common", "nginx_main", "vhost_combined"):
        parser = get_parser(name)
        for line in (samples / f"{name}.log").read_text(encoding="utf-8", errors="replace").splitlines():
            if "\\" in line:
                continue
            full, plain = parser._match(line), parser._match_plain(line)
            assert (full is None) == (plain is None), line
            if full is not None and plain is not None:
                assert full.groups() == plain.groups(), line
                matched += 1
    assert matched > 9_000
