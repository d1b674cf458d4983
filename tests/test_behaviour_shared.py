"""Behaviour detectors on the team data set (skipped when ../shared/data is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from behaviour_support import DATA, GOOGLEBOT, SHARED, kinds_by_ip, line, load_log, parse, run

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not SHARED.is_dir(), reason=f"../shared/data is absent ({SHARED}): needs the team data"),
]
HUB = SHARED / "logs" / "crowdsec_hub_tests"
F2B = SHARED / "logs" / "fail2ban_testlogs"
ELASTIC = SHARED / "logs" / "elastic_apache_logs" / "apache_logs"

#: crowdsec hub scenarios about behaviour over several requests, with the attacking IP.
BEHAVIOUR_SCENARIOS = {
    "apache-http-probing": "172.17.0.1",
    "apache2-http-sensitive-files": "172.17.0.1",
    "http-admin-interface-probing": "157.230.234.189",
    "http-bf-wordpress-bf": "81.150.104.130",
    "http-cve-probing": "127.0.0.1",
    "http-dos-bypass-cache": "127.0.0.2",
    "http-dos-random-uri": "127.0.0.1",
    "http-dos-switching-ua": "1.2.3.4",
    "http-wordpress-scan": "192.168.1.1",
    "http-wordpress_wpconfig": "167.71.13.196",
    "litespeed-http-sensitive-files": "192.168.9.163",
    "nginx-bad-user-agent": "127.0.0.1",
    "nginx-http-sensitive-files": "127.0.0.1",
    "traefik_base-http-scenario": "172.17.0.1",
}


@pytest.mark.parametrize(("scenario", "ip"), sorted(BEHAVIOUR_SCENARIOS.items()))
def test_crowdsec_hub_behaviour_scenarios(scenario: str, ip: str) -> None:
    (log,) = sorted((HUB / scenario).glob("*.log"))
    records, _ = load_log(log)
    assert records, f"{scenario}: nothing parsed"
    assert ip in kinds_by_ip(run(records)), scenario


def test_fail2ban_badbots() -> None:
    records, _ = load_log(F2B / "apache-badbots")  # includes a "vhost ip - -" line (failJSON match: true)
    assert kinds_by_ip(run(records)) == {"1.2.3.4": {"bad_user_agent"}, "192.0.2.222": {"bad_user_agent"}}


def test_fail2ban_botsearch_sweep() -> None:
    records, _ = load_log(F2B / "nginx-botsearch")
    assert "admin_probing" in kinds_by_ip(run(records)).get("12.34.56.78", set())


def test_fail2ban_fake_googlebot() -> None:
    records, _ = load_log(F2B / "apache-fakegooglebot")
    assert run(records) == []  # claiming Googlebot while fetching "/" is crawling, not an attack
    probe = parse([line("66.249.66.1", 0, "/.env", 404, agent=GOOGLEBOT)])
    assert kinds_by_ip(run(records + probe)) == {"66.249.66.1": {"fake_crawler"}}


def probe_ips() -> dict[str, str]:
    rows = (DATA / "elastic_probe_ips.txt").read_text().splitlines()
    return dict(r.split("\t", 1) for r in rows if r.strip() and not r.startswith("#"))


def test_elastic_benign_ips_are_not_alerted() -> None:
    records, unparsed = load_log(ELASTIC)
    assert unparsed == 0 and len(records) == 10_000
    probes = probe_ips()
    alerted = {a.ip for a in run(records, batch=1000)}
    benign = {r.ip for r in records} - set(probes)
    assert alerted & benign == set(), sorted(alerted & benign)
    assert len(alerted & set(probes)) >= 9  # the multi-request probers (single probes are the scorer's)


def test_probe_list_is_well_formed() -> None:
    probes = probe_ips()
    assert len(probes) >= 40 and all(reason.strip() for reason in probes.values())
    ips = {line.split(" ", 1)[0] for line in Path(ELASTIC).read_text().splitlines()}
    assert set(probes) <= ips
