"""The real thing: nftables logging in a network namespace, nmap scanning it from another, the kernel log read back.

Needs root, ``ip``, ``nft`` and ``nmap`` (Debian packages ``iproute2``, ``nftables``, ``nmap``; ``.ci/run``
installs them) and a kernel log this process can read (``/dev/kmsg``). Each missing piece skips
with its reason. Only namespace addresses are scanned (10.77.x.x on a veth pair the test creates);
everything is removed afterwards and ``net.netfilter.nf_log_all_netns`` is restored.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from threatlens.cli import main as cli_main
from threatlens.models.portscan import PortScanDetector
from threatlens.parsers import FirewallParser, FirewallRecord, RawLine

ALL_NETNS = Path("/proc/sys/net/netfilter/nf_log_all_netns")
SERVER, SCANNER = "10.77.0.1", "10.77.0.2"


def _run(*args: str, ns: str | None = None, timeout: float = 60, stdin: str | None = None
         ) -> subprocess.CompletedProcess[str]:
    cmd = ["ip", "netns", "exec", ns, *args] if ns else list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True, input=stdin)


def _why_not() -> str | None:
    if sys.platform != "linux":
        return "Linux network namespaces only"
    if os.geteuid() != 0:
        return "needs root to create network namespaces and firewall rules"
    for tool, package in (("ip", "iproute2"), ("nft", "nftables"), ("nmap", "nmap")):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install {package}; .ci/run installs it)"
    if not ALL_NETNS.exists():
        return "this kernel has no nf_log_all_netns switch (netfilter logging in namespaces)"
    try:
        fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        os.close(fd)
    except OSError as exc:
        return f"the sandbox does not expose the kernel log (/dev/kmsg: {exc.strerror})"
    return None


@pytest.fixture
def lab() -> Iterator[tuple[str, str, str]]:
    """Two namespaces joined by a veth pair; the server logs and drops every TCP packet with a unique prefix."""
    reason = _why_not()
    if reason:
        pytest.skip(reason)
    tag = uuid.uuid4().hex[:6]
    srv, scan, prefix = f"tlsrv{tag}", f"tlscan{tag}", f"tl-{tag}: "
    saved = ALL_NETNS.read_text()
    try:
        _run("ip", "netns", "add", srv)
        _run("ip", "netns", "add", scan)
    except subprocess.CalledProcessError as exc:
        subprocess.run(["ip", "netns", "del", srv], capture_output=True)
        pytest.skip(f"cannot create network namespaces here: {exc.stderr.strip()}")
    try:
        _run("ip", "link", "add", f"tla{tag}", "type", "veth", "peer", "name", f"tlb{tag}")
        _run("ip", "link", "set", f"tla{tag}", "netns", srv)
        _run("ip", "link", "set", f"tlb{tag}", "netns", scan)
        _run("ip", "addr", "add", f"{SERVER}/24", "dev", f"tla{tag}", ns=srv)
        _run("ip", "addr", "add", f"{SCANNER}/24", "dev", f"tlb{tag}", ns=scan)
        for ns, dev in ((srv, f"tla{tag}"), (scan, f"tlb{tag}")):
            _run("ip", "link", "set", dev, "up", ns=ns)
            _run("ip", "link", "set", "lo", "up", ns=ns)
        rules = (f'table inet tltest {{\n chain input {{\n  type filter hook input priority 0; policy accept;\n'
                 f'  iifname "tla{tag}" meta l4proto tcp log prefix "{prefix}" drop\n }}\n}}\n')
        _run("nft", "-f", "-", ns=srv, stdin=rules)
        ALL_NETNS.write_text("1\n")  # log from namespaces other than the first
        yield srv, scan, prefix
    finally:
        ALL_NETNS.write_text(saved)
        subprocess.run(["ip", "netns", "del", srv], capture_output=True)
        subprocess.run(["ip", "netns", "del", scan], capture_output=True)


def _kmsg_lines(fd: int, prefix: str, want: int, timeout: float = 10.0) -> list[bytes]:
    """Records of /dev/kmsg carrying ``prefix`` (one read per record), until ``want`` or the timeout."""
    out: list[bytes] = []
    deadline = time.monotonic() + timeout
    while len(out) < want and time.monotonic() < deadline:
        try:
            record = os.read(fd, 8192)
        except BlockingIOError:
            time.sleep(0.05)
            continue
        except BrokenPipeError:  # the ring buffer overwrote records we had not read yet
            continue
        line = record.split(b"\n", 1)[0]  # continuation lines (" KEY=value") follow the first
        if prefix.encode() in line:
            out.append(line)
    return out


def _scan(scan_ns: str, flag: str, ports: str) -> None:
    _run("nmap", flag, "-Pn", "-n", "--max-retries", "0", "-T4", "--max-rtt-timeout", "200ms", "-p", ports, SERVER,
         ns=scan_ns, timeout=120)


def test_nmap_scans_logged_by_nftables_are_read_back_and_detected(lab: tuple[str, str, str], tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    _srv, scan, prefix = lab
    fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    try:
        os.lseek(fd, 0, os.SEEK_END)  # only what the kernel logs from now on
        _scan(scan, "-sS", "1-60")
        _scan(scan, "-sX", "2000-2019")
        lines = _kmsg_lines(fd, prefix, 60 + 20)
    finally:
        os.close(fd)
    if not lines:
        pytest.skip("the kernel logged nothing readable for the namespace (logging from namespaces disabled here)")
    parser = FirewallParser()
    results = [parser.parse_raw(RawLine("kmsg", i + 1, 0, line)) for i, line in enumerate(lines)]
    records = [r for r in results if isinstance(r, FirewallRecord)]
    assert len(records) == len(lines), [r for r in results if not isinstance(r, FirewallRecord)][:3]
    assert all(r.src == SCANNER and r.dst == SERVER and r.prefix == prefix.strip() for r in records)
    assert all(r.uptime is not None and r.time is None for r in records)
    syn = {r.dport for r in records if r.tcp_flags == "SYN"}
    xmas = {r.dport for r in records if r.tcp_flags == "URG PSH FIN"}
    assert len(syn) >= 55 and syn <= set(range(1, 61))  # --max-retries 0: nmap may still drop a probe or two
    assert len(xmas) >= 18 and xmas <= set(range(2000, 2020))
    alerts = PortScanDetector().observe(records)
    kinds = {a.kind for a in alerts}
    assert "port_scan_vertical" in kinds and "port_scan_stealth" in kinds
    reasons = " ".join(r for a in alerts for r in a.reasons)
    assert "SYN scan" in reasons and "XMAS" in reasons

    # and end to end: the same kernel lines as a file, through `threatlens scan -o jsonl`
    log = tmp_path / "kern.log"
    log.write_bytes(b"\n".join(lines) + b"\n")
    capsys.readouterr()
    assert cli_main(["scan", "-o", "jsonl", str(log)]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert sum(r["type"] == "packet" for r in rows) == len(lines)
    scan_alerts = [r for r in rows if r["type"] == "alert" and r["kind"].startswith("port_scan_")]
    assert scan_alerts and all(r["ip"] == SCANNER for r in scan_alerts)
