"""``threatlens scan --dask``: parsing as tasks on a real Dask cluster gives the output of the local scan.

A LocalCluster of two worker processes (the ``dask`` extra, installed by ``make test``); files cut
into many one-batch tasks so that the spans, the format detection across spans and the reassembly
in input order are all exercised.
"""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from threatlens.cli import main
from threatlens.parallel import cluster
from threatlens.samplegen import write_sample
from threatlens.sources import BATCH_LINES

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed: pip install -e '.[dask]'")

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_logs"


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as local:
        yield local.scheduler_address


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    d = tmp_path_factory.mktemp("dask-logs")
    big = d / "generated.log"
    write_sample(big, 2 * BATCH_LINES + 99, "combined", seed=5, rate=20.0, attack_share=0.25)
    archive = d / "big.log.gz"
    with gzip.open(archive, "wb") as out:
        out.write(big.read_bytes()[: 300_000])
    short = d / "short.log"
    short.write_bytes(b"".join((SAMPLES / "common.log").read_bytes().splitlines(keepends=True)[:5]))
    copies = [shutil.copy(SAMPLES / name, d / name) for name in ("vhost_combined.log", "ufw.log", "caddy.json")]
    return [str(big), str(archive), str(short), *map(str, copies)]


def scan(capsys: pytest.CaptureFixture[str], out: Path, *args: str) -> tuple[int, str, str, bytes, bytes]:
    flagged, block = out / "flagged.jsonl", out / "block.txt"
    status = main(["scan", "-o", "jsonl", "--export-flagged", str(flagged), "--export-format", "jsonl",
                   "--blocklist", str(block), "--force", *args])
    captured = capsys.readouterr()
    return (status, captured.out, captured.err.replace(str(out), "{out}"),
            flagged.read_bytes() if flagged.exists() else b"", block.read_bytes() if block.exists() else b"")


def test_dask_cluster_output_is_the_local_scan_output(scheduler: str, logs: list[str], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "SPAN", 1)  # one batch per task: many tasks, detection kept across them
    local = scan(capsys, tmp_path, "-j", "1", *logs)
    on_dask = scan(capsys, tmp_path, "--dask", scheduler, *logs)
    assert local[0] == 0 and local[1].count("\n") > 2 * BATCH_LINES and local[3] and local[4]
    assert on_dask == local


def test_dask_goes_on_after_a_read_error_like_the_local_scan(scheduler: str, logs: list[str], tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "SPAN", 2)
    cut = tmp_path / "cut.log.gz"
    data = gzip.compress(Path(logs[0]).read_bytes())
    cut.write_bytes(data[: len(data) * 2 // 3])
    args = [logs[3], str(cut), logs[4]]
    local = scan(capsys, tmp_path, "-j", "1", *args)
    assert local[0] == 2 and "read error" in local[2] and f'"file": "{logs[4]}"' in local[1]
    assert scan(capsys, tmp_path, "--dask", scheduler, *args) == local


def test_dask_local_cluster_and_its_limits(logs: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    local = scan(capsys, tmp_path, "-j", "1", logs[3])
    assert scan(capsys, tmp_path, "--dask", "local", "--dask-workers", "1", logs[3]) == local
    for args in (["--dask", "local", "-"], ["--dask", "local", logs[3], logs[3]],
                 ["--dask-workers", "2", logs[3]], ["-j", "2", "--dask", "local", logs[3]]):
        assert main(["scan", *args]) == 2
        assert "dask" in capsys.readouterr().err
