"""What ``threatlens scan`` writes when it covers part of its input: a real Ctrl-C mid-way, and the ports hint.

The interrupted scans are real ``threatlens scan`` processes on a log far larger than they can read before
the signal (a .gz of a million lines), sent a real SIGINT once their first batch is out.
"""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from threatlens.stats.results import PORTS_APACHE_LINE, PORTS_NGINX_LINE

SAMPLES = Path(__file__).resolve().parents[1] / "sample_logs"
#: times the sample is repeated: far more lines than any machine scans in the seconds the test waits
REPEAT = 200


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    data = (SAMPLES / "combined.log").read_bytes()
    path = tmp_path_factory.mktemp("big") / "access.log.gz"
    with gzip.open(path, "wb", compresslevel=1) as out:
        for _ in range(REPEAT):
            out.write(data)
    return path, data.count(b"\n") * REPEAT


def _interrupt(tmp_path: Path, log: Path, *args: str) -> tuple[int, str, str]:
    """Start a scan writing to a file, Ctrl-C it once it has processed its first lines; status, output, errors."""
    out = tmp_path / "out"
    with out.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "threatlens", "scan", *args, str(log)], stdout=sink,
                                stderr=subprocess.PIPE)
        try:
            assert proc.stderr is not None
            first = proc.stderr.readline()  # "log format: combined": the model is loaded, the first batch parsed
            assert b"log format" in first, first
            time.sleep(1)  # a few batches further (a million lines take far longer)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=120)
        finally:
            proc.kill()
    return proc.returncode, out.read_text(), (first + err).decode()


def test_ctrl_c_table_says_the_summary_is_partial(big_log: tuple[Path, int], tmp_path: Path) -> None:
    log, total = big_log
    status, out, err = _interrupt(tmp_path, log, "-o", "table")
    assert status == 130 and "Traceback" not in err
    lines = out.splitlines()
    read = int(lines[0].split(" lines")[0].replace(",", ""))
    assert 0 < read < total  # stopped mid-way
    note = f"INTERRUPTED (Ctrl-C): partial summary, of the {read:,} lines read before it"
    assert lines[1] == note and lines[-1] == note  # under the totals and at the very end
    assert "Top client IPs" in out and "Top paths" in out


def test_ctrl_c_jsonl_ends_with_an_interrupted_record(big_log: tuple[Path, int], tmp_path: Path) -> None:
    log, total = big_log
    status, out, err = _interrupt(tmp_path, log, "-o", "jsonl", "-j", "1")
    assert status == 130 and "Traceback" not in err
    rows = [json.loads(line) for line in out.splitlines()]  # every line whole
    read = [r for r in rows if r["type"] in ("request", "unparsed")]
    assert 0 < len(read) < total
    assert rows[-1] == {"type": "interrupted", "signal": "SIGINT", "lines": len(read),
                        "error": f"SIGINT: stopped after {len(read)} lines; the output covers those only"}
    assert [r["type"] for r in rows].count("interrupted") == 1


def _on_terminal(columns: int, *args: str) -> str:
    """What ``threatlens scan`` prints on a real terminal (a pseudo-terminal) ``columns`` wide, colours left out."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    proc = subprocess.Popen([sys.executable, "-m", "threatlens", "scan", *args], stdin=subprocess.DEVNULL,
                            stdout=follower, stderr=subprocess.DEVNULL, env={**env, "TERM": "xterm"})
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the scan ended and closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=120) == 0
    text = b"".join(chunks).decode()
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r\n", "\n")


@pytest.mark.parametrize("columns", [80, 60, 40])
def test_ports_hint_config_lines_are_never_wrapped(columns: int) -> None:
    out = _on_terminal(columns, "--no-detect", "-o", "table", str(SAMPLES / "combined.log"))
    lines = [line.strip() for line in out.splitlines()]
    assert "Server ports: not in this log." in out  # prose may wrap
    assert PORTS_APACHE_LINE in lines and PORTS_NGINX_LINE in lines  # each whole on its line, ready to copy
    assert max(len(line) for line in out.splitlines() if "Top paths" in line) <= columns  # the tables still fit
