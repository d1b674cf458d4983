"""``scan`` of inputs that can be read only once, as a stream: ``<(cat f)``, pipes, FIFOs (real ones)."""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "sample_logs" / "combined.log"
THREATLENS = [sys.executable, "-m", "threatlens"]
N_LINES = len(SAMPLE.read_bytes().splitlines())


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is needed for process substitution")
@pytest.mark.parametrize("producer", ["cat", "gzip -c"])
def test_process_substitution_is_read_as_a_stream(producer: str) -> None:
    """``scan <(cat f)`` was refused ("not seekable"); a gzip stream through a pipe is sniffed from the buffer."""
    cmd = " ".join(f"'{part}'" for part in THREATLENS) + f" scan -o csv --no-detect -j 2 <({producer} '{SAMPLE}')"
    out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = out.stdout.splitlines()[1:]
    assert len(rows) == N_LINES and all(r.startswith("request,") for r in rows)
    assert [int(r.split(",")[2]) for r in rows] == list(range(1, N_LINES + 1))  # nothing lost to a sniff


def _stderr_until(proc: subprocess.Popen[str], text: str, timeout: float = 60.0) -> str:
    """What the process wrote on stderr up to the first line containing ``text`` (or the timeout)."""
    lines: list[str] = []

    def read() -> None:
        for line in proc.stderr:  # type: ignore[union-attr]
            lines.append(line)
            if text in line:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    return "".join(lines)


def test_fifo_without_a_writer_says_so_then_reads_what_comes(tmp_path: Path) -> None:
    fifo = tmp_path / "access.fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen([*THREATLENS, "scan", "-o", "csv", "--no-detect", str(fifo)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        said = _stderr_until(proc, "waiting for a writer")
        assert f"{fifo}: waiting for a writer on this FIFO" in said, said
        writer = threading.Thread(target=fifo.write_bytes, args=(SAMPLE.read_bytes(),), daemon=True)
        writer.start()  # beside us: the scan's output must be read while it is written
        out = proc.stdout.read()  # type: ignore[union-attr]
        proc.wait(timeout=60)
        writer.join(10)
    finally:
        proc.kill()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    assert proc.returncode == 0, said
    assert len(out.splitlines()) == N_LINES + 1


def test_fifo_wait_ends_on_ctrl_c_with_status_130(tmp_path: Path) -> None:
    fifo = tmp_path / "idle.fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen([*THREATLENS, "scan", "-o", "csv", str(fifo)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert "waiting for a writer" in _stderr_until(proc, "waiting for a writer")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        proc.kill()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    assert proc.returncode == 130


def test_ctrl_c_before_any_line_prints_one_line_not_an_empty_summary(tmp_path: Path) -> None:
    fifo = tmp_path / "idle.fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen([*THREATLENS, "scan", "--no-detect", str(fifo)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert "waiting for a writer" in _stderr_until(proc, "waiting for a writer")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        out = proc.stdout.read()  # type: ignore[union-attr]
        err = proc.stderr.read()  # type: ignore[union-attr]
    finally:
        proc.kill()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    assert proc.returncode == 130
    assert out == ""  # no "0 lines ... (not scored)" and no empty tables
    assert err.splitlines()[-1:] == ["threatlens: interrupted before any line was processed"], err


def test_a_gz_archive_is_still_sniffed_from_a_regular_file(tmp_path: Path) -> None:
    archive = tmp_path / "access.log.1.gz"
    archive.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    out = subprocess.run([*THREATLENS, "scan", "-o", "csv", "--no-detect", str(archive)], capture_output=True,
                         text=True, timeout=120, check=True)
    assert len(out.stdout.splitlines()) == N_LINES + 1


def test_a_pipe_whose_writer_pauses_is_reported_as_lines_arrive() -> None:
    """``tail -f log | threatlens scan -``: lines written before a pause come out during the pause.

    Before, a pipe was read in whole 1 MiB chunks and 2,000-line batches, so nothing came out until the
    writer closed, and Ctrl-C then lost every line already taken from the pipe.
    """
    first = SAMPLE.read_bytes().splitlines(keepends=True)[:5]
    proc = subprocess.Popen([*THREATLENS, "scan", "-o", "jsonl", "--no-detect", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdin is not None and proc.stdout is not None
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.extend(proc.stdout.readline() for _ in range(5)), daemon=True)
    try:
        proc.stdin.write(b"".join(first))
        proc.stdin.flush()  # the writer stays open: the pipe pauses, it does not end
        reader.start()
        reader.join(timeout=90)
        assert len(got) == 5 and all(b'"type": "request"' in line for line in got), got
        assert [int(line.split(b'"line": ')[1].split(b",")[0]) for line in got] == [1, 2, 3, 4, 5]
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
        proc.stdout.close()
