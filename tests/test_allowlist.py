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
