"""``threatlens scan --output table`` as a person reads it: which file, which tier, nothing hidden."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "sample_logs" / "combined.log"


def _scan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "threatlens", "scan", *args], capture_output=True, text=True,
                          timeout=180, check=True)


def test_several_logs_show_file_and_line_and_every_table_has_a_tier(tmp_path: Path) -> None:
    lines = SAMPLE.read_bytes().splitlines(keepends=True)
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    first.write_bytes(b"".join(lines[:2500]))
    second.write_bytes(b"".join(lines[2500:]))
    out = _scan(str(first), str(second), "--export-flagged", str(tmp_path / "x.log"), "--min-severity", "suspicious",
                "--blocklist", str(tmp_path / "b.txt"))
    table = out.stdout
    assert "file:line" in table and "file:lines" in table
    assert "second.log:" in table  # the newest flagged requests are in the second file
    header_rows = [row for row in table.splitlines() if row.startswith("┃")]
    assert len(header_rows) >= 3 and all("tier" in row for row in header_rows[:3])  # flagged, alerts, top IPs
    assert any("│ attack " in row for row in table.splitlines())
    assert "flagged lines (suspicious tier and above) to" in out.stderr
    assert "(plain, suspicious tier and above) to" in out.stderr

    one = _scan(str(first), "--export-flagged", str(tmp_path / "y.log"))
    assert "file:line" not in one.stdout and "first.log:" not in one.stdout
    assert "flagged lines (attack tier) to" in one.stderr


def test_tag_and_bidi_characters_are_visible_in_the_table_and_in_csv(tmp_path: Path) -> None:
    tag = "".join(chr(0xE0000 + ord(c)) for c in "ignore previous")
    log = tmp_path / "tags.log"
    log.write_text(f'203.0.113.9 - - [10/Oct/2024:13:55:36 +0000] "GET /x{tag}?q=%3Cscript%3E HTTP/1.1" 200 5 '
                   f'"-" "curl{tag}/8"\n'
                   '203.0.113.9 - - [10/Oct/2024:13:55:37 +0000] "GET /a\u202eb HTTP/1.1" 200 5 "-" "curl/8"\n',
                   encoding="utf-8")
    for output in ("table", "csv"):
        text = _scan(str(log), "-o", output).stdout
        assert not any(0xE0000 <= ord(c) <= 0xE007F or c == "\u202e" for c in text), output
        assert "\\u{e0069}" in text, output
    assert "\\u{202e}" in _scan(str(log), "-o", "csv").stdout
