"""``make demo`` appends lines that continue the sample logs' own timeline (March 2026), not today's date."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from threatlens.demo import Appender, FirewallAppender, log_end, prepare_firewall_log, prepare_log
from threatlens.parsers import RawLine, detect_format


def _times(path: Path, skip: int) -> list:
    lines = path.read_bytes().splitlines()
    parser = detect_format(lines[:50]).parser
    return [parser.parse_raw(RawLine(str(path), i, 0, x)).time for i, x in enumerate(lines[skip:], skip + 1)]


def test_appended_lines_follow_the_last_line_of_each_log(tmp_path: Path) -> None:
    log, firewall = prepare_log(tmp_path), prepare_firewall_log(tmp_path)
    before = {p: len(p.read_bytes().splitlines()) for p in (log, firewall)}
    ends = {p: log_end(p) for p in (log, firewall)}
    assert all(ends.values())
    writers = [Appender(log, 40.0, 3, start=ends[log][0]), FirewallAppender(firewall, 40.0, 3, *ends[firewall])]
    for w in writers:
        w.start()
    deadline = time.monotonic() + 30
    while min(w.written for w in writers) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    for w in writers:
        w.stop()
    for path in (log, firewall):
        last = ends[path][0]
        added = _times(path, before[path])
        assert len(added) >= 5, path
        assert all(last < t < last + timedelta(minutes=10) for t in added), (path, last, added[:3])
    uptime = float(firewall.read_text().splitlines()[-1].split("kernel: [")[1].split("]")[0])
    assert uptime > ends[firewall][1]  # the kernel's uptime goes on too
