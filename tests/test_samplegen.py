from __future__ import annotations

import ipaddress
import json
import re
import shlex
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from threatlens.samplegen import (
    ATTACK_KINDS,
    BENIGN_ROLES,
    FORMATS,
    Traffic,
    generate,
    live_lines,
    write_sample,
)
from threatlens.samplegen.__main__ import main as cli_main
from threatlens.samplegen.formats import apache_escape, nginx_escape, parse_tz

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_logs"

Q = r'"((?:[^"\\]|\\.)*)"'
TS = r"\[(\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\]"
COMMON = rf"(\S+) - - {TS} {Q} (\d{{3}}) (\d+|-)"
LINE_RES = {
    "common": re.compile(rf"^{COMMON}$"),
    "combined": re.compile(rf"^{COMMON} {Q} {Q}$"),
    "vhost_combined": re.compile(rf"^[\w.-]+:\d+ (\S+) - - {TS} {Q} (\d{{3}}) (\d+) {Q} {Q}$"),
    "nginx": re.compile(rf"^(\S+) - - {TS} {Q} (\d{{3}}) (\d+) {Q} {Q}$"),
    "nginx_main": re.compile(rf"^(\S+) - - {TS} {Q} (\d{{3}}) (\d+) {Q} {Q} {Q}$"),
}
JSON_KEYS = {
    "traefik": ("ClientHost", "RequestMethod", "RequestPath", "DownstreamStatus", "StartUTC"),
    "caddy": ("ts", "request", "status", "size"),
}


def _ip_and_time(fmt: str, line: str) -> tuple[str, datetime]:
    if fmt == "traefik":
        row = json.loads(line)
        return row["ClientHost"], datetime.fromisoformat(row["StartUTC"])
    if fmt == "caddy":
        row = json.loads(line)
        return row["request"]["remote_ip"], datetime.fromtimestamp(row["ts"], UTC)
    m = LINE_RES[fmt].match(line)
    assert m, f"{fmt} line does not match: {line!r}"
    return m[1], datetime.strptime(m[2], "%d/%b/%Y:%H:%M:%S %z")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_line_matches_its_format_in_time_order(fmt: str) -> None:
    lines = list(generate(1500, fmt, seed=11))
    assert len(lines) == 1500
    previous = None
    for line in lines:
        assert "\n" not in line
        if fmt in JSON_KEYS:
            row = json.loads(line)
            for key in JSON_KEYS[fmt]:
                assert key in row
        ip, when = _ip_and_time(fmt, line)
        ipaddress.ip_address(ip)
        assert when.tzinfo is not None
        if previous is not None:
            assert when >= previous.replace(microsecond=0)
        previous = when


def test_same_seed_same_output_other_seed_differs() -> None:
    a = list(generate(800, "combined", seed=5))
    b = list(generate(800, "combined", seed=5))
    c = list(generate(800, "combined", seed=6))
    assert a == b
    assert a != c


def test_labels_cover_exactly_the_ips_and_attack_share_is_bounded(tmp_path: Path) -> None:
    log, labels, per_line = tmp_path / "x.log", tmp_path / "x.labels", tmp_path / "x.lines"
    counts = write_sample(log, 5000, "combined", seed=2, labels_path=labels, line_labels_path=per_line)
    roles = dict(line.split("\t") for line in labels.read_text().splitlines())
    ips_in_log = {LINE_RES["combined"].match(line)[1] for line in log.read_text().splitlines()}
    assert set(roles) == ips_in_log
    valid = set(BENIGN_ROLES) | {f"attacker:{k}" for k in ATTACK_KINDS}
    assert set(roles.values()) <= valid
    # Every kind of attack shows up in a 5k-line sample, each from its own IPs.
    assert {r.split(":", 1)[1] for r in roles.values() if r.startswith("attacker:")} == set(ATTACK_KINDS)
    total = sum(counts.values())
    assert total == 5000
    attack_lines = sum(v for k, v in counts.items() if k.startswith("attacker:"))
    assert 0.01 <= attack_lines / total <= 0.10
    # Per-line labels agree with the per-IP labels and with the log.
    rows = [r.split("\t") for r in per_line.read_text().splitlines()[1:]]
    assert len(rows) == 5000
    for _n, ip, role, category in rows[::7]:
        assert roles[ip] == role
        assert category == "-" or role.startswith("attacker:")
    benign_ips = [ip for ip, r in roles.items() if r == "benign"]
    assert len(benign_ips) >= 150
    assert any(":" in ip for ip in benign_ips), "some IPv6 clients"
    public = [ip for ip in benign_ips if ipaddress.ip_address(ip).is_global]
    assert len(public) == len(benign_ips)
    assert len({ip.split(".")[0] for ip in benign_ips if "." in ip}) >= 50, "addresses from many /8s"


def test_content_has_attacks_and_hard_negatives() -> None:
    sim = Traffic(seed=3)
    events = list(sim.events(20000))
    benign_targets = " ".join(e.request.target for e in events if e.role == "benign")
    for word in ("select", "script", "union", "%27", "drop-leaf"):
        assert word in benign_targets.lower()
    attack_text = " ".join(f"{e.request.target} {e.request.user_agent}" for e in events if e.category)
    for marker in (
        "union",
        "sleep(",
        "information_schema",
        "<script>",
        "onerror",
        "etc/passwd",
        "%2e%2e",
        "/.env",
        "/.git/config",
        "wp-login.php",
    ):
        assert marker in attack_text.lower(), marker
    statuses = Counter(e.request.status for e in events)
    for status in (200, 301, 302, 304, 404):
        assert statuses[status] > 0, status
    brute = [e for e in events if e.role == "attacker:brute_force" and e.request.method == "POST"]
    assert len(brute) >= 10
    # Attack episodes are clustered: each attacker's lines span far less than the whole log.
    span = events[-1].t - events[0].t
    by_ip: dict[str, list[float]] = {}
    for e in events:
        if e.role.startswith("attacker:"):
            by_ip.setdefault(e.ip, []).append(e.t)
    assert by_ip
    assert all(max(ts) - min(ts) < span / 3 for ts in by_ip.values())


def test_ua_switching_and_crawlers_present() -> None:
    events = list(Traffic(seed=9).events(5000))
    switch = {e.request.user_agent for e in events if e.role == "attacker:ua_switching"}
    assert len(switch) >= 4
    crawler_uas = " ".join({e.request.user_agent or "" for e in events if e.role == "crawler"})
    assert "Googlebot" in crawler_uas or "bingbot" in crawler_uas


def test_escaping_matches_servers() -> None:
    assert apache_escape('a"b\\c\x01é') == 'a\\"b\\\\c\\x01\\xc3\\xa9'
    assert nginx_escape('a"b\\c\x01é') == "a\\x22b\\x5Cc\\x01\\xC3\\xA9"
    assert apache_escape("plain") == "plain"


def test_parse_tz() -> None:
    assert parse_tz("+0530").utcoffset(None).total_seconds() == 5.5 * 3600
    assert parse_tz("-07:00").utcoffset(None).total_seconds() == -7 * 3600
    with pytest.raises(ValueError):
        parse_tz("CEST")


def test_live_lines_use_current_time_and_pace() -> None:
    now = [1_800_000_000.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    lines = list(
        live_lines(seed=1, fmt="combined", rate=10.0, n_lines=200, clock=lambda: now[0], sleep=sleep)
    )
    assert len(lines) == 200
    first = _ip_and_time("combined", lines[0])[1].timestamp()
    last = _ip_and_time("combined", lines[-1])[1].timestamp()
    assert 1_800_000_000 - 1 <= first <= last <= now[0] + 1
    assert sum(slept) > 5  # paced: 200 lines at ~10/s take simulated seconds


def test_apache_log_parser_oracle_reads_combined() -> None:
    alp = pytest.importorskip("apache_log_parser")
    parse = alp.make_parser('%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"')
    lines = [line for line in generate(400, "combined", seed=4) if "\\" not in line]
    for line in lines:
        row = parse(line)
        m = LINE_RES["combined"].match(line)
        assert row["remote_host"] == m[1]
        assert row["status"] == m[4]


def test_cli_writes_file_and_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, labels = tmp_path / "o.log", tmp_path / "o.tsv"
    assert (
        cli_main(
            ["--format", "json", "--lines", "300", "--seed", "1", "-o", str(out), "--labels", str(labels)]
        )
        == 0
    )
    assert len(out.read_text().splitlines()) == 300
    assert "wrote 300 lines" in capsys.readouterr().err
    assert labels.read_text().count("\t") >= 5


def test_bundled_samples_match_their_documented_commands(tmp_path: Path) -> None:
    readme = (SAMPLES / "README.md").read_text()
    commands = re.findall(r"^python -m threatlens\.samplegen (.+)$", readme, re.M)
    assert len(commands) >= 5
    for command in commands:
        args = shlex.split(command)
        outputs = {}
        for flag in ("-o", "--labels", "--line-labels"):
            if flag in args:
                i = args.index(flag)
                outputs[flag] = Path(args[i + 1])
                args[i + 1] = str(tmp_path / Path(args[i + 1]).name)
        assert cli_main(args) == 0
        for path in outputs.values():
            assert (tmp_path / path.name).read_bytes() == (ROOT / path).read_bytes(), path
    total = sum(p.stat().st_size for p in SAMPLES.iterdir())
    assert total < 3.5e6  # the access logs, and the firewall log beside combined.log
