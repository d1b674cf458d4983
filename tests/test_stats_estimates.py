"""Space-Saving estimates are shown as estimates and never outrank what is certain (issue #11 item 16)."""

from __future__ import annotations

import io

from rich.console import Console

from threatlens.commands.scan_report import render_summary
from threatlens.parsers import get_parser
from threatlens.parsers.record import RawLine
from threatlens.pipeline import Pipeline
from threatlens.stats import Stats
from threatlens.stats.results import count_text


def _line(ip: str, i: int) -> bytes:
    return f'{ip} - - [10/Oct/2024:13:55:{i % 60:02d} +0000] "GET /p{i % 7} HTTP/1.1" 200 5 "-" "curl/8"'.encode()


def test_ips_seen_once_never_outrank_a_heavy_ip_and_show_as_ranges() -> None:
    stats = Stats(capacity=20, recent=0)
    parser = get_parser("combined")
    heavy = [_line("198.51.100.7", i) for i in range(30)]
    once = [_line(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", i) for i in range(5000)]
    lines = heavy + once
    records = [parser.parse_raw(RawLine("f", n + 1, 0, data)) for n, data in enumerate(lines)]
    for start in range(0, len(records), 500):
        stats.update(records[start:start + 500])
    top = stats.top_ips(10)
    assert top[0].ip == "198.51.100.7" and top[0].requests - top[0].error == 30
    sure = [r.requests - r.error for r in top]
    assert sure == sorted(sure, reverse=True)
    late = [r for r in top if r.error]
    assert late and all(r.requests - r.error <= 1 for r in late)  # seen once, estimated at hundreds
    out = io.StringIO()
    pipeline = Pipeline(log_format="combined")
    render_summary(Console(file=out, width=160, markup=False, highlight=False), stats, pipeline)
    table = out.getvalue().split("Top client IPs", 1)[1].split("Top paths", 1)[0]
    shown = {row.split("│")[1].strip(): row.split("│")[3].strip() for row in table.splitlines()
             if row.startswith("│") and "." in row.split("│")[1]}
    assert shown["198.51.100.7"] == "30"
    for row in late:
        assert shown[row.ip] == f"{row.requests - row.error:,}-{row.requests:,}"


def test_count_text() -> None:
    assert count_text(1234, 0) == "1,234"
    assert count_text(250, 249) == "1-250"
    assert count_text(250, 300) == "0-250"
