"""``threatlens scan -j N`` gives byte for byte the output of ``-j 1``: stdout, exports, block lists, errors.

Real files (every sample log, generated logs of several batches with attacks in every batch, a .gz
archive, a file too short for format detection, garbage lines), real parsing processes.
"""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

import pytest

from threatlens.cli import main
from threatlens.samplegen import write_sample
from threatlens.sources import BATCH_LINES

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_logs"
JOBS = ("1", "2", "4")
#: the summary's elapsed time and rate: the only part of a scan's output that may differ between runs
_TIMING = re.compile(r" — [0-9.]+ s, [0-9,]+ lines/s")


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Inputs of several formats and sizes; the generated ones span several batches, attacks in each."""
    d = tmp_path_factory.mktemp("logs")
    big = d / "generated.log"
    write_sample(big, 3 * BATCH_LINES + 321, "combined", seed=11, rate=20.0, attack_share=0.25)
    vhost = d / "vhost.log"
    write_sample(vhost, BATCH_LINES + 7, "vhost_combined", seed=12, rate=20.0, attack_share=0.2)
    archive = d / "rotated.log.gz"
    with gzip.open(archive, "wb") as out:
        out.write((SAMPLES / "combined.log").read_bytes())
    short = d / "short.log"  # fewer lines than format detection needs: held until the end of input
    short.write_bytes(b"".join((SAMPLES / "common.log").read_bytes().splitlines(keepends=True)[:7]))
    noisy = d / "noisy.log"
    lines = big.read_bytes().splitlines(keepends=True)[:2500]
    lines[100:100] = [b"\x16\x03\x01\x02 not a request\n", b"\n", b"GET / HTTP/1.1\n"]
    noisy.write_bytes(b"".join(lines))
    copies = [shutil.copy(SAMPLES / name, d / name) for name in
              ("combined.log", "common.log", "nginx_main.log", "vhost_combined.log", "caddy.json", "ufw.log")]
    return [str(big), *map(str, copies[:3]), str(short), str(archive), str(vhost), *map(str, copies[3:]), str(noisy)]


def scan(capsys: pytest.CaptureFixture[str], tmp: Path, jobs: str, *args: str) -> tuple[int, str, str, dict]:
    """Run one scan in this process; its status, stdout, stderr and the files it wrote."""
    out_dir = tmp / f"j{jobs}"
    out_dir.mkdir()
    argv = [a.replace("{out}", str(out_dir)) for a in args]
    status = main(["scan", "-j", jobs, *argv])
    captured = capsys.readouterr()
    files = {p.name: p.read_bytes() for p in sorted(out_dir.iterdir())}
    err = captured.err.replace(str(out_dir), "{out}")
    return status, _TIMING.sub("", captured.out), err, files


@pytest.mark.parametrize(("output", "export"), [("jsonl", "jsonl"), ("csv", "raw"), ("table", "csv")])
def test_every_output_and_export_is_identical_for_any_number_of_processes(
        logs: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], output: str, export: str) -> None:
    args = ["-o", output, "--export-flagged", "{out}/flagged", "--export-format", export,
            "--blocklist", "{out}/block.nft", "--blocklist-format", "nftables", "--min-severity", "nuisance",
            "--top", "15", *logs]
    runs = {jobs: scan(capsys, tmp_path, jobs, *args) for jobs in JOBS}
    status, out, _err, files = runs["1"]
    assert status == 0 and set(files) == {"flagged", "block.nft"}
    assert len(out) > 10_000 and files["flagged"] and b"add element" in files["block.nft"]
    for jobs in JOBS[1:]:
        assert runs[jobs] == runs["1"], f"-j {jobs} differs from -j 1"


def test_only_flagged_jsonl_has_alerts_from_every_batch(logs: list[str], tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    one = scan(capsys, tmp_path, "1", "-o", "jsonl", "--only-flagged", logs[0])
    two = scan(capsys, tmp_path, "3", "-o", "jsonl", "--only-flagged", logs[0])
    assert one == two
    lines = [int(m) for m in re.findall(r'"line": ?(\d+)', one[1])]
    assert max(lines) > 3 * BATCH_LINES - 300 and min(lines) < BATCH_LINES  # flagged lines in the first and last batch
    assert '"type": "alert"' in one[1] or '"type":"alert"' in one[1]


@pytest.mark.parametrize("case", ["unknown format", "truncated gzip"])
def test_an_input_error_is_met_at_the_same_line_with_the_same_message(
        logs: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    """An unknown format stops the scan there; a read error is reported and the next file is scanned."""
    bad = tmp_path / "bad"
    if case == "unknown format":
        bad.write_bytes(b"".join(b"%d this is no access log\n" % i for i in range(120)))
    else:
        data = gzip.compress(Path(logs[0]).read_bytes())
        bad.write_bytes(data[: len(data) // 2])
    args = ["-o", "jsonl", "--export-flagged", "{out}/flagged", "--force", logs[1], str(bad), logs[2]]
    runs = {jobs: scan(capsys, tmp_path, jobs, *args) for jobs in JOBS}
    status, out, err, _files = runs["1"]
    assert status == 2 and str(bad) in err and out
    assert (logs[2] in out) == (case == "truncated gzip")
    for jobs in JOBS[1:]:
        assert runs[jobs] == runs["1"], f"-j {jobs} differs from -j 1"


def test_standard_input_and_bad_job_counts(logs: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    data = Path(logs[1]).read_bytes()
    outs = []
    for jobs in ("1", "4"):  # standard input is read by the one process
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        outs.append(scan(capsys, tmp_path, jobs, "-o", "jsonl", "-"))
    assert outs[0] == outs[1] and outs[0][1].count('"type": "request"') == data.count(b"\n")
    for bad in ("0", "-2", "many"):
        with pytest.raises(SystemExit) as exc:
            main(["scan", "-j", bad, logs[1]])
        assert exc.value.code == 2
        assert "argument --jobs/-j" in capsys.readouterr().err


def test_auto_uses_one_process_per_free_core_for_large_inputs_only(tmp_path: Path) -> None:
    from threatlens.parallel.jobs import AUTO_MAX, AUTO_MIN_BYTES, available_cores, resolve_jobs

    small = tmp_path / "small.log"
    small.write_bytes(b"x\n" * 1000)
    large = tmp_path / "large.log"
    with large.open("wb") as f:
        f.truncate(AUTO_MIN_BYTES)  # sparse: its size is what counts
    archive = tmp_path / "a.gz"
    archive.write_bytes(gzip.compress(b"x") + b"\0" * (AUTO_MIN_BYTES // 4))  # counts as 8 times its size
    cores = available_cores()
    for busy in (0.0, float(cores)):  # small input: one process, however free the cores
        assert resolve_jobs("auto", [str(small)], busy=busy) == 1
    assert resolve_jobs("auto", [str(small), str(large)], busy=0.0) == min(cores, AUTO_MAX)
    assert resolve_jobs("auto", [str(archive)], busy=0.0) == min(cores, AUTO_MAX)
    assert resolve_jobs("auto", [str(large)], busy=float(cores)) == 1  # every core taken by others
    assert resolve_jobs(4, [str(small)], busy=float(cores)) == 4  # -j N is obeyed whatever the load
    assert resolve_jobs(2, [str(large)], busy=0.0) == 2


@pytest.mark.parametrize(("cores", "busy", "expected"), [
    (1, 0.0, 1),  # one core: nothing to share
    (2, 0.0, 2), (2, 0.75, 2),  # 1.25 cores free: -j 2 beats -j 1
    (2, 0.8, 1), (2, 1.0, 1), (2, 1.9, 1), (2, 2.0, 1),  # less: -j 2 would be slower (autogroup)
    (4, 0.0, 3), (4, 1.75, 3), (4, 1.8, 2), (4, 2.75, 2), (4, 2.8, 1), (4, 6.0, 1),
    (64, 0.0, 3), (64, 62.75, 2), (64, 63.0, 1),  # at most AUTO_MAX
])
def test_auto_decision_table(cores: int, busy: float, expected: int) -> None:
    from threatlens.parallel.jobs import auto_processes

    assert auto_processes(cores, busy) == expected


def test_busy_cores_sees_a_busy_process() -> None:
    """The measure itself, on a real process that keeps a core busy."""
    import subprocess
    import sys

    from threatlens.parallel.jobs import available_cores, busy_cores

    cores = available_cores()
    with subprocess.Popen([sys.executable, "-c", "import sys\nsys.stdout.write('go\\n'); sys.stdout.flush()\n"
                           "while True: pass"], stdout=subprocess.PIPE) as spin:
        try:
            assert spin.stdout is not None and spin.stdout.readline() == b"go\n"
            busy = busy_cores(0.3)
        finally:
            spin.kill()
    assert 0.5 <= busy <= cores  # the child had at least half a core, whatever else runs


def test_auto_says_on_a_terminal_how_many_processes_it_chose(tmp_path: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    from threatlens.parallel.jobs import AUTO_MIN_BYTES, auto_processes

    log = tmp_path / "large.log"
    one = (SAMPLES / "combined.log").read_bytes()
    log.write_bytes(one * (AUTO_MIN_BYTES // len(one) + 1))
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "threatlens", "scan", "--no-detect", "-o", "jsonl", str(log)],
                              stdout=subprocess.DEVNULL, stderr=follower, timeout=300,
                              env={**os.environ, "COLUMNS": "200"})
        os.close(follower)
        follower = -1
        err = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            err += chunk
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    assert proc.returncode == 0
    found = re.search(rb"-j auto: (\d) process(?:es)? \(([0-9.]+) of (\d+) cores free\)", err)
    assert found, err[-2000:]
    n, free, cores = int(found[1]), float(found[2]), int(found[3])
    assert n == auto_processes(cores, cores - free) and 1 <= n <= 3


def test_ctrl_c_stops_every_process_and_keeps_the_export(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    psutil = pytest.importorskip("psutil")
    log = tmp_path / "a.log"
    log.write_bytes((SAMPLES / "combined.log").read_bytes())
    flagged = tmp_path / "flagged.log"
    proc = subprocess.Popen([sys.executable, "-m", "threatlens", "scan", "-j", "3", "-o", "jsonl",
                             "--export-flagged", str(flagged), *[str(log)] * 400],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    assert proc.stdout is not None
    first = proc.stdout.readline()  # scanning: the parsing processes are running
    assert first.startswith(b'{"type"')
    children = psutil.Process(proc.pid).children()
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal does: the whole foreground group
    _rest, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err.decode()
    assert b"Traceback" not in err and b"interrupted" in err
    assert flagged.exists()
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert len(children) >= 2 and alive == []


def test_a_log_that_grows_during_the_scan_is_read_as_it_was_at_the_start(logs: list[str], tmp_path: Path) -> None:
    from threatlens.parallel.local import LocalParsers
    from threatlens.parallel.units import BATCH, END, ParseSpec, unpack

    log = tmp_path / "live.log"
    source = Path(logs[0]).read_bytes()
    log.write_bytes(source)
    with LocalParsers([str(log)], ParseSpec(), 2) as parsers:  # two readers, each at its own pace
        with log.open("ab") as out:  # appended after the start: no process may read it, or they could disagree
            out.write(source)
        units = list(parsers.units())
    assert [u.kind for u in units] == [BATCH] * len(units[:-1]) + [END]
    lines = [r.line for u in units[:-1] for r in unpack(u.packed)]  # type: ignore[arg-type]
    assert lines == list(range(1, source.count(b"\n") + 1))


def test_packed_batches_come_back_as_the_same_records_through_pickle(logs: list[str]) -> None:
    # what a parsing process sends: requests-only batches as columns with repeated texts shared, mixed
    # batches (firewall records, unparsed lines) as rows; the scanning process must get equal records back
    import pickle

    from threatlens.parallel.units import pack, unpack
    from threatlens.parsers import LogRecord
    from threatlens.pipeline import Pipeline
    from threatlens.sources import iter_batches

    seen_columns = seen_rows = False
    for path in logs:
        pipeline = Pipeline()
        for batch in iter_batches(path):
            results = pipeline.parse(batch)
            packed = pack(results)
            columns = all(type(r) is LogRecord for r in results)
            seen_columns |= columns and bool(results)
            seen_rows |= not columns
            back = unpack(pickle.loads(pickle.dumps(packed, protocol=pickle.HIGHEST_PROTOCOL)))
            assert back == results and list(map(type, back)) == list(map(type, results))
    assert seen_columns and seen_rows
    assert unpack(pack([])) == []


def test_a_truncated_gzip_gives_every_complete_line_before_its_cut(logs: list[str], tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """What ``zcat`` recovers of a cut archive is scanned, in every mode, and the error names its last line (it
    used to drop the batch being read and up to a megabyte of decompressed lines before it)."""
    import zlib

    data = gzip.compress(b"".join(Path(p).read_bytes() for p in logs) * 3)
    cut = data[: len(data) * 2 // 3]
    bad = tmp_path / "cut.log.gz"
    bad.write_bytes(cut)
    recovered = zlib.decompressobj(wbits=31).decompress(cut)  # what zcat prints before its error
    complete = recovered.count(b"\n")
    assert complete > 2 * BATCH_LINES  # the cut is past the first batches
    runs = {jobs: scan(capsys, tmp_path, jobs, "-o", "jsonl", str(bad)) for jobs in JOBS}
    status, out, err, _files = runs["1"]
    assert status == 2 and f"read error after line {complete}:" in err
    lines = [int(m) for m in re.findall(r'"line": ?(\d+)', out)]
    assert max(lines) == complete and len(set(lines)) == complete
    for jobs in JOBS[1:]:
        assert runs[jobs] == runs["1"], f"-j {jobs} differs from -j 1"
