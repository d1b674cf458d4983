"""Allowlist lookups with many networks: sorted ranges + binary search against the linear check it replaced.

python bench/allowlist.py                 # 100k networks, 20k lookups (the peer does 300 of them)
python bench/allowlist.py --networks 1000

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
import time

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--networks", type=int, default=100_000)
    ap.add_argument("--lookups", type=int, default=20_000)
    ap.add_argument("--peer-lookups", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    nets = networks(args.networks, rng)
    ips = addresses(args.lookups, rng)
    print(f"load average at start: {os.getloadavg()[0]:.1f}")

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
