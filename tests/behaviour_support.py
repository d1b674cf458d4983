"""Helpers for the behaviour/detection tests: build log lines, parse them with the real parser."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from threatlens.models.behaviour import BehaviourTracker
from threatlens.models.campaigns import CampaignTracker
from threatlens.models.verdict import Alert, Verdict
from threatlens.parsers import AUTO_CANDIDATES, LogRecord, RawLine, UnknownFormatError, detect_format, get_parser

DATA = Path(__file__).resolve().parent / "data"
SHARED = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()
T0 = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
CLEAN = Verdict(0.0, False)


def line(ip: str, seconds: float, path: str, status: int = 200, *, method: str = "GET", size: int = 1000,
         agent: str = BROWSER, referer: str = "-") -> str:
    """One combined-format line at ``T0 + seconds``."""
    t = (T0 + timedelta(seconds=seconds)).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'{ip} - - [{t}] "{method} {path} HTTP/1.1" {status} {size} "{referer}" "{agent}"'


def parse(lines: Iterable[str | bytes], file: str = "fixture.log", fmt: str | None = None) -> list[LogRecord]:
    """Parse lines with the project's parser (auto-detected unless ``fmt``); every line must parse."""
    data = [x.encode() if isinstance(x, str) else x for x in lines]
    data = [d for d in data if d.strip()]
    parser = get_parser(fmt) if fmt else detect_format(data).parser
    out = []
    offset = 0
    for number, raw in enumerate(data, 1):
        result = parser.parse_raw(RawLine(file, number, offset, raw))
        offset += len(raw) + 1
        assert isinstance(result, LogRecord), f"{file}:{number} did not parse: {result}"
        out.append(result)
    return out


def fixture(name: str) -> list[LogRecord]:
    """Records of ``tests/data/<name>``."""
    path = DATA / name
    return parse(path.read_bytes().splitlines(), file=name)


def run(records: Sequence[LogRecord], *, batch: int | None = None,
        tracker: BehaviourTracker | CampaignTracker | None = None,
        verdicts: Sequence[Verdict] | None = None) -> list[Alert]:
    """Feed records to a tracker (a ``BehaviourTracker`` unless given; clean verdicts unless given) in batches."""
    tracker = tracker if tracker is not None else BehaviourTracker()
    verdicts = list(verdicts) if verdicts is not None else [CLEAN] * len(records)
    size = batch or max(1, len(records))
    alerts: list[Alert] = []
    for i in range(0, len(records), size):
        alerts += tracker.observe(records[i:i + size], verdicts[i:i + size])
    return alerts


def kinds_by_ip(alerts: Iterable[Alert]) -> dict[str, set[str]]:
    """``{ip: {kind, ...}}``."""
    out: dict[str, set[str]] = {}
    for a in alerts:
        out.setdefault(a.ip, set()).add(a.kind)
    return out


_SYSLOG = re.compile(rb"^[A-Z][a-z]{2} +\d+ [\d:]+ \S+ \S+: ")


def load_log(path: Path) -> tuple[list[LogRecord], int]:
    """Records of a real log file (syslog prefixes stripped, ``#`` lines skipped); (records, unparsed)."""
    data = [_SYSLOG.sub(b"", d) for d in path.read_bytes().splitlines()]
    data = [d for d in data if d.strip() and not d.startswith(b"#")]
    if not data:
        return [], 0
    try:
        main = detect_format(data).parser
    except UnknownFormatError:
        return [], len(data)
    fallbacks = [get_parser(name) for name in AUTO_CANDIDATES if name != main.name]
    records: list[LogRecord] = []
    offset = unparsed = 0
    for number, raw in enumerate(data, 1):
        for parser in (main, *fallbacks):
            result = parser.parse_raw(RawLine(path.name, number, offset, raw))
            if isinstance(result, LogRecord):
                records.append(result)
                break
        else:
            unparsed += 1
        offset += len(raw) + 1
    return records, unparsed
