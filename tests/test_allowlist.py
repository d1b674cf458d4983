"""Allowlist parsing and matching."""

from __future__ import annotations

import pytest

from behaviour_support import line, parse
from threatlens.errors import AllowlistError
from threatlens.models.allowlist import Allowlist


def rec(ip: str = "203.0.113.5", path: str = "/", agent: str = "Mozilla/5.0"):
    return parse([line(ip, 0, path, agent=agent)])[0]


def test_parse_and_match_ips_networks_paths_agents() -> None:
    allow = Allowlist.parse(["# office", "", "192.0.2.7", "10.0.0.0/8", "2001:db8::/32", "path:/health*",
                             "agent:*UptimeRobot*"])
    assert allow.entries == ["192.0.2.7", "10.0.0.0/8", "2001:db8::/32", "path:/health*", "agent:*UptimeRobot*"]
    assert allow.matches(rec("192.0.2.7"))
    assert allow.matches(rec("10.20.30.40"))
    assert allow.matches(rec("2001:db8:0:0::1"))
    assert allow.matches(rec(path="/healthz"))
    assert allow.matches(rec(agent="Mozilla/5.0 (compatible; uptimerobot/2.0)"))
    assert not allow.matches(rec("192.0.2.8", "/index.html"))
    assert not allow.matches(rec(path="/api/health"))  # globs anchor at the start of the path


def test_network_entries_are_normalised() -> None:
    allow = Allowlist.parse(["10.1.2.3/8"])
    assert allow.entries == ["10.0.0.0/8"]


def test_add_remove() -> None:
    allow = Allowlist()
    assert not allow and not allow.matches(rec())
    allow.add("203.0.113.5")
    allow.add("203.0.113.5")
    assert allow.entries == ["203.0.113.5"] and allow.matches(rec())
    allow.remove("203.0.113.5")
    assert not allow.matches(rec()) and allow.entries == []
    allow.add("203.0.113.0/24")
    assert allow.matches(rec())
    allow.remove("203.0.113.0/24")
    assert not allow.matches(rec())
    with pytest.raises(KeyError):
        allow.remove("198.51.100.1")


@pytest.mark.parametrize("bad", ["not-an-ip", "300.1.1.1", "10.0.0.0/33", "path:", "agent:", "1.2.3.4 5.6.7.8"])
def test_bad_entries_are_refused_with_the_entry_named(bad: str) -> None:
    with pytest.raises(AllowlistError, match="allowlist entry"):
        Allowlist.parse([bad])


def test_records_without_ip_or_garbage_ip_do_not_crash() -> None:
    allow = Allowlist.parse(["10.0.0.0/8"])
    assert not allow.matches(rec()._replace(ip=None))
    assert not allow.matches(rec()._replace(ip="garbage\x00"))


def test_ipv4_mapped_and_zoned_entries_match_the_addresses_the_parser_gives() -> None:
    """``::ffff:1.2.3.4`` is 1.2.3.4 and a zone index is dropped, in entries and in log lines alike."""
    allow = Allowlist.parse(["::ffff:198.51.100.4", "fe80::1%eth0", "::ffff:203.0.113.0/120", "fe80::%eth0/64"])
    assert allow.entries == ["198.51.100.4", "fe80::1", "203.0.113.0/24", "fe80::/64"]
    for logged in ("198.51.100.4", "::ffff:198.51.100.4", "fe80::1", "fe80::1%eth1", "[fe80::1%eth0]",
                   "203.0.113.99", "::ffff:203.0.113.99", "fe80::abcd%wlan0"):
        assert allow.matches(rec(logged)), logged
        assert allow.matches_ip(logged), logged
    assert not allow.matches(rec("198.51.100.5")) and not allow.matches(rec("fe80:1::1"))


@pytest.mark.parametrize("bad", ["1.2.3.4%eth0", "1.2.3.0%x/24", "fe80::1%", "fe80::1%a b", "10.0.0.0/+8"])
def test_zone_after_ipv4_or_empty_zone_is_refused(bad: str) -> None:
    with pytest.raises(AllowlistError, match="allowlist entry"):
        Allowlist.parse([bad])


def test_many_networks_match_exactly_like_a_linear_check() -> None:
    import ipaddress
    import random

    rng = random.Random(3)
    nets = [str(ipaddress.IPv4Network((rng.getrandbits(32), rng.randint(8, 32)), strict=False)) for _ in range(3000)]
    nets += [str(ipaddress.IPv6Network((rng.getrandbits(128), rng.randint(16, 128)), strict=False)) for _ in range(500)]
    allow = Allowlist.parse(nets)
    parsed = [ipaddress.ip_network(n) for n in nets]
    probes = [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(2000)]
    probes += [str(n.network_address) for n in parsed[::7]] + [str(n.broadcast_address) for n in parsed[::5]]
    probes += [str(ipaddress.ip_address(int(n.broadcast_address) + 1)) for n in parsed[::11]
               if int(n.broadcast_address) + 1 < (1 << n.max_prefixlen)]
    for ip in probes:
        addr = ipaddress.ip_address(ip)
        assert allow.matches_ip(ip) == any(addr in net for net in parsed), ip
    allow.remove(nets[0])
    first = ipaddress.ip_network(nets[0])
    inside = str(first.network_address)
    assert allow.matches_ip(inside) == any(first.network_address in n for n in parsed[1:])
