"""Small edges of ``scan`` from the adversarial run of issue #11 (item 22)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOOD = b'1.2.3.4 - - [10/Oct/2024:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8"\n'
SCAN = [sys.executable, "-m", "threatlens", "scan", "--no-detect"]


def test_nul_inside_a_line_and_a_bad_offset_are_unparsed(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(GOOD * 5 + GOOD.replace(b"+0000", b"+0099") + GOOD.replace(b"GET /", b"GET /a\x00b"))
    done = subprocess.run([*SCAN, "-o", "jsonl", str(log)], capture_output=True, text=True, timeout=120)
    rows = [json.loads(x) for x in done.stdout.splitlines()]
    assert [r["type"] for r in rows] == ["request"] * 5 + ["unparsed"] * 2
    assert "bad UTC offset '+0099'" in rows[5]["error"]
    assert rows[6]["error"] == "binary data (contains NUL bytes)"


def test_closed_standard_input_is_a_clear_error() -> None:
    done = subprocess.run([*SCAN, "-"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                          preexec_fn=lambda: __import__("os").close(0))
    assert done.returncode == 2 and "standard input (-) is closed" in done.stderr, done.stderr


@pytest.mark.parametrize("output", ["table", "jsonl", "csv"])
def test_every_output_ends_quietly_with_status_0_when_the_reader_goes(output: str) -> None:
    # --top 3000: the table output too is larger than the pipe holds, so the writer meets the closed end
    proc = subprocess.Popen([*SCAN, "-o", output, "--top", "3000", str(ROOT / "sample_logs" / "combined.log")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    with proc.stderr:
        stderr = proc.stderr.read()
    assert proc.wait(timeout=120) == 0, stderr
    assert b"Traceback" not in stderr


def test_block_list_leaves_out_local_and_non_client_addresses_unless_asked(tmp_path: Path) -> None:
    from threatlens.export import blockable, left_out_notice

    ips = ["203.0.113.9", "10.1.2.3", "192.168.0.7", "127.0.0.1", "::1", "fe80::1", "0.0.0.0", "::",
           "224.0.0.1", "255.255.255.255", "100.64.0.9", "fd00::5", "2001:db8::1"]
    keep, left = blockable(ips)
    assert keep == ["203.0.113.9", "2001:db8::1"]
    assert left == {"private": 4, "loopback": 2, "link-local": 1, "unspecified": 2, "multicast": 1, "broadcast": 1}
    assert "--include-private" in left_out_notice(left)
    keep, left = blockable(ips, include_private=True)
    assert "10.1.2.3" in keep and "::1" in keep and "fe80::1" in keep
    assert left == {"unspecified": 2, "multicast": 1, "broadcast": 1}
    log = tmp_path / "access.log"
    attack = b' - - [10/Oct/2024:13:55:36 +0000] "GET /../../etc/passwd HTTP/1.1" 404 5 "-" "sqlmap/1.7"\n'
    log.write_bytes(b"".join(ip.encode() + attack for ip in ("203.0.113.9", "10.1.2.3", "127.0.0.1") * 10))
    for extra, expect in (([], {"203.0.113.9"}), (["--include-private"], {"203.0.113.9", "10.1.2.3", "127.0.0.1"})):
        out = tmp_path / f"block{len(extra)}.txt"
        done = subprocess.run([sys.executable, "-m", "threatlens", "scan", "--blocklist", str(out), *extra, str(log)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert set(out.read_text().split()) == expect
        assert ("left out of the block list: 1 loopback, 1 private" in done.stderr) == (not extra)
