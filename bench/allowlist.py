"""Allowlist with many networks: start-up (reading them from the config) and lookups.

python bench/allowlist.py                 # 100k networks, 20k lookups (the peer does 300 of them)
python bench/allowlist.py --networks 1000
python bench/allowlist.py --no-cli        # skip the two `threatlens scan` runs of the start-up case

Start-up: the networks are written as a config file's ``allowlist`` array, then ``Config.load`` (which
validates and normalises every entry, building the allowlist as it goes) and the allowlist the scan
takes from it (``Allowlist.parse(..., built=)``, a copy, and its first lookup, which merges the ranges)
are timed in this process; the peer is :mod:`tomllib`
reading the same file, the floor of any start-up that reads it. Then ``threatlens scan`` of a one-line
log with that config against the same scan with an empty config: the start-up a user waits for.

Networks are random IPv4 /16-/32 and IPv6 /32-/128 blocks; lookups are distinct random addresses (so
the per-address cache never helps: the worst case, a log full of new clients). The peer is the check
the allowlist used before, ``any(addr in net for net in networks)``, run on the first lookups only
(it is slow); both must give the same answers there. Times are CPU times of this process.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from threatlens.config import Config
from threatlens.models.allowlist import Allowlist


def networks(n: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(n):
        if rng.random() < 0.8:
            bits = rng.randint(16, 32)
            out.append(str(ipaddress.IPv4Network((rng.getrandbits(32), bits), strict=False)))
        else:
            bits = rng.randint(32, 128)
            out.append(str(ipaddress.IPv6Network(((0x2001 << 112) | rng.getrandbits(112), bits), strict=False)))
    return out


def addresses(n: int, rng: random.Random) -> list[str]:
    return [str(ipaddress.IPv4Address(rng.getrandbits(32))) if rng.random() < 0.8
            else str(ipaddress.IPv6Address((0x2001 << 112) | rng.getrandbits(112))) for _ in range(n)]


def child_cpu(cmd: list[str]) -> float:
    """CPU seconds (user + system) of one run of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def startup(nets: list[str], cli: bool) -> None:
    """Reading ``nets`` from a config file, as every command that starts with that config does."""
    tmp = Path(tempfile.mkdtemp(prefix="threatlens-allow-"))
    config = tmp / "config.toml"
    config.write_text("allowlist = [\n" + "".join(f'  "{n}",\n' for n in nets) + "]\n")
    start = time.process_time()
    tomllib.loads(config.read_text())
    t_floor = time.process_time() - start
    start = time.process_time()
    cfg = Config.load(config)
    t_config = time.process_time() - start
    start = time.process_time()
    allow = Allowlist.parse(cfg.allowlist, built=cfg.parsed_allowlist)  # what a scan does with it
    allow.matches_ip("192.0.2.1")
    t_allow = time.process_time() - start
    total = t_config + t_allow
    print(f"start-up with {len(nets):,} networks in the config ({len(allow):,} distinct after normalising):")
    print(f"  Config.load            : {t_config:6.2f} CPU s")
    print(f"  Allowlist from config  : {t_allow:6.2f} CPU s (parse + first lookup)")
    print(f"  tomllib alone (peer)   : {t_floor:6.2f} CPU s; start-up = {total / t_floor:.1f}x reading the file")
    if cli:
        log = tmp / "one.log"
        log.write_text('192.0.2.1 - - [10/Oct/2023:13:55:36 +0000] "GET / HTTP/1.1" 200 100 "-" "curl/8"\n')
        empty = tmp / "empty.toml"
        empty.write_text("")
        scan = [sys.executable, "-m", "threatlens", "scan", "-o", "table", str(log), "--config"]
        with_nets = child_cpu([*scan, str(config)])
        without = child_cpu([*scan, str(empty)])
        print(f"  threatlens scan of one line: {with_nets:.2f} CPU s with this config, {without:.2f} with an empty "
              f"one (+{with_nets - without:.2f} s for the allowlist)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--networks", type=int, default=100_000)
    ap.add_argument("--lookups", type=int, default=20_000)
    ap.add_argument("--peer-lookups", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-cli", action="store_true", help="skip the threatlens scan runs of the start-up case")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    nets = networks(args.networks, rng)
    ips = addresses(args.lookups, rng)
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    startup(nets, not args.no_cli)

    start = time.process_time()
    allow = Allowlist.parse(nets)
    allow.matches_ip("192.0.2.1")  # builds the ranges
    t_build = time.process_time() - start
    start = time.process_time()
    ours = [allow.matches_ip(ip) for ip in ips]
    t_ours = time.process_time() - start

    parsed = [ipaddress.ip_network(n) for n in nets]
    k = min(args.peer_lookups, len(ips))
    start = time.process_time()
    peer = [any(ipaddress.ip_address(ip) in net for net in parsed) for ip in ips[:k]]
    t_peer = time.process_time() - start
    assert peer == ours[:k], "the range lookup and the linear check disagree"

    per_ours, per_peer = t_ours / len(ips), t_peer / k
    print(f"{args.networks:,} networks (built in {t_build:.2f} s), {len(ips):,} distinct addresses, "
          f"{sum(ours):,} allowlisted")
    print(f"  sorted ranges : {1 / per_ours:>12,.0f} lookups/s  {per_ours * 1e6:9.2f} us/lookup")
    print(f"  linear peer   : {1 / per_peer:>12,.0f} lookups/s  {per_peer * 1e6:9.2f} us/lookup  ({k} lookups)")
    print(f"  ratio         : {per_peer / per_ours:,.0f}x faster; same answers on the {k} compared")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
