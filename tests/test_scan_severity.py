"""``--min-severity``: what ``scan --only-flagged``, ``--export-flagged`` and ``--blocklist`` include.

A real ``threatlens scan`` (shipped model and behaviour detectors) on a small log holding one SQL
injection (``attack``), a PROPFIND and a template probe (``suspicious``), and a client switching
user agents on every request (a ``user_agent_switching`` alert: ``nuisance``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from threatlens.cli import main
from threatlens.config import Config
from threatlens.errors import ConfigError

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{}.0 Safari/537.36"
ATTACKER, SUSPECTS, BOT = "203.0.113.66", {"192.0.2.88", "192.0.2.99"}, "192.0.2.77"


def _line(ip: str, second: int, request: str, status: int, agent: str) -> str:
    stamp = f"21/Nov/2026:10:{second // 60:02d}:{second % 60:02d} +0000"
    return f'{ip} - - [{stamp}] "{request}" {status} 512 "-" "{agent}"'


@pytest.fixture(scope="module")
def tiers_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lines = [
        _line("198.51.100.10", 0, "GET / HTTP/1.1", 200, BROWSER.format(120)),
        _line("198.51.100.10", 1, "GET /about.html HTTP/1.1", 200, BROWSER.format(120)),
        _line(ATTACKER, 2, "GET /item.php?id=1%27%20UNION%20SELECT%20username,password%20FROM%20users-- HTTP/1.1",
              200, "Mozilla/5.0"),
        _line("192.0.2.88", 4, "PROPFIND / HTTP/1.1", 405, "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"),
        _line("192.0.2.99", 5, "GET /search?q=%7B%7B7*7%7D%7D%24%7Bfoo%7D HTTP/1.1", 200, "Mozilla/5.0 (X11; Linux)"),
    ]
    lines += [_line(BOT, 60 + i, f"GET /page{i}.html HTTP/1.1", 200, BROWSER.format(110 + i)) for i in range(8)]
    path = tmp_path_factory.mktemp("tiers") / "access.log"
    path.write_text("".join(x + "\n" for x in lines))
    return path


def _scan(capsys: pytest.CaptureFixture[str], tmp_path: Path, log: Path, *args: str) -> tuple[list[dict], set[str],
                                                                                               list[bytes]]:
    """Run the scan; return the JSON lines printed, the block list's IPs and the exported raw lines."""
    block, evidence = tmp_path / "block.txt", tmp_path / "flagged.log"
    assert main(["scan", "-o", "jsonl", *args, "--blocklist", str(block), "--export-flagged", str(evidence),
                 "--force", str(log)]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    return rows, set(block.read_text().split()), evidence.read_bytes().splitlines()


def _flagged(rows: list[dict]) -> list[tuple[str, str, str]]:
    return [(r["type"], r["ip"], r["severity"]) for r in rows if r["type"] == "alert" or r.get("flagged")]


def test_the_log_holds_every_tier(tiers_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows, _, _ = _scan(capsys, tmp_path, tiers_log, "--min-severity", "nuisance")
    found = _flagged(rows)
    assert ("request", ATTACKER, "attack") in found
    assert {ip for kind, ip, tier in found if tier == "suspicious" and kind == "request"} == SUSPECTS
    assert ("alert", BOT, "nuisance") in found
    assert all(tier != "nuisance" for kind, _ip, tier in found if kind == "request")  # the bot is only an alert


def test_only_flagged_defaults_to_the_attack_tier(tiers_log: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    rows, blocked, exported = _scan(capsys, tmp_path, tiers_log, "--only-flagged")
    assert rows and {r["severity"] for r in rows} == {"attack"}
    assert {r["ip"] for r in rows} == {ATTACKER}
    assert blocked == {ATTACKER}
    lines = tiers_log.read_bytes().splitlines()
    assert exported == [lines[r["line"] - 1] for r in rows if r["type"] == "request"]


def test_min_severity_nuisance_prints_and_blocks_every_tier(tiers_log: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    rows, blocked, exported = _scan(capsys, tmp_path, tiers_log, "--only-flagged", "--min-severity", "nuisance")
    assert {r["severity"] for r in rows} == {"attack", "suspicious", "nuisance"}
    assert blocked == {ATTACKER, BOT, *SUSPECTS}
    assert len(exported) == 3  # the flagged requests of every tier (the bot's requests are not flagged)
    rows, blocked, exported = _scan(capsys, tmp_path, tiers_log, "--only-flagged", "--min-severity", "suspicious")
    assert {r["severity"] for r in rows} == {"attack", "suspicious"} and blocked == {ATTACKER, *SUSPECTS}


def test_without_only_flagged_every_line_is_printed(tiers_log: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    rows, blocked, _ = _scan(capsys, tmp_path, tiers_log)
    requests = [r for r in rows if r["type"] == "request"]
    assert len(requests) == len(tiers_log.read_bytes().splitlines())  # the contract: one object per input line
    assert any(r["type"] == "alert" and r["severity"] == "nuisance" for r in rows)  # every alert too
    assert blocked == {ATTACKER}  # the block list still defaults to the attack tier


def test_min_severity_from_the_config_file_and_typed_over_it(tiers_log: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "config.toml"
    conf.write_text('min_severity = "suspicious"\n')
    rows, blocked, _ = _scan(capsys, tmp_path, tiers_log, "--only-flagged", "--config", str(conf))
    assert blocked == {ATTACKER, *SUSPECTS} and "suspicious" in {r["severity"] for r in rows}
    rows, blocked, _ = _scan(capsys, tmp_path, tiers_log, "--only-flagged", "--config", str(conf),
                             "--min-severity", "attack")
    assert blocked == {ATTACKER} and {r["severity"] for r in rows} == {"attack"}


def test_a_bad_tier_is_refused_with_its_line(tmp_path: Path) -> None:
    conf = tmp_path / "config.toml"
    conf.write_text('threshold = 0.7\nmin_severity = "high"\n')
    with pytest.raises(ConfigError, match=r"config.toml:2: min_severity must be one of attack, suspicious, nuisance"):
        Config.load(conf)
