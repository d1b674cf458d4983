from __future__ import annotations

import logging
from pathlib import Path

import iptocc
import maxminddb
import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from threatlens.stats.countries import country_label, country_name, country_names
from threatlens.stats.geo import EMBEDDED_SOURCE, ENV_VAR, GeoLookup, classify_special, find_databases

NETS = {
    "81.2.69.0/24": "GB",
    "2a02:1234::/32": "DE",
    "10.0.0.0/8": "XX",  # a private range the lookup must never ask the database about
    "203.0.113.0/24": "XX",  # documentation range, same
}


def make_mmdb(path: Path, *, ip_version: int = 6, dbtype: str = "GeoLite2-Country", city: bool = False) -> Path:
    w = MMDBWriter(ip_version=ip_version, database_type=dbtype, ipv4_compatible=ip_version == 6)
    for net, cc in NETS.items():
        if ip_version == 4 and ":" in net:
            continue
        rec = {"country": {"iso_code": cc, "names": {"en": cc}}}
        if city:
            rec["city"] = {"names": {"en": "Somewhere"}}
        w.insert_network(IPSet([net]), rec)
    w.insert_network(IPSet(["5.6.7.0/24"]), {"registered_country": {"iso_code": "fr"}})  # no "country"
    w.to_db_file(str(path))
    return path


def corrupt_data_section(src: Path, dst: Path) -> Path:
    data = bytearray(src.read_bytes())
    meta = maxminddb.open_database(str(src)).metadata()
    start = meta.node_count * meta.record_size * 2 // 8 + 16  # tree, then a 16-byte separator
    data[start : start + 40] = b"\xff" * 40
    dst.write_bytes(bytes(data))
    return dst


def open_geo(path=None, env=None, dirs=(), warnings=None) -> GeoLookup:
    return GeoLookup.open(
        path, env=env or {}, search_dirs=dirs, on_warning=(warnings.append if warnings is not None else None)
    )


def test_maxmind_lookups_ipv4_and_ipv6(tmp_path):
    db = make_mmdb(tmp_path / "GeoLite2-Country.mmdb")
    warnings: list[str] = []
    geo = open_geo(db, warnings=warnings)
    assert warnings == []
    assert geo.source == f"maxmind: {db}"
    assert geo.country("81.2.69.160") == "GB"
    assert geo.country("2a02:1234:5678::1") == "DE"
    assert geo.country("::ffff:81.2.69.1") == "GB"  # IPv4-mapped IPv6 is looked up as IPv4
    assert geo.country("5.6.7.8") == "FR"  # registered_country when there is no country
    assert geo.country("8.8.8.8") is None  # not in this database
    assert geo.country("10.1.2.3") == "private"  # never asked: the database says XX
    assert geo.country("203.0.113.7") == "reserved"
    assert geo.country("not an ip") is None
    assert geo.countries(["81.2.69.1", "10.0.0.1", "2a02:1234::1", None]) == ["GB", "private", "DE", None]
    geo.close()
    assert geo.source == EMBEDDED_SOURCE


def test_city_edition_is_accepted(tmp_path):
    geo = open_geo(make_mmdb(tmp_path / "GeoLite2-City.mmdb", dbtype="GeoLite2-City", city=True))
    assert geo.source.startswith("maxmind: ") and geo.country("81.2.69.1") == "GB"


def test_ipv4_only_database_answers_ipv6_from_embedded_data(tmp_path):
    geo = open_geo(make_mmdb(tmp_path / "v4.mmdb", ip_version=4))
    assert geo.source.endswith("(IPv6 via iptocc)")
    assert geo.country("81.2.69.1") == "GB"
    assert geo.country("2001:4860:4860::8888") == "US"


def test_embedded_default_known_addresses():
    geo = open_geo()
    assert geo.source == EMBEDDED_SOURCE == "iptocc (embedded)"
    assert geo.country("8.8.8.8") == "US"  # ARIN, Google
    assert geo.country("193.99.144.80") == "DE"  # RIPE, heise.de
    assert geo.country("2001:4860:4860::8888") == "US"
    assert geo.country("::ffff:8.8.8.8") == "US"
    assert geo.country("64:ff9b::808:808") == "US"  # NAT64 well-known prefix
    assert geo.country("2002:808:808::1") == "US"  # 6to4
    assert geo.country("") is None and geo.country(None) is None
    assert geo.country("999.1.1.1") is None and geo.country("::zz") is None
    ips = ["8.8.8.8", "10.0.0.1", "193.99.144.80", "::1", "x", "100.64.1.1", "2001:db8::1", "8.8.8.8"]
    assert geo.countries(ips) == [geo.country(ip) for ip in ips]
    assert geo.countries(["8.8.8.8", "193.99.144.80"]) == ["US", "DE"]


@pytest.mark.parametrize(
    ("ip", "label"),
    [
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.254", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private"),  # CGNAT
        ("100.127.255.254", "private"),
        ("127.0.0.1", "private"),
        ("169.254.10.10", "private"),
        ("::1", "private"),
        ("fe80::1%eth0", "private"),
        ("fd12:3456::1", "private"),
        ("::ffff:192.168.0.1", "private"),
        ("0.1.2.3", "reserved"),
        ("192.0.0.8", "reserved"),
        ("192.0.2.1", "reserved"),
        ("198.51.100.7", "reserved"),
        ("203.0.113.9", "reserved"),
        ("198.18.0.1", "reserved"),
        ("224.0.0.1", "reserved"),
        ("239.255.255.250", "reserved"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("::", "reserved"),
        ("2001:db8::1", "reserved"),
        ("ff02::1", "reserved"),
        ("100::1", "reserved"),
        ("8.8.8.8", None),
        ("172.32.0.1", None),
        ("100.128.0.1", None),
        ("192.169.0.1", None),
        ("2001:4860::1", None),
    ],
)
def test_special_ranges(ip, label):
    assert classify_special(ip) == label
    if label is not None:
        assert open_geo().country(ip) == label
        assert open_geo().countries([ip, "8.8.8.8"]) == [label, "US"]
        # GeoLookup.countries relies on this: the embedded data knows no special range
        assert iptocc.country_code(ip.partition("%")[0]) is None


def test_explicit_path_beats_env_and_env_beats_standard_places(tmp_path):
    a = make_mmdb(tmp_path / "a.mmdb")
    std = tmp_path / "std"
    std.mkdir()
    make_mmdb(std / "GeoLite2-Country.mmdb")
    assert open_geo(a, env={ENV_VAR: "/nonexistent"}).source == f"maxmind: {a}"
    assert open_geo(env={ENV_VAR: str(a)}, dirs=[str(std)]).source == f"maxmind: {a}"
    assert open_geo(dirs=[str(std)]).source == f"maxmind: {std / 'GeoLite2-Country.mmdb'}"


def test_standard_place_preference(tmp_path):
    d = tmp_path / "GeoIP"
    d.mkdir()
    make_mmdb(d / "GeoLite2-City.mmdb", dbtype="GeoLite2-City", city=True)
    make_mmdb(d / "dbip-country-lite-2024-04.mmdb", dbtype="DBIP-Country-Lite")
    make_mmdb(d / "dbip-country-lite-2024-05.mmdb", dbtype="DBIP-Country-Lite")
    assert find_databases([str(d)])[0].endswith("dbip-country-lite-2024-05.mmdb")
    make_mmdb(d / "GeoLite2-Country.mmdb")
    make_mmdb(d / "GeoIP2-Country.mmdb", dbtype="GeoIP2-Country")
    found = [Path(p).name for p in find_databases([str(d), str(tmp_path / "missing")])]
    assert found[:3] == ["GeoIP2-Country.mmdb", "GeoLite2-Country.mmdb", "dbip-country-lite-2024-05.mmdb"]
    assert found[-1] == "GeoLite2-City.mmdb"


def test_missing_file_warns_and_falls_back(tmp_path):
    warnings: list[str] = []
    geo = open_geo(tmp_path / "nope.mmdb", warnings=warnings)
    assert geo.source == EMBEDDED_SOURCE
    assert len(warnings) == 1 and "does not exist" in warnings[0] and "iptocc" in warnings[0]
    assert geo.warnings == warnings
    assert geo.country("8.8.8.8") == "US"


def test_corrupt_file_warns_and_falls_back(tmp_path):
    garbage = tmp_path / "garbage.mmdb"
    garbage.write_bytes(b"\x00\x01not a maxmind database" * 50)
    truncated = tmp_path / "truncated.mmdb"
    truncated.write_bytes(make_mmdb(tmp_path / "ok.mmdb").read_bytes()[:300])
    for bad in (garbage, truncated):
        warnings: list[str] = []
        geo = open_geo(env={ENV_VAR: str(bad)}, warnings=warnings)
        assert geo.source == EMBEDDED_SOURCE
        assert len(warnings) == 1 and str(bad) in warnings[0] and "cannot be read" in warnings[0]
        assert geo.country("8.8.8.8") == "US"


def test_corrupt_standard_place_moves_to_the_next(tmp_path):
    d = tmp_path / "GeoIP"
    d.mkdir()
    (d / "GeoIP2-Country.mmdb").write_bytes(b"junk" * 100)
    good = make_mmdb(d / "GeoLite2-Country.mmdb")
    warnings: list[str] = []
    geo = open_geo(dirs=[str(d)], warnings=warnings)
    assert geo.source == f"maxmind: {good}"
    assert len(warnings) == 1 and "GeoIP2-Country.mmdb" in warnings[0]


def test_database_without_countries_is_refused(tmp_path):
    w = MMDBWriter(ip_version=6, database_type="GeoLite2-ASN", ipv4_compatible=True)
    w.insert_network(IPSet(["81.2.69.0/24"]), {"autonomous_system_number": 20712})
    w.to_db_file(str(tmp_path / "asn.mmdb"))
    warnings: list[str] = []
    geo = open_geo(tmp_path / "asn.mmdb", warnings=warnings)
    assert geo.source == EMBEDDED_SOURCE
    assert "GeoLite2-ASN" in warnings[0]


def test_corrupt_data_found_at_lookup_switches_to_embedded(tmp_path):
    bad = corrupt_data_section(make_mmdb(tmp_path / "ok.mmdb"), tmp_path / "bad.mmdb")
    warnings: list[str] = []
    geo = open_geo(bad, warnings=warnings)
    assert geo.source.startswith("maxmind: ")  # the probe lookup did not touch the bad bytes
    assert geo.country("81.2.69.160") == open_geo().country("81.2.69.160")  # the embedded answer
    assert geo.source == EMBEDDED_SOURCE
    assert len(warnings) == 1 and "switching to iptocc" in warnings[0]
    assert geo.country("8.8.8.8") == "US"


def test_default_warning_goes_to_the_log(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="threatlens.stats.geo"):
        GeoLookup.open(tmp_path / "nope.mmdb", env={}, search_dirs=())
    assert "does not exist" in caplog.text


def test_cache_is_bounded():
    geo = GeoLookup.open(env={}, search_dirs=(), cache_size=8)
    for i in range(100):
        geo.country(f"192.168.0.{i}")
    info = geo.cache_info()
    assert info.maxsize == 8 and info.currsize <= 8


def test_country_names():
    assert country_name("DE") == "Germany"
    assert country_name("de") == "Germany"
    assert country_name("GB") == "United Kingdom"
    assert country_name("private") == "Private network"
    assert country_name("reserved") == "Reserved range"
    assert country_name(None) == "Unknown"
    assert country_name("QQ") == "QQ"
    assert country_label("DE") == "DE Germany"
    assert country_label("private") == "Private network"
    assert country_label(None) == "Unknown"
    names = country_names()
    assert len(names) >= 249 and all(len(c) == 2 and c.isupper() for c in names)
    assert names["XK"] == "Kosovo"
    geo = GeoLookup.open(env={}, search_dirs=())
    assert geo.label("193.99.144.80") == "DE Germany"
