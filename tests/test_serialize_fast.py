"""``request_json`` (the scan's JSONL writer) is ``json_line(request_dict(...))`` byte for byte (#10)."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from threatlens.models.verdict import Verdict
from threatlens.parsers import LogRecord
from threatlens.scanner import build_pipeline, scan_paths
from threatlens.serialize import json_line, request_dict, request_json

SAMPLES = Path(__file__).resolve().parents[1] / "sample_logs"


@pytest.mark.parametrize("name", ["combined.log", "common.log", "nginx_main.log", "vhost_combined.log", "caddy.json"])
def test_sample_logs_encode_as_the_stdlib_encoder_does(name: str) -> None:
    pipeline = build_pipeline(detect=True)
    pairs: list[tuple[LogRecord, Verdict]] = []

    def keep(done, _lines):  # type: ignore[no-untyped-def]
        pairs.extend(zip(done.records, done.verdicts or [None] * len(done.records), strict=True))

    scan_paths(pipeline, [str(SAMPLES / name)], on_batch=keep)
    assert len(pairs) > 500 and any(v.flagged for _r, v in pairs)
    for record, verdict in pairs:
        for country in (None, "DE"):
            assert request_json(record, verdict, country) == json_line(request_dict(record, verdict, country))
    record = pairs[0][0]
    assert request_json(record) == json_line(request_dict(record))


text = st.none() | st.text(max_size=40)
number = st.none() | st.integers(min_value=-(2**40), max_value=2**40)
stamp = st.none() | st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)), None]))
verdict = st.none() | st.builds(
    Verdict, st.floats(allow_nan=False, allow_infinity=False) | st.integers(0, 1), st.booleans(),
    st.lists(st.text(max_size=10), max_size=3).map(tuple), st.lists(st.text(max_size=30), max_size=4).map(tuple),
    st.booleans(), st.sampled_from(["", "attack", "suspicious"]))


@settings(max_examples=300, deadline=None)
@given(stamp, text, text, text, text, text, number, number, text, text, text, number, verdict, text)
def test_any_record_encodes_as_the_stdlib_encoder_does(
    time, ip, method, path, query, protocol, status, size, referer, agent, vhost, port, v, country,
) -> None:
    record = LogRecord(time, ip, None, method, path, query, protocol, status, size, referer, agent, vhost, port,
                       None, None, b"", "f\u2028.log", 7, 0)
    assert request_json(record, v, country) == json_line(request_dict(record, v, country))
    # equal verdicts with numbers of other types (1 == 1.0 == True) must not share an encoding
    if v is not None:
        other = v._replace(score=float(v.score)) if type(v.score) is int else v._replace(score=int(v.score))
        assert request_json(record, other, country) == json_line(request_dict(record, other, country))


def test_a_negative_zero_score_is_not_taken_for_a_shared_zero() -> None:
    """-0.0 == 0.0: the verdict memo must not hand one's encoding to the other (found by the property test)."""
    record = LogRecord(None, None, None, None, None, None, None, None, None, None, None, None, None,
                       None, None, b"", "f.log", 7, 0)
    for score in (0.0, -0.0, 0.0):
        v = Verdict(score, False)
        assert request_json(record, v, None) == json_line(request_dict(record, v, None))
