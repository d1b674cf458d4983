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


def _general(text: str) -> tuple[str, str, object]:
    """What the general path (``parse_network`` / ``parse_address``, ipaddress objects) makes of an entry."""
    from threatlens.models.allowlist import parse_network
    from threatlens.parsers.fields import parse_address

    try:
        if "/" in text:
            net = parse_network(text)
            return str(net), "net", (net.version, int(net.network_address), int(net.broadcast_address))
        return str(parse_address(text)), "ip", str(parse_address(text))
    except ValueError:
        return "", "error", None


def entry_corpus(n: int, seed: int) -> list[str]:
    """Plain entries of every prefix length, odd spellings, and forms the fast path must leave alone."""
    import ipaddress
    import random

    rng = random.Random(seed)
    out = ["::", "::1", "::/0", "0.0.0.0/0", "255.255.255.255/32", "::ffff:1.2.3.4", "::ffff:102:304/120",
           "::1.2.3.4", "::102:304", "fe80::1%eth0", "fe80::%eth0/64", "[2001:db8::1]", "2001:DB8::1/32",
           "2001:db8:0:0:1:0:0:1", "2001:0db8:0000::0001", "1:0:0:2:0:0:0:3", "1:0:0:0:2:0:0:3", "1::",
           "::2:3:4:5:6:7:8",
           "10.0.0.0/08", "10.0.0.0/024", "10.0.0.0/33", "::/129", "::/0128", "01.2.3.4", "1.2.3.4.", "1.2.3",
           "1.2.3.4/", "/24", "1.2.3.4/-1", "1.2.3.4/ 8", "1.2.3.4%x", "::ffff:0:0/96", "::ffff:0:0/95", "٣.2.3.4",
           "1.2.3.4/²", "0:0:0:0:0:1:0:0", "0:0:0:0:1:0:0:0", "0:0:0:0:0:ffff:0:0/80"]
    for _ in range(n):
        v4 = rng.random() < 0.5
        value = rng.getrandbits(32 if v4 else 128)
        if not v4 and rng.random() < 0.5:  # runs of zero groups, the case that decides the compressed text
            groups = [(value >> (16 * i)) & 0xFFFF if rng.random() < 0.4 else 0 for i in range(8)]
            value = sum(g << (16 * i) for i, g in enumerate(groups))
        text = str(ipaddress.IPv4Address(value)) if v4 else ipaddress.IPv6Address(value).exploded
        if not v4 and rng.random() < 0.5:
            text = str(ipaddress.IPv6Address(value)).upper()
        if rng.random() < 0.7:
            text += f"/{rng.randint(0, 32 if v4 else 128)}"
        out.append(text)
    return out


def test_plain_entries_read_as_integers_give_what_ipaddress_gives() -> None:
    """The one-pass integer reading of plain entries agrees with the general path on every entry (and errors)."""
    from threatlens.models.allowlist import _fast_entry, normalise_entry

    corpus = entry_corpus(20_000, seed=5)
    assert sum(_fast_entry(text) is not None for text in corpus) > 15_000  # the integer path is the one tested
    for text in corpus:
        want = _general(text)
        try:
            got: tuple[str, str, object] = normalise_entry(text)
        except AllowlistError:
            got = ("", "error", None)
        assert got == want, text


def test_a_large_config_allowlist_loads_with_its_bad_entry_named_by_line(tmp_path) -> None:
    from threatlens.config import Config, ConfigError

    entries = [e for e in entry_corpus(5_000, seed=9) if _general(e)[1] != "error"]
    path = tmp_path / "config.toml"
    body = "".join(f'  "{e}",\n' for e in entries)
    path.write_text(f"allowlist = [\n{body}]\n")
    cfg = Config.load(path)
    assert list(cfg.allowlist) == list(dict.fromkeys(_general(e)[0] for e in entries))
    allow = Allowlist.parse(cfg.allowlist)
    assert allow.matches_ip("1.2.3.4") and allow.matches_ip("fe80::1%wlan0")  # from ::ffff:1.2.3.4, fe80::1%eth0
    path.write_text(f"allowlist = [\n{body}  \"10.0.0.0/33\",\n]\n")
    with pytest.raises(ConfigError, match=r"10\.0\.0\.0/33") as err:
        Config.load(path)
    assert err.value.line == len(entries) + 2
    # the first bad entry is the one named, whichever rule it breaks (the config's own or the address syntax)
    path.write_text(f"allowlist = [\n{body}  \"10.0.0.0/33\",\n  \"\",\n]\n")
    with pytest.raises(ConfigError, match=r"10\.0\.0\.0/33") as err:
        Config.load(path)
    assert err.value.line == len(entries) + 2
    path.write_text(f"allowlist = [\n{body}  \"   \",\n  \"10.0.0.0/33\",\n]\n")
    with pytest.raises(ConfigError, match="is empty") as err:
        Config.load(path)
    assert err.value.line == len(entries) + 2


def test_the_config_reads_its_allowlist_once_and_the_run_matches_with_a_copy(tmp_path) -> None:
    """Config.load builds the allowlist as it checks the entries; the scan's Allowlist.parse(built=) copies it."""
    import random

    from threatlens.config import Config

    def narrow(entry: str) -> bool:  # no network of more than 65,536 addresses (0.0.0.0/0 would match all)
        _key, kind, value = _general(entry)
        return kind == "ip" or (kind == "net" and value[2] - value[1] < 1 << 16)  # type: ignore[index]

    entries = [e for e in entry_corpus(3_000, seed=4) if narrow(e)]
    entries += ["path:/health*", "agent:*UptimeRobot*"]
    path = tmp_path / "config.toml"
    path.write_text("allowlist = [\n" + "".join(f"  {e!r},\n" for e in entries) + "]\n")
    cfg = Config.load(path)
    assert cfg.parsed_allowlist is not None and cfg.parsed_allowlist.entries == list(cfg.allowlist)
    fresh = Allowlist.parse(cfg.allowlist)
    used = Allowlist.parse(cfg.allowlist, built=cfg.parsed_allowlist)
    assert used is not cfg.parsed_allowlist and used.entries == fresh.entries
    rng = random.Random(3)
    probes = [f"{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
              for _ in range(3_000)] + [e.split("/")[0] for e in entries if "/" in e][:500]
    assert [used.matches_ip(ip) for ip in probes] == [fresh.matches_ip(ip) for ip in probes]
    assert any(fresh.matches_ip(ip) for ip in probes)
    outside = [ip for ip in probes if not fresh.matches_ip(ip)]
    used.add(outside[0])  # the copy changes on its own
    assert used.matches_ip(outside[0]) and not cfg.parsed_allowlist.matches_ip(outside[0])
    other = Allowlist.parse([*cfg.allowlist, outside[1]], built=cfg.parsed_allowlist)  # not the same entries
    assert other.matches_ip(outside[1]) and not cfg.parsed_allowlist.matches_ip(outside[1])


def test_reading_a_config_does_not_import_the_toml_rewriter() -> None:
    """tomlkit keeps a file's bytes when the allowlist is rewritten; reading needs none of it (start-up time)."""
    import subprocess
    import sys

    code = ("import sys, tempfile, pathlib\nfrom threatlens.config import Config\n"
            "p = pathlib.Path(tempfile.mkdtemp()) / 'c.toml'\np.write_text('allowlist = [\"10.0.0.0/8\"]\\n')\n"
            "assert Config.load(p).allowlist == ('10.0.0.0/8',)\nprint('tomlkit' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
