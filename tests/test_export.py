from __future__ import annotations

import csv
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from threatlens.errors import ExportError
from threatlens.export import (
    BLOCKLIST_EXTENSIONS,
    BLOCKLIST_FORMATS,
    csv_safe,
    default_export_name,
    normalize_ips,
    render_blocklist,
    write_blocklist,
    write_csv,
    write_jsonl,
    write_raw,
)

GOLDEN = Path(__file__).parent / "data" / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

IPS = [
    "203.0.113.9",
    " 198.51.100.7",
    "2001:db8::1",
    "203.0.113.9",  # duplicate
    "::ffff:192.0.2.44",  # IPv4-mapped: becomes 192.0.2.44
    "2001:DB8:0:0:0:0:0:a",  # normalised to 2001:db8::a
    "9.9.9.9",
]

RAWS = [
    b'203.0.113.9 - - [14/Mar/2026:06:00:00 +0000] "GET /?q=\\"x\\" HTTP/1.1" 200 5 "-" "curl/8"',
    b"\xff\xfe binary \x00 line",
    b"caf\xc3\xa9 \x1b[31mred\x1b[0m",
]

ROWS = [
    {
        "type": "request",
        "file": "access.log",
        "line": 1,
        "ip": "203.0.113.9",
        "time": datetime(2026, 3, 14, 6, 0, tzinfo=UTC),
        "method": "GET",
        "path": "/search",
        "query": "q=%27+or+1%3D1--",
        "status": 200,
        "bytes": 5120,
        "user_agent": '=HYPERLINK("http://x")',
        "score": 0.97,
        "flagged": True,
        "categories": ["sqli"],
        "reasons": ["sql keyword", "tautology"],
        "country": "US",
        "port": 443,
    },
    {
        "type": "request",
        "file": "access.log",
        "line": 2,
        "ip": "2001:db8::1",
        "time": None,
        "method": "POST",
        "path": "/login",
        "query": None,
        "status": 401,
        "bytes": 0,
        "user_agent": "-\tcmd|' /C calc'!A0",
        "score": 0.2,
        "flagged": False,
        "categories": [],
        "reasons": [],
        "country": None,
        "port": None,
        "extra": "ignored in CSV",
    },
    {"type": "unparsed", "file": "access.log", "line": 3, "error": "binary data", "raw": "\udcff\udcfe"},
]


def _check_golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1 once and review it"
    assert data == path.read_bytes(), f"{name} differs from its golden file"


@pytest.mark.parametrize("fmt", BLOCKLIST_FORMATS)
def test_blocklist_golden(fmt: str, tmp_path: Path) -> None:
    text = render_blocklist(IPS, fmt, comment="ThreatLens test list\nsecond line \x1b[2J")
    _check_golden(f"blocklist-{fmt}.{BLOCKLIST_EXTENSIONS[fmt]}", text.encode())
    assert "\x1b" not in text
    out = tmp_path / f"block.{BLOCKLIST_EXTENSIONS[fmt]}"
    assert write_blocklist(out, IPS, fmt, comment="ThreatLens test list\nsecond line \x1b[2J") == 6
    assert out.read_text() == text


def test_blocklist_contents_per_format() -> None:
    ips = ["192.0.2.1", "2001:db8::5"]
    assert render_blocklist(ips, "plain") == "192.0.2.1\n2001:db8::5\n"
    nft = render_blocklist(ips, "nftables")
    assert "add element inet filter threatlens_block { 192.0.2.1 }" in nft
    assert "add element inet filter threatlens_block_v6 { 2001:db8::5 }" in nft
    ipset = render_blocklist(ips, "ipset", set_name="bad")
    assert "create bad hash:ip family inet " in ipset and "create bad_v6 hash:ip family inet6 " in ipset
    assert "add bad_v6 2001:db8::5 -exist" in ipset
    assert "deny 2001:db8::5;" in render_blocklist(ips, "nginx")
    apache = render_blocklist(ips, "apache")
    assert apache.index("<RequireAll>") < apache.index("Require not ip 192.0.2.1") < apache.index("</RequireAll>")
    assert "fail2ban-client set web banip 192.0.2.1" in render_blocklist(ips, "fail2ban", jail="web")
    crowdsec = render_blocklist(ips, "crowdsec", duration="4h").splitlines()
    assert crowdsec == [
        "duration,reason,scope,type,value",
        "4h,threatlens,ip,ban,192.0.2.1",
        "4h,threatlens,ip,ban,2001:db8::5",
    ]


def test_empty_blocklists_are_valid() -> None:
    assert render_blocklist([], "plain") == ""
    nft = render_blocklist([], "nftables")
    assert "add element" not in nft  # an empty element list is a syntax error in nft
    assert render_blocklist([], "crowdsec") == "duration,reason,scope,type,value\n"


@pytest.mark.parametrize(
    "bad",
    [
        "1.2.3.4; rm -rf /",
        "1.2.3.4\nadd rule",
        "10.0.0.0/8",
        "fe80::1%eth0",
        "example.com",
        "",
        "1.2.3.256",
        "<script>",
    ],
)
def test_invalid_ip_never_reaches_a_firewall_file(bad: str, tmp_path: Path) -> None:
    with pytest.raises(ExportError):
        render_blocklist(["192.0.2.1", bad], "nftables")
    with pytest.raises(ExportError):
        write_blocklist(tmp_path / "x.conf", [bad], "nginx")
    assert not (tmp_path / "x.conf").exists()
    assert list(tmp_path.iterdir()) == []


def test_bad_names_rejected() -> None:
    with pytest.raises(ExportError):
        render_blocklist(["192.0.2.1"], "nftables", set_name="x; flush ruleset")
    with pytest.raises(ExportError):
        render_blocklist(["192.0.2.1"], "fail2ban", jail="a b")
    with pytest.raises(ExportError):
        render_blocklist(["192.0.2.1"], "crowdsec", duration="1d; rm")
    with pytest.raises(ExportError):
        render_blocklist(["192.0.2.1"], "iptables")


def test_normalize_ips_sorts_dedups_and_unmaps() -> None:
    assert [str(a) for a in normalize_ips(IPS)] == [
        "9.9.9.9",
        "192.0.2.44",
        "198.51.100.7",
        "203.0.113.9",
        "2001:db8::1",
        "2001:db8::a",
    ]


def test_write_raw_is_byte_exact(tmp_path: Path) -> None:
    out = tmp_path / "flagged.log"
    assert write_raw(out, RAWS) == 3
    assert out.read_bytes() == b"".join(r + b"\n" for r in RAWS)
    _check_golden("export.raw.log", out.read_bytes())


def test_write_jsonl_golden(tmp_path: Path) -> None:
    out = tmp_path / "flagged.jsonl"
    assert write_jsonl(out, ROWS) == 3
    data = out.read_bytes()
    _check_golden("export.jsonl", data)
    rows = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    assert rows[0]["time"] == "2026-03-14T06:00:00+00:00"
    assert rows[0]["categories"] == ["sqli"]
    assert rows[2]["raw"] == "\udcff\udcfe"  # undecodable bytes survive as escapes


def test_write_csv_golden_and_formula_guard(tmp_path: Path) -> None:
    out = tmp_path / "flagged.csv"
    assert write_csv(out, ROWS) == 3
    _check_golden("export.csv", out.read_bytes())
    with out.open(newline="", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert table[0]["user_agent"].startswith("'=")
    assert table[0]["reasons"] == "sql keyword;tautology"
    assert table[0]["flagged"] == "true"
    assert table[1]["user_agent"].startswith("'-")
    assert table[1]["query"] == ""
    assert "extra" not in table[1]


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)"])
def test_csv_safe_defuses_formulas(cell: str) -> None:
    assert csv_safe(cell) == "'" + cell
    assert csv_safe(-1) == "-1"  # a real number stays a number
    assert csv_safe(["a", "=b"]) == "a;=b"  # joined text starts safely


def test_csv_cells_show_invisible_and_control_characters_escaped() -> None:
    """Tag characters, bidi overrides and controls are visible escapes in a cell, as in the scan table."""
    tag = "".join(chr(0xE0000 + ord(c)) for c in "run")
    assert csv_safe(f"/x{tag}") == "/x\\u{e0072}\\u{e0075}\\u{e006e}"
    assert csv_safe("a\u202eb") == "a\\u{202e}b"
    assert csv_safe("\tx") == "\\tx" and csv_safe("\rx") == "\\x0dx"  # no longer a cell that starts blank
    assert csv_safe(["ok", f"t{tag[0]}"]) == "ok;t\\u{e0072}"


def test_csv_safe_joined_list_starting_with_formula() -> None:
    assert csv_safe(["=cmd", "x"]) == "'=cmd;x"


def test_never_overwrites_unless_asked(tmp_path: Path) -> None:
    out = tmp_path / "x.log"
    out.write_bytes(b"keep me\n")
    with pytest.raises(FileExistsError):
        write_raw(out, [b"new"])
    with pytest.raises(FileExistsError):
        write_blocklist(out, ["192.0.2.1"], "plain")
    assert out.read_bytes() == b"keep me\n"
    assert write_raw(out, [b"new"], overwrite=True) == 1
    assert out.read_bytes() == b"new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.log"]  # no temporary files left


def test_failure_midway_leaves_nothing(tmp_path: Path) -> None:
    def rows():
        yield {"ip": "192.0.2.1"}
        raise RuntimeError("source failed")

    with pytest.raises(RuntimeError):
        write_jsonl(tmp_path / "x.jsonl", rows())
    assert list(tmp_path.iterdir()) == []


def test_written_file_mode_follows_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_raw(tmp_path / "m.log", [b"x"])
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.log").stat().st_mode) == 0o640


def test_default_export_name() -> None:
    when = datetime(2026, 11, 21, 23, 45, 1)
    assert default_export_name("flagged", "log", when) == "threatlens-flagged-20261121-234501.log"
    assert default_export_name("ip 1.2.3.4/x", ".jsonl", when) == "threatlens-ip-1.2.3.4-x-20261121-234501.jsonl"
    assert default_export_name("../../etc", "sh", when).startswith("threatlens-etc-")
    assert default_export_name("alerts", "csv").startswith("threatlens-alerts-2")


def test_nftables_output_passes_nft_check(tmp_path: Path) -> None:
    import shutil
    import subprocess

    nft = shutil.which("nft")
    if nft is None:
        pytest.skip("nft (nftables) is not installed")
    out = tmp_path / "block.nft"
    write_blocklist(out, IPS + [f"198.18.{i // 256}.{i % 256}" for i in range(600)], "nftables")
    proc = subprocess.run([nft, "-c", "-f", str(out)], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0 and "Operation not permitted" in proc.stderr:
        pytest.skip("nft -c needs CAP_NET_ADMIN here")
    assert proc.returncode == 0, proc.stderr
