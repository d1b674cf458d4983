"""``threatlens scan`` end to end on real files: contract, formats, errors."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from threatlens.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_logs"
SAMPLE_FILES = ["combined.log", "vhost_combined.log", "nginx_main.log", "caddy.json", "common.log"]


def scan_jsonl(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    assert main(["scan", "--output", "jsonl", "--no-detect", *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_every_sample_log_parses_completely(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = SAMPLES / name
    rows = scan_jsonl(capsys, str(path))
    n_lines = len(path.read_bytes().splitlines())
    assert len(rows) == n_lines
    assert [r["line"] for r in rows] == list(range(1, n_lines + 1))
    assert {r["type"] for r in rows} == {"request"}


def test_real_elastic_log_has_no_unparsed_lines(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = shared_data / "logs" / "elastic_apache_logs" / "apache_logs"
    rows = scan_jsonl(capsys, str(path))
    assert len(rows) == 10_000
    assert [r for r in rows if r["type"] != "request"] == []


def test_jsonl_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(
        b'192.0.2.1 - - [21/Nov/2026:10:00:00 +0000] "GET /a?x=1 HTTP/1.1" 200 5 "-" "curl/8"\n'
        b"\x16\x03\x01 garbage\n"
        b'192.0.2.2 - - [21/Nov/2026:10:00:01 +0000] "POST /login HTTP/1.1" 401 - "-" "-"'  # no final newline
    )
    rows = scan_jsonl(capsys, str(log))
    assert rows[0] == {
        "type": "request", "file": str(log), "line": 1, "ip": "192.0.2.1", "time": "2026-11-21T10:00:00+00:00",
        "method": "GET", "path": "/a", "query": "x=1", "protocol": "HTTP/1.1", "status": 200, "bytes": 5,
        "referer": None, "user_agent": "curl/8", "vhost": None, "port": None, "country": rows[0]["country"],
    }
    assert rows[1]["type"] == "unparsed" and rows[1]["line"] == 2 and "TLS" in rows[1]["error"]
    assert rows[2]["line"] == 3 and rows[2]["bytes"] is None and rows[2]["method"] == "POST"


def test_gzip_archive_and_stdin(tmp_path: Path) -> None:
    data = (SAMPLES / "combined.log").read_bytes()[:20000]
    data = data[: data.rindex(b"\n") + 1]
    gz = tmp_path / "access.log.2.gz"
    gz.write_bytes(gzip.compress(data))
    n = data.count(b"\n")
    cmd = [sys.executable, "-m", "threatlens", "scan", "--no-detect", "-o", "jsonl"]
    out = subprocess.run([*cmd, str(gz)], capture_output=True, check=True)
    assert len(out.stdout.splitlines()) == n
    piped = subprocess.run([*cmd, "-"], input=data, capture_output=True, check=True)
    rows = [json.loads(x) for x in piped.stdout.splitlines()]
    assert len(rows) == n and rows[0]["file"] == "-"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/nonexistent/access.log"], "cannot open /nonexistent/access.log: No such file or directory"),
        (["--log-format", "apachee", "FILE"], "unknown log format 'apachee'"),
        (["DIR"], "is a directory"),
        (["--threshold", "2", "FILE"], "--threshold must be between 0 and 1"),
        (["--backfill", "5", "FILE"], "go with --follow"),
    ],
)
def test_errors_exit_2_with_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text('192.0.2.1 - - [21/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "-"\n')
    args = [str(log) if a == "FILE" else str(tmp_path) if a == "DIR" else a for a in args]
    out = subprocess.run([sys.executable, "-m", "threatlens", "scan", *args], capture_output=True, text=True)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_unknown_format_error_is_clear(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text("Nov 21 10:00:00 host sshd[1]: Accepted password for root\n" * 3)
    out = subprocess.run([sys.executable, "-m", "threatlens", "scan", str(log)], capture_output=True, text=True)
    assert out.returncode == 2
    assert "no known log format" in out.stderr and "Accepted password" in out.stderr
    assert "--log-format" in out.stderr


def test_permission_denied(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("running as root: permissions are not enforced")
    log = tmp_path / "secret.log"
    log.write_text("x\n")
    log.chmod(0)
    out = subprocess.run([sys.executable, "-m", "threatlens", "scan", str(log)], capture_output=True, text=True)
    assert out.returncode == 2 and "Permission denied" in out.stderr


def test_version_and_help() -> None:
    from threatlens import __version__

    out = subprocess.run([sys.executable, "-m", "threatlens", "--version"], capture_output=True, text=True)
    assert out.stdout.strip() == f"threatlens {__version__}"
    helptext = subprocess.run([sys.executable, "-m", "threatlens", "scan", "--help"], capture_output=True,
                              text=True).stdout
    for flag in ("--log-format", "--nginx-conf", "--output", "--only-flagged", "--follow", "--threshold",
                 "--export-flagged", "--blocklist"):
        assert flag in helptext


def test_table_summary_shows_countries_ports_and_flagged(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(SAMPLES / "vhost_combined.log")]) == 0
    out = capsys.readouterr().out
    for heading in ("Top client IPs", "Top paths", "Status mix", "Top countries", "Server ports",
                    "Flagged requests", "Behaviour alerts"):
        assert heading in out, heading
    assert "443" in out and "US United States" in out


def test_table_summary_explains_missing_ports(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--no-detect", str(SAMPLES / "common.log")]) == 0
    out = capsys.readouterr().out
    assert "Server ports: not in this log" in out and "%p" in out
    assert "(not scored)" in out


def test_jsonl_has_country_and_port(capsys: pytest.CaptureFixture[str]) -> None:
    rows = scan_jsonl(capsys, str(SAMPLES / "vhost_combined.log"))
    assert {r["port"] for r in rows} == {80, 443}
    assert sum(1 for r in rows if r["country"] == "US") > 100


def _wait_for_lines(path: Path, n: int, timeout: float = 30.0) -> list[dict]:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
        if len(rows) >= n:
            return rows
        time.sleep(0.05)
    raise AssertionError(f"expected {n} lines in {path}, got {path.read_text()!r}")


def test_follow_through_rotation_then_ctrl_c(tmp_path: Path) -> None:
    import signal

    src = (SAMPLES / "combined.log").read_bytes().splitlines(keepends=True)
    log, out = tmp_path / "access.log", tmp_path / "out.jsonl"
    log.write_bytes(b"".join(src[:3]))
    with out.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "threatlens", "scan", "--follow", "--from-start", "--no-detect",
                                 "-o", "jsonl", str(log)], stdout=sink, stderr=subprocess.PIPE)
        try:
            _wait_for_lines(out, 3)
            with log.open("ab") as fh:
                fh.write(b"".join(src[3:6]))
            _wait_for_lines(out, 6)
            log.rename(tmp_path / "access.log.1")  # logrotate's default: rename, then create
            log.write_bytes(b"".join(src[6:8]) + src[8].rstrip(b"\n"))  # last line without newline
            _wait_for_lines(out, 8)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=30)
        finally:
            proc.kill()
    rows = _wait_for_lines(out, 9)
    assert proc.returncode == 0 and b"Traceback" not in err
    assert [r["line"] for r in rows] == [1, 2, 3, 4, 5, 6, 1, 2, 3]
    assert [r["ip"] for r in rows] == [line.split(b" ")[0].decode() for line in src[:9]]


def test_config_file_allowlist_and_defaults_apply_to_scan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "a.log"
    log.write_text(
        '203.0.113.9 - - [21/Nov/2026:10:00:00 +0000] "GET /item?id=1%27%20UNION%20SELECT%20password%20FROM%20users-- '
        'HTTP/1.1" 200 5 "-" "sqlmap/1.7"\n'
        '198.51.100.4 - - [21/Nov/2026:10:00:01 +0000] "GET /item?id=1%27%20UNION%20SELECT%20password%20FROM%20users-- '
        'HTTP/1.1" 200 5 "-" "sqlmap/1.7"\n')
    conf = tmp_path / "config.toml"
    conf.write_text('log_format = "combined"\nallowlist = ["203.0.113.0/24"]\n')
    assert main(["scan", "--config", str(conf), "-o", "jsonl", str(log)]) == 0
    captured = capsys.readouterr()
    rows = [json.loads(x) for x in captured.out.splitlines()]
    requests = {r["ip"]: r for r in rows if r["type"] == "request"}
    assert requests["198.51.100.4"]["flagged"] is True
    assert requests["203.0.113.9"]["flagged"] is False and "allowlisted" in requests["203.0.113.9"]["reasons"]
    assert "auto-detected" not in captured.err  # the config's log_format was used
    bad = tmp_path / "bad.toml"
    bad.write_text("threshold = 'high'\n")
    out = subprocess.run([sys.executable, "-m", "threatlens", "scan", "--config", str(bad), str(log)],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "bad.toml:1" in out.stderr


def test_monitor_version_and_help() -> None:
    from threatlens import __version__

    out = subprocess.run([sys.executable, "-m", "threatlens.tui.main", "--version"], capture_output=True, text=True)
    assert out.stdout.strip() == f"threatlens-tui {__version__}"


def test_csv_has_one_row_per_line_including_unparsed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import csv
    import io

    log = tmp_path / "a.log"
    log.write_bytes(b'192.0.2.1 - - [21/Nov/2026:10:00:00 +0000] "GET /=cmd HTTP/1.1" 200 5 "-" "=HYPERLINK()"\n'
                    b"\x16\x03\x01 garbage\n")
    assert main(["scan", "--no-detect", "-o", "csv", str(log)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["type"] for r in rows] == ["request", "unparsed"]
    assert rows[0]["user_agent"] == "'=HYPERLINK()"  # a spreadsheet never runs log content
    assert rows[1]["line"] == "2" and "TLS" in rows[1]["error"]


def test_headless_exports_match_flagged_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = SAMPLES / "combined.log"
    evidence, blocklist = tmp_path / "flagged.log", tmp_path / "block.conf"
    assert main(["scan", "-o", "jsonl", "--export-flagged", str(evidence), "--blocklist", str(blocklist),
                 "--blocklist-format", "nginx", str(log)]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    # exports and block lists hold the attack tier by default (--min-severity; tests/test_scan_severity.py)
    flagged = [r for r in rows if r["type"] == "request" and r["flagged"] and r["severity"] == "attack"]
    alerted = {ip for r in rows if r["type"] == "alert" and r["severity"] == "attack"
               for ip in r.get("members", [r["ip"]])}
    lines = log.read_bytes().splitlines()
    assert flagged and evidence.read_bytes().splitlines() == [lines[r["line"] - 1] for r in flagged]
    denied = {x.removeprefix("deny ").removesuffix(";") for x in blocklist.read_text().splitlines()
              if x.startswith("deny ")}
    assert denied == {r["ip"] for r in flagged} | alerted
    again = subprocess.run([sys.executable, "-m", "threatlens", "scan", "--no-detect", "--export-flagged",
                            str(evidence), str(log)], capture_output=True, text=True)
    assert again.returncode == 2 and "exists" in again.stderr


def test_follow_standard_input_ends_at_eof_with_every_line() -> None:
    data = (SAMPLES / "combined.log").read_bytes()[:5000]
    data = data[: data.rindex(b"\n")] + b"\n" + b"192.0.2.1 - - [21/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1"
    out = subprocess.run([sys.executable, "-m", "threatlens", "scan", "--follow", "--no-detect", "-o", "jsonl", "-"],
                         input=data, capture_output=True, timeout=60)
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    assert out.returncode == 0
    assert [r["line"] for r in rows] == list(range(1, data.count(b"\n") + 2))  # the last line has no newline


def test_messages_never_send_control_characters_to_the_terminal(tmp_path: Path) -> None:
    evil = tmp_path / "a\x1b[2Jb.log"
    evil.write_text('192.0.2.1 - - [21/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "-"\n')
    ok = subprocess.run([sys.executable, "-m", "threatlens", "scan", "--no-detect", str(evil)],
                        capture_output=True, text=True)
    missing = subprocess.run([sys.executable, "-m", "threatlens", "scan", str(tmp_path / "x\x1b]0;pwned\x07")],
                             capture_output=True, text=True)
    assert ok.returncode == 0 and missing.returncode == 2
    for stream in (ok.stderr, ok.stdout, missing.stderr):
        assert "\x1b" not in stream and "\x07" not in stream
    assert "\\x1b" in ok.stderr and "\\x1b" in missing.stderr


def test_firewall_log_alone_summary_counts_packets_alerts_and_ports(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--top", "5", str(SAMPLES / "ufw.log")]) == 0
    out = capsys.readouterr().out
    lines = (SAMPLES / "ufw.log").read_bytes().count(b"\n")
    assert f"firewall packets {lines:,}  alerts " in out and "(not scored)" not in out
    assert "Firewall: destination ports" in out and "22/tcp" in out and "ssh" in out
    assert "port_scan_vertical" in out and "Server ports: not in this log" not in out
