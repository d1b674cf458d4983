"""``scan --output csv`` is byte for byte what ``csv.writer`` makes of ``csv_safe`` cells of the JSONL rows."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from threatlens.cli import main
from threatlens.export import CSV_COLUMNS, csv_safe

SAMPLES = Path(__file__).resolve().parents[1] / "sample_logs"

HOSTILE = (
    '192.0.2.1 - - [21/Nov/2026:10:00:00 +0000] "GET /a,b?q=\\"x\\" HTTP/1.1" 200 5 "=HYPERLINK(1)" "Mozilla/5.0 '
    '(KHTML, like Gecko) +http://bot"\n'
    '192.0.2.2 - - [21/Nov/2026:10:00:01 +0000] "GET /-x?=1 HTTP/1.1" 404 - "-" "-"\n'
    '192.0.2.3 - - [21/Nov/2026:10:00:02 +0000] "GET /caf\u00e9\u202e HTTP/1.1" 200 1 "@home" "a -b +c =d @e"\n'
    '192.0.2.4 - - [21/Nov/2026:10:00:03 +0000] "POST /login HTTP/1.1" 401 12 "-" "\x1b[31mred,\\"q\\""\n'
    '192.0.2.5 - - [21/Nov/2026:10:00:04 +0000] "GET /?id=1%27%20UNION%20SELECT HTTP/1.1" 200 9 "-" "sqlmap/1.7"\n'
    "not a log line, with \"quotes\" and =formula\n"
)


def _expected(jsonl: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for line in jsonl.splitlines():
        row = json.loads(line)
        if row["type"] != "alert":
            writer.writerow([csv_safe(row.get(c)) for c in CSV_COLUMNS])
    return buffer.getvalue()


def _scan(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["scan", *args]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("detect", [(), ("--no-detect",)])
def test_csv_matches_the_csv_module_on_the_samples_and_hostile_lines(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], detect: tuple[str, ...]) -> None:
    hostile = tmp_path / "hostile.log"
    hostile.write_text(HOSTILE, encoding="utf-8")
    paths = [str(SAMPLES / n) for n in ("combined.log", "vhost_combined.log", "caddy.json", "ufw.log")]
    paths.append(str(hostile))
    for path in paths:
        got = _scan(capsys, "-o", "csv", "--log-format", "auto", *detect, path)
        assert got == _expected(_scan(capsys, "-o", "jsonl", *detect, path)), path
    assert '"/a,b"' in _scan(capsys, "-o", "csv", "--no-detect", str(hostile))  # a quoted cell was tested
