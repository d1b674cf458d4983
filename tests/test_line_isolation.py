"""No single line stops ingestion: a failure in parse, score, count or output becomes one unparsed line."""

from __future__ import annotations

import csv
import io
import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from threatlens.commands.scan import Writer, tolerant
from threatlens.commands.scan_report import render_summary
from threatlens.parsers import LogRecord, RawLine, Unparsed
from threatlens.parsers.base import LineParser
from threatlens.pipeline import Pipeline
from threatlens.scanner import build_pipeline
from threatlens.stats import Stats

GOOD = '{"remote_addr":"10.0.0.%d","request":"GET /b HTTP/1.1","status":200,"time_iso8601":"2024-01-01T00:00:0%dZ"}'
# A lone surrogate escape is valid JSON; its text cannot be encoded (the hashing vectorizer, csv, stdout).
LONE = [
    '{"remote_addr":"10.0.0.9","request":"GET /x?q=\\ud800 HTTP/1.1","status":200,"msec":1704067201}',
    '{"remote_addr":"10.0.0.9","request":"GET /\\udfff HTTP/1.1","status":200,"http_user_agent":"a\\uDBFFb"}',
    '{"remote_addr":"10.0.0.9","request":"GET / HTTP/1.1","status":200,"http_referer":"\\ud83d","\\udc00":1}',
]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "threatlens", "scan", *args], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("detect", [True, False], ids=["detect", "no-detect"])
def test_lone_surrogate_escape_in_any_field_is_kept_escaped_in_every_format(tmp_path: Path, detect: bool) -> None:
    log = tmp_path / "access.jsonl"
    lines = [GOOD % (1, 1), *LONE, GOOD % (2, 2)]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    extra = [] if detect else ["--no-detect"]
    out = _run("-o", "jsonl", *extra, str(log))
    assert out.returncode == 0, out.stderr
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    requests = [r for r in rows if r["type"] == "request"]
    assert [r["line"] for r in requests] == [1, 2, 3, 4, 5]
    assert requests[1]["query"] == "q=\\ud800"
    assert requests[2]["path"] == "/\\udfff" and requests[2]["user_agent"] == "a\\udbffb"
    assert requests[3]["referer"] == "\\ud83d"
    out = _run("-o", "csv", *extra, str(log))
    assert out.returncode == 0, out.stderr
    assert len(list(csv.reader(io.StringIO(out.stdout)))) == 1 + len(lines)
    out = _run(*extra, str(log))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("5 lines  parsed 5  unparsed 0")


def test_follow_keeps_reading_after_a_lone_surrogate(tmp_path: Path) -> None:
    log = tmp_path / "access.jsonl"
    log.write_text("\n".join([GOOD % (1, 1), LONE[0], GOOD % (2, 2)]) + "\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "threatlens", "scan", "--follow", "--from-start", "-o", "jsonl", "-"],
        input=log.read_bytes(), capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(x)["line"] for x in proc.stdout.splitlines()] == [1, 2, 3]


class _SurrogateParser(LineParser):
    """Keeps invalid UTF-8 as surrogates (``surrogateescape``), as a careless parser would."""

    name = "surrogate"

    def parse_raw(self, raw: RawLine) -> LogRecord | Unparsed:
        if raw.data.startswith(b"boom"):
            raise RuntimeError("parser bug")
        text = raw.data.decode("utf-8", "surrogateescape")
        return LogRecord(None, "10.0.0.1", None, "GET", "/" + text, None, "HTTP/1.1", 200, 10, None, None, None,
                         None, None, None, raw.data, raw.file, raw.line, raw.offset)


@pytest.fixture(scope="module")
def real_pipeline() -> Pipeline:
    """The full pipeline (shipped model, aggregates, geo), built once: loading the model takes seconds."""
    return build_pipeline(log_format="combined")


def test_failures_in_parse_score_and_count_become_unparsed_lines(real_pipeline: Pipeline) -> None:
    pipeline = Pipeline(detection=real_pipeline.detection, stats=Stats(recent=0))
    pipeline._fixed = _SurrogateParser()
    raws = [RawLine("f", i + 1, 0, data) for i, data in enumerate([b"ok", b"bad\xff", b"boom", b"fine"])]
    done = pipeline.process(raws)
    assert [type(r).__name__ for r in done.results] == ["LogRecord", "Unparsed", "Unparsed", "LogRecord"]
    assert done.results[1].reason.startswith("scoring failed (UnicodeEncodeError")
    assert done.results[2].reason == "parsing failed (RuntimeError: parser bug)"
    assert len(done.verdicts or []) == 2
    stats = pipeline.stats
    assert (stats.lines, stats.parsed, stats.unparsed) == (4, 2, 2)


# -- fuzz: whole pipeline, every output format --------------------------------------------------------

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
_escape = st.sampled_from(["\\ud800", "\\udfff", "\\uDB00", "\\ud83d\\ude00", "\\u0000", "\\x00", "\\\\", '\\"',
                           "\\u202e", "\\n"])
_field = st.lists(st.one_of(_text, _escape), max_size=4).map("".join)


@st.composite
def _line(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["combined", "json", "bytes", "text"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "text":
        return draw(_text).encode("utf-8", "surrogatepass")
    f = [draw(_field).replace('"', '\\"') for _ in range(4)]
    ip = draw(st.sampled_from(["10.0.0.1", "::1", "999.1.1.1", f[3]]))
    if kind == "combined":
        text = (f'{ip} - - [10/Oct/2024:13:55:36 +0000] "GET /{f[0]} HTTP/1.1" {draw(st.integers(0, 999))} '
                f'{draw(st.integers(-1, 10**20))} "{f[1]}" "{f[2]}"')
    else:
        text = (f'{{"remote_addr":"{ip}","request":"GET /{f[0]} HTTP/1.1","status":{draw(st.integers(0, 999))},'
                f'"http_referer":"{f[1]}","http_user_agent":"{f[2]}","time_iso8601":"2024-10-10T13:55:36Z"}}')
    return text.encode("utf-8", "surrogatepass")


_counter = itertools.count()


@pytest.fixture(scope="module")
def pipelines(real_pipeline: Pipeline) -> list[Pipeline]:
    """A combined-format and a JSON pipeline (sharing the model), like two scans."""
    json_pipeline = Pipeline(log_format="json", detection=real_pipeline.detection, stats=Stats(recent=0))
    return [real_pipeline, json_pipeline]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_line().map(lambda b: b.replace(b"\n", b" ")), min_size=1, max_size=12))
def test_fuzzed_lines_give_one_output_each_in_every_format(pipelines: list[Pipeline], lines: list[bytes]) -> None:
    for pipeline in pipelines:
        raws = [RawLine(f"fuzz{next(_counter)}", i + 1, 0, data) for i, data in enumerate(lines)]
        before = pipeline.stats.lines
        done = pipeline.process(raws)
        assert len(done.results) == len(lines)
        assert pipeline.stats.lines - before == len(lines)
        for output in ("jsonl", "csv"):
            raw = io.BytesIO()
            stream = tolerant(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
            Writer(output, False, stream, lambda _ip: None).write(done)
            stream.flush()
            text = raw.getvalue().decode("utf-8")
            if output == "jsonl":
                rows = [json.loads(x) for x in text.splitlines()]
                assert [r["line"] for r in rows if r["type"] != "alert"] == list(range(1, len(lines) + 1))
            else:
                assert len(list(csv.reader(io.StringIO(text)))) == 1 + len(lines)
        raw = io.BytesIO()
        stream = tolerant(io.TextIOWrapper(raw, encoding="utf-8"))
        render_summary(Console(file=stream, width=120, markup=False, highlight=False), pipeline.stats, pipeline)
        stream.flush()
        assert raw.getvalue().decode("utf-8").startswith(f"{pipeline.stats.lines:,} lines")
