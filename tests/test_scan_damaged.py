"""``threatlens scan`` over damaged inputs: each is reported where reading stopped, the other inputs are scanned.

Real damaged files: a ``.gz`` cut short, one whose CRC does not match, one whose deflate data is corrupt
(zlib's own error), one cut in its trailer after fewer lines than format detection needs, a file whose
first read fails with EIO (``/proc/self/mem``), a missing file and a directory, between good logs. Every
mode (``-j 1``, ``-j 2``, ``-j auto``, ``--dask local``) gives the same bytes, messages and status.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import re
import shutil
import zlib
from pathlib import Path

import pytest

from threatlens.cli import main
from threatlens.samplegen import write_sample
from threatlens.sources import BATCH_LINES

SAMPLES = Path(__file__).resolve().parents[1] / "sample_logs"
#: the summary's elapsed time and rate: the only part of a scan's output that may differ between runs
_TIMING = re.compile(r" — [0-9.]+ s, [0-9,]+ lines/s")
MODES = {"-j 1": ["-j", "1"], "-j 2": ["-j", "2"], "-j auto": [], "--dask local": ["--dask", "local"]}


def _zlib_failure(data: bytes) -> bytes:
    """``data`` (a .gz) with one byte of its second half changed so that inflating it fails (not only its CRC)."""
    rng = random.Random(7)
    for _ in range(10_000):
        bad = bytearray(data)
        at = rng.randrange(len(data) // 2, len(data) - 8)
        bad[at] ^= 1 << rng.randrange(8)
        try:
            zlib.decompressobj(wbits=31).decompress(bytes(bad))
        except zlib.error as exc:
            if "invalid" in str(exc):
                return bytes(bad)
    raise AssertionError("no corruption found that makes zlib fail")


class Inputs:
    """The files of one scan: good logs around damaged ones, and what each damaged one lets read."""

    def __init__(self, d: Path) -> None:
        self.first = d / "first.log"
        write_sample(self.first, 2 * BATCH_LINES + 50, "combined", seed=21, rate=20.0, attack_share=0.2)
        generated = d / "generated.log"
        write_sample(generated, 3 * BATCH_LINES + 10, "combined", seed=22, rate=20.0, attack_share=0.2)
        packed = gzip.compress(generated.read_bytes())
        self.cut = d / "cut.log.gz"
        self.cut.write_bytes(packed[: len(packed) * 2 // 3])
        self.crc = d / "crc.log.gz"
        crc = bytearray(gzip.compress((SAMPLES / "common.log").read_bytes()))
        crc[-6] ^= 0xFF  # the trailer's CRC-32: every line inflates, then the check fails
        self.crc.write_bytes(bytes(crc))
        self.corrupt = d / "corrupt.log.gz"
        self.corrupt.write_bytes(_zlib_failure(packed))
        self.short = d / "short.log.gz"  # 12 lines, fewer than format detection samples, then its trailer is cut
        self.short.write_bytes(gzip.compress(b"".join((SAMPLES / "nginx_main.log").read_bytes()
                                                      .splitlines(keepends=True)[:12]))[:-5])
        self.missing = d / "missing.log"
        self.directory = d / "a-directory"
        self.directory.mkdir()
        self.last = Path(shutil.copy(SAMPLES / "combined.log", d / "last.log"))
        self.paths = [self.first, self.cut, self.crc, self.corrupt, self.missing, self.directory,
                      Path("/proc/self/mem"), self.short, self.last]
        self.damaged = {str(p) for p in self.paths} - {str(self.first), str(self.last)}
        self.lines = {str(p): p.read_bytes().count(b"\n") for p in (self.first, self.last)}
        self.lines[str(self.cut)] = zlib.decompressobj(wbits=31).decompress(self.cut.read_bytes()).count(b"\n")
        self.lines[str(self.crc)] = (SAMPLES / "common.log").read_bytes().count(b"\n")
        self.lines[str(self.short)] = 12


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    return Inputs(tmp_path_factory.mktemp("damaged"))


def scan(capsys: pytest.CaptureFixture[str], out: Path, mode: str, *args: str) -> tuple[int, str, str, dict]:
    """One scan in this process: status, stdout (timing left out), stderr and the files it wrote."""
    out.mkdir()
    argv = [a.replace("{out}", str(out)) for a in args]
    status = main(["scan", *MODES[mode], *argv])
    captured = capsys.readouterr()
    files = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    return status, _TIMING.sub("", captured.out), captured.err.replace(str(out), "{out}"), files


def _errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("threatlens: error:")]


def test_jsonl_goes_on_after_each_damaged_input_in_every_mode(
        inputs: Inputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["-o", "jsonl", "--export-flagged", "{out}/flagged.csv", "--export-format", "csv",
            "--blocklist", "{out}/block.txt", *map(str, inputs.paths)]
    runs = {mode: scan(capsys, tmp_path / mode.strip("-").replace(" ", ""), mode, *args) for mode in MODES}
    status, out, err, files = runs["-j 1"]
    assert status == 2 and "Traceback" not in err
    assert set(files) == {"flagged.csv", "block.txt"} and files["flagged.csv"].count(b"\n") > 100

    rows = [json.loads(line) for line in out.splitlines()]
    read = {}
    for row in rows:
        if row["type"] in ("request", "unparsed"):
            read.setdefault(row["file"], []).append(row["line"])
    for path, n in inputs.lines.items():  # every line before the damage, and every line of the files after it
        assert read[path] == list(range(1, n + 1)), path
    corrupt_read = len(read.get(str(inputs.corrupt), []))
    assert 0 < corrupt_read < BATCH_LINES * 3  # zlib failed mid-way: the steps before it were read
    assert set(read) == {*inputs.lines, str(inputs.corrupt)}

    notes = [row for row in rows if row["type"] == "read_error"]
    expected = {**inputs.lines, str(inputs.corrupt): corrupt_read}
    assert [(r["file"], r["line"]) for r in notes] == [(str(p), expected.get(str(p), 0)) for p in inputs.paths
                                                      if str(p) in inputs.damaged]
    last_of = {file: max(i for i, r in enumerate(rows) if r.get("file") == file and r["type"] == "request")
               for file in read}
    for note in notes:  # each note right after the lines of its file, before those of the next
        at = rows.index(note)
        if note["file"] in last_of:
            assert last_of[note["file"]] < at
        assert all(last_of[f] < at for f in read if f != note["file"] and inputs.paths.index(Path(f))
                   < inputs.paths.index(Path(note["file"])))

    errors = _errors(err)
    assert len(errors) == len(inputs.damaged)  # one line each
    assert f"{inputs.cut}: read error after line {inputs.lines[str(inputs.cut)]}: Compressed file ended" in errors[0]
    assert f"{inputs.crc}: read error after line {inputs.lines[str(inputs.crc)]}: CRC check failed" in errors[1]
    assert f"{inputs.corrupt}: read error after line {corrupt_read}: Error -3 while decompressing" in errors[2]
    assert errors[3].endswith(f"cannot open {inputs.missing}: No such file or directory")
    assert errors[4].endswith(f"{inputs.directory}: is a directory")
    assert errors[5].endswith("/proc/self/mem: read error before its first line: Input/output error")
    assert f"{inputs.short}: read error after line 12: Compressed file ended" in errors[6]
    assert "not read to the end)" in err and str(inputs.short) in err.splitlines()[-1]  # the export's notice

    for mode, run in runs.items():
        assert run == runs["-j 1"], f"{mode} differs from -j 1"


@pytest.mark.parametrize("mode", ["-j 1", "-j 2", "--dask local"])
def test_table_covers_what_was_read_and_says_the_input_was_incomplete(
        inputs: Inputs, tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: str) -> None:
    good = scan(capsys, tmp_path / "good", "-j 1", "-o", "table", *(str(p) for p in inputs.paths
                                                                    if str(p) not in inputs.damaged))
    status, out, err, _files = scan(capsys, tmp_path / "all", mode, "-o", "table", *map(str, inputs.paths))
    assert status == 2 and good[0] == 0 and "Traceback" not in err
    lines = out.splitlines()
    total = int(lines[0].split(" lines")[0].replace(",", ""))
    assert total > sum(inputs.lines.values())  # the good files, what the damaged ones let read (and the corrupt one)
    assert lines[1] == f"INPUT INCOMPLETE: {len(inputs.damaged)} inputs not read to the end; the summary covers " \
                       "what was read"
    messages = [e.removeprefix("threatlens: error: ") for e in _errors(err)]
    assert [x.strip() for x in lines[2:2 + len(messages)]] == messages
    assert [x.strip() for x in lines[-len(messages):]] == messages and lines[-len(messages) - 1] == lines[1]
    for heading in ("Flagged requests", "Behaviour alerts", "Top client IPs", "Top paths", "Top countries"):
        assert heading in out
    assert "INPUT INCOMPLETE" not in good[1]
    if mode == "-j 1":
        assert scan(capsys, tmp_path / "again", "-j 2", "-o", "table", *map(str, inputs.paths))[1:3] == (out, err)


def test_csv_has_a_row_for_each_damaged_input(inputs: Inputs, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _err, _files = scan(capsys, tmp_path / "csv", "-j 2", "-o", "csv", "--only-flagged",
                                     *map(str, inputs.paths))
    rows = list(csv.DictReader(io.StringIO(out)))
    notes = [(r["file"], r["line"], r["error"]) for r in rows if r["type"] == "read_error"]
    assert status == 2 and len(notes) == len(inputs.damaged)
    assert notes[0] == (str(inputs.cut), str(inputs.lines[str(inputs.cut)]),
                        "Compressed file ended before the end-of-stream marker was reached")
    assert (str(inputs.missing), "0", "cannot open: No such file or directory") in notes
    assert rows[-1]["file"] == str(inputs.last) and rows[-1]["type"] == "request"  # the last file was scanned


def test_when_no_input_can_be_opened_nothing_starts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    assert main(["scan", "-o", "jsonl", str(a), str(b)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == f"threatlens: error: cannot open {a}: No such file or directory; " \
                                   f"cannot open {b}: No such file or directory"
