"""Per-IP behaviour detectors on small fixture logs (real parser, real tracker)."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from pathlib import Path

import pytest

from behaviour_support import (
    BROWSER,
    CLEAN,
    GOOGLEBOT,
    fixture,
    kinds_by_ip,
    line,
    parse,
    run,
)
from threatlens.models.behaviour import KINDS, BehaviourConfig, BehaviourTracker
from threatlens.models.verdict import CATEGORIES, Alert, Verdict
from threatlens.parsers import LogRecord


def benign_site() -> list[str]:
    """A small site's ordinary day: browsers, a crawler with stale links, a bulk downloader, an office NAT."""
    out: list[str] = []
    pages = [f"/blog/post-{i}.html" for i in range(40)]
    assets = ["/css/site.css", "/js/app.js", "/img/logo.png", "/favicon.ico", "/fonts/a.woff2"]
    t = 0.0
    for v in range(30):  # human visitors: pages with their assets, one broken image, a typo
        ip = f"198.51.100.{v + 1}"
        for p in range(5):
            page = pages[(v * 7 + p) % len(pages)]
            out.append(line(ip, t, page))
            out += [line(ip, t + 0.3, a, 200 if a != "/fonts/a.woff2" else 304) for a in assets]
            out.append(line(ip, t + 0.4, "/img/missing-banner.jpg", 404))
            t += 20
        if v % 10 == 0:
            out.append(line(ip, t, "/blog/post-typo.htm", 404))
            out.append(line(ip, t + 2, "/search?q=select+a+dress+%27red%27", 200))
    for i in range(300):  # a search crawler, 20 stale links among 300 pages
        out.append(line("66.249.66.1", 12 * i, f"/archive/{i}.html", 404 if i % 15 == 0 else 200,
                        agent=GOOGLEBOT))
    for i in range(40):  # a bulk downloader following stale links to old releases
        out.append(line("203.0.113.50", 30 * i, f"/files/tool-1.{i}.tar.gz", 404 if i < 30 else 200,
                        agent="Wget/1.21.2"))
    for i in range(60):  # the same stale download retried by a config-management client
        out.append(line("203.0.113.51", 60 * i, "/files/app-1.3.2.jar", 404, agent="Chef Client/10.18.2"))
    agents = [BROWSER, "Mozilla/5.0 (Macintosh) Safari/605.1.15", "Mozilla/5.0 (X11; Linux) Firefox/125.0",
              "Mozilla/5.0 (iPhone) Mobile Safari/604.1"]
    for i in range(120):  # one office behind NAT: four people
        out.append(line("192.0.2.10", 5 * i, pages[i % 40] if i % 3 else assets[i % 5], agent=agents[i % 4]))
    for i in range(120):  # a feed reader polling every minute
        out.append(line("192.0.2.77", 60 * i, "/feed.xml", 304, agent="Feedly/1.0"))
    out.append(line("198.51.100.3", 500, "/wp-login.php", 200, method="POST"))  # a real login, twice
    out.append(line("198.51.100.3", 510, "/wp-login.php", 302, method="POST"))
    for q in ("C=N;O=A", "C=M;O=D", "C=S;O=A", "C=D;O=A"):  # directory listing sort links
        out.append(line("198.51.100.9", 700, f"/files/?{q}", 200))
    out.append(line("198.51.100.9", 705, "/files/dynamic-dns/named.conf", 200))  # served config files
    out.append(line("198.51.100.9", 706, "/files/dynamic-dns/dhcpd.conf", 200))
    return sorted(out, key=lambda s: s.split("[", 1)[1][:20])


def test_benign_site_raises_no_alert() -> None:
    records = parse(benign_site())
    alerts = run(records, batch=500)
    assert alerts == [], [(a.ip, a.kind, a.reasons) for a in alerts]


# ---------------------------------------------------------------- crowdsec hub scenarios (MIT, tests/data)
@pytest.mark.parametrize(("name", "ip", "kind"), [
    ("behaviour_crowdsec_http_probing.log", "172.17.0.1", "scanning"),
    ("behaviour_crowdsec_random_uri.log", "127.0.0.1", "scanning"),
    ("behaviour_crowdsec_sensitive_files.log", "127.0.0.1", "sensitive_file_probing"),
    ("behaviour_crowdsec_wpconfig.log", "167.71.13.196", "sensitive_file_probing"),
    ("behaviour_crowdsec_admin_probing.log", "157.230.234.189", "admin_probing"),
    ("behaviour_crowdsec_wordpress_scan.log", "127.0.0.1", "admin_probing"),
    ("behaviour_crowdsec_wordpress_scan.log", "192.168.1.1", "admin_probing"),
    ("behaviour_crowdsec_wordpress_bf.log", "81.150.104.130", "brute_force"),
    ("behaviour_crowdsec_switching_ua.log", "1.2.3.4", "user_agent_switching"),
    ("behaviour_crowdsec_bypass_cache.log", "127.0.0.2", "crawl_flood"),
    ("behaviour_crowdsec_bad_user_agent.log", "127.0.0.1", "bad_user_agent"),
])
def test_crowdsec_scenario_caught(name: str, ip: str, kind: str) -> None:
    alerts = run(fixture(name))
    assert kind in kinds_by_ip(alerts).get(ip, set()), [(a.ip, a.kind) for a in alerts]
    mine = [a for a in alerts if a.ip == ip and a.kind == kind]
    assert len(mine) == 1  # once per burst
    a = mine[0]
    assert a.file == name and a.first_line >= 1 and a.events >= 1
    assert 0.0 < a.score <= 1.0 and a.reasons and all(isinstance(r, str) and r for r in a.reasons)
    assert set(a.categories) <= set(CATEGORIES) and set(KINDS[kind]) <= set(a.categories)
    assert isinstance(a.first_time, datetime) and a.first_time.tzinfo is not None
    assert a.last_time is not None and a.last_time >= a.first_time


def test_bad_user_agent_names_the_tool() -> None:
    (a,) = [a for a in run(fixture("behaviour_crowdsec_bad_user_agent.log")) if a.kind == "bad_user_agent"]
    assert "nikto" in a.reasons[0] and "scanner" in a.categories


def test_sensitive_probe_counts_distinct_files() -> None:
    records = fixture("behaviour_crowdsec_sensitive_files.log")
    again = records[0]._replace(line=2)  # the same file twice is one file
    records = [records[0], again, *(r._replace(line=r.line + 1) for r in records[1:])]
    (a,) = [a for a in run(records) if a.kind == "sensitive_file_probing"]
    # raised by the line that brings the second distinct file, with the evidence as of that line
    assert a.reasons[0] == "2 sensitive files requested" and "/.bash_history" in a.reasons[1]
    assert (a.first_line, a.last_line, a.events) == (1, 3, 3)


# ---------------------------------------------------------------- hand-written scenarios
def test_trackback_spam_bot_agent_is_bad_bot() -> None:
    records = parse([line("1.2.3.4", 0, "/123.html/trackback/", 301, method="POST", agent="TrackBack/1.02")])
    (a,) = run(records)
    assert a.kind == "bad_user_agent" and a.categories == ("bad_bot",)


def test_sqlmap_agent() -> None:
    records = parse([line("10.9.9.9", i, f"/item?id={i}", agent="sqlmap/1.7.2#stable (https://sqlmap.org)")
                     for i in range(3)])
    (a,) = run(records)
    assert a.kind == "bad_user_agent" and "sqlmap" in a.reasons[0]


def test_phpmyadmin_setup_sweep_is_admin_probing() -> None:
    paths = ["//phpMyAdmin-2.8.2.3/scripts/setup.php", "//pma/scripts/setup.php", "//mysqladmin/scripts/setup.php"]
    records = parse([line("12.34.56.78", i, p, 404, agent="-") for i, p in enumerate(paths)])
    assert "admin_probing" in kinds_by_ip(run(records))["12.34.56.78"]


def test_login_brute_force_and_401_burst() -> None:
    lines = [line("203.0.113.9", i * 2, "/wp-login.php", 200, method="POST") for i in range(12)]
    lines += [line("203.0.113.10", i, "/api/private", 401, agent="python-requests/2.31") for i in range(15)]
    kinds = kinds_by_ip(run(parse(lines)))
    assert kinds == {"203.0.113.9": {"brute_force"}, "203.0.113.10": {"brute_force"}}


def test_form_spam() -> None:
    lines = [line("203.0.113.20", i * 5, "/wp-comments-post.php", 302, method="POST") for i in range(8)]
    lines += [line("198.51.100.20", i * 30, "/contact", 200, method="POST") for i in range(2)]
    assert kinds_by_ip(run(parse(lines))) == {"203.0.113.20": {"form_spam"}}


def test_crawl_flood_but_not_for_good_crawlers() -> None:
    lines = [line("203.0.113.30", i * 0.2, f"/page/{i}", 200) for i in range(900)]  # 300/min for 3 min
    lines += [line("66.249.66.2", i * 0.2, f"/page/{i}", 200, agent=GOOGLEBOT) for i in range(900)]
    alerts = run(parse(sorted(lines, key=lambda s: s.split("[", 1)[1][:20])), batch=256)
    assert kinds_by_ip(alerts) == {"203.0.113.30": {"crawl_flood"}}
    assert "requests/minute" in alerts[0].reasons[0] and alerts[0].categories == ("dos",)


def test_fake_googlebot_probing_env_is_alerted() -> None:
    lines = [line("203.0.113.40", 0, "/", 200, agent=GOOGLEBOT), line("203.0.113.40", 1, "/.env", 404,
                                                                        agent=GOOGLEBOT)]
    alerts = run(parse(lines))
    assert kinds_by_ip(alerts) == {"203.0.113.40": {"fake_crawler"}}
    assert {"bad_bot", "sensitive_file"} <= set(alerts[0].categories)


def test_good_crawler_with_stale_links_is_quiet() -> None:
    lines = [line("66.249.66.3", i, f"/old/{i}.php", 404, agent=GOOGLEBOT) for i in range(50)]
    assert run(parse(lines)) == []


def test_bulk_downloader_stale_links_is_quiet_but_php_sweep_is_not() -> None:
    stale = [line("203.0.113.60", i, f"/dist/pkg-{i}.zip", 404, agent="curl/8.0") for i in range(50)]
    sweep = [line("203.0.113.61", i, f"/{w}.php", 404, agent="curl/8.0")
             for i, w in enumerate(["index2", "old", "test1", "x", "up", "sh", "bk", "tmp"])]
    assert kinds_by_ip(run(parse(stale + sweep))) == {"203.0.113.61": {"scanning"}}


def test_repeated_flagged_requests_carry_verdict_categories() -> None:
    records = parse([line("203.0.113.70", i, f"/item?id={i}'+union+select+1--", 200) for i in range(4)])
    verdicts = [Verdict(0.97, True, ("sqli",), ("union select",))] * 4
    (a,) = run(records, verdicts=verdicts)
    assert a.kind == "repeated_attacks" and "sqli" in a.categories and "union select" in a.reasons


def test_control_characters_in_paths_are_escaped_in_reasons() -> None:
    lines = [line("203.0.113.80", i, f"/.env{i}\\x1b[31m", 404) for i in range(3)]
    records = [r._replace(path=r.path.replace("\\x1b", "\x1b")) for r in parse(lines)]
    alerts = run(records)
    assert alerts and all("\x1b" not in reason for a in alerts for reason in a.reasons)


# ---------------------------------------------------------------- bursts, replay, time
def scanner(ip: str, start: float, n: int, step: float = 1.0) -> list[str]:
    return [line(ip, start + i * step, f"/probe-{int(start)}-{i}.php", 404, agent="curl/8.0") for i in range(n)]


def test_one_alert_per_burst_and_a_new_one_after_silence() -> None:
    records = parse(scanner("203.0.113.90", 0, 300) + scanner("203.0.113.90", 3600, 30))
    scans = [a for a in run(records, batch=64) if a.kind == "scanning"]
    assert len(scans) == 2
    assert scans[0].first_line == 1 and scans[1].first_line == 301


def test_escalation_is_rate_limited() -> None:
    records = parse(scanner("203.0.113.91", 0, 3000, step=1.0))  # 50 minutes of continuous scanning
    scans = [a for a in run(records, batch=100) if a.kind == "scanning"]
    assert 1 <= len(scans) <= 3
    assert all((b.last_time - a.last_time).total_seconds() >= 600 for a, b in pairwise(scans))


@pytest.mark.parametrize("name", ["behaviour_crowdsec_bypass_cache.log", "behaviour_crowdsec_http_probing.log",
                                  "behaviour_crowdsec_switching_ua.log", "behaviour_crowdsec_wordpress_bf.log"])
def test_replay_in_any_batch_size_gives_the_same_alerts(name: str) -> None:
    records = fixture(name)
    results = []
    for batch in (1, 7, 64, None):
        results.append({(a.ip, a.kind, a.first_line) for a in run(records, batch=batch)})
    assert results[0] and all(r == results[0] for r in results)


def test_records_without_time_use_the_last_seen_time() -> None:
    records = parse(scanner("203.0.113.92", 0, 20))
    untimed = [r._replace(time=None) if i % 2 else r for i, r in enumerate(records)]
    a1, a2 = run(records), run(untimed)
    assert [(a.ip, a.kind) for a in a1] == [(a.ip, a.kind) for a in a2] != []
    only_none = [r._replace(time=None) for r in records]  # no time at all: one burst, no crash
    assert {a.kind for a in run(only_none)} == {"scanning"}
    assert all(a.first_time is None for a in run(only_none))


def test_out_of_order_lines_are_handled() -> None:
    records = parse(scanner("203.0.113.93", 0, 20))
    assert {a.kind for a in run(records[::-1])} == {"scanning"}


# ---------------------------------------------------------------- robustness and memory
def test_bad_input_never_crashes() -> None:
    base = parse([line("203.0.113.94", 0, "/x", 404)])[0]
    odd = [base._replace(ip=None), base._replace(path=None, method=None), base._replace(status=None, bytes=None),
           base._replace(user_agent=None), base._replace(path="/" + "a" * 100_000), base._replace(ip="::1")]
    tracker = BehaviourTracker()
    assert tracker.observe(odd, [CLEAN] * len(odd)) == []
    assert tracker.observe([], []) == []
    with pytest.raises(ValueError, match="verdicts"):
        tracker.observe(odd, [CLEAN])


def _flood(start: int, n: int) -> list[LogRecord]:
    base = parse([line("0.0.0.0", 0, "/", 200)])[0]
    t = base.time
    return [base._replace(ip=f"{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}.{i >> 24}", time=t, line=i + 1)
            for i in range(start, start + n)]


def test_a_million_distinct_ips_stay_within_the_cap() -> None:
    psutil = pytest.importorskip("psutil")
    proc = psutil.Process()
    tracker = BehaviourTracker(max_ips=5000)
    clean = [CLEAN] * 20_000
    tracker.observe(_flood(0, 20_000), clean)
    rss0 = proc.memory_info().rss
    for start in range(20_000, 1_000_000, 20_000):
        tracker.observe(_flood(start, 20_000), clean)
        assert len(tracker) <= 5000
    grown = proc.memory_info().rss - rss0
    table = tracker._table
    assert table.capacity <= 5000 and len(table.slot_of) <= 5000 and len(tracker._evidence) <= 5000
    assert grown < 40_000_000, f"RSS grew {grown / 1e6:.1f} MB over a million distinct IPs"
    assert tracker.records_seen == 1_000_000


def test_idle_ips_expire() -> None:
    tracker = BehaviourTracker(config=BehaviourConfig(expire_after=600))
    run(parse([line(f"198.51.100.{i}", 0, "/", 200) for i in range(50)]), tracker=tracker)
    assert len(tracker) == 50
    run(parse([line("192.0.2.1", 7200, "/", 200)]), tracker=tracker)
    assert len(tracker) == 1


def test_alert_type() -> None:
    (a,) = run(parse(scanner("203.0.113.95", 0, 10)))
    assert isinstance(a, Alert) and a.ip == "203.0.113.95" and a.first_line == 1 and a.last_line >= 6


def test_crawler_with_odd_but_harmless_flagged_requests_is_not_a_fake_crawler() -> None:
    records = parse([line("66.249.66.9", i, f"/misc/{i}/%22file://$file/%22", 404, agent=GOOGLEBOT)
                     for i in range(2)])
    odd = [Verdict(0.9, True, ("other",), ("unusual path",))] * 2
    assert run(records, verdicts=odd) == []
    sqli = [Verdict(0.99, True, ("sqli",), ("union select",))] * 2
    assert {a.kind for a in run(records, verdicts=sqli)} == {"fake_crawler"}


def test_wordpress_user_enumeration() -> None:
    lines = [line("203.0.113.50", i, f"/?author={i + 1}", 301 if i < 3 else 404) for i in range(8)]
    # a reader opening two author pages, and one visiting the same author page again, are not enumerating
    lines += [line("198.51.100.50", i * 20, f"/?author={a}", 301) for i, a in enumerate((1, 2, 1, 2))]
    alerts = run(parse(lines))
    assert kinds_by_ip(alerts) == {"203.0.113.50": {"user_enumeration"}}
    (alert,) = alerts
    assert alert.categories == ("scanner",) and "4 user accounts enumerated" in alert.reasons[0]
    assert (alert.first_line, alert.last_line) == (1, 4)  # raised by the fourth account asked for


# ---------------------------------------------------------------- user agents are told apart exactly
#: Two user agents whose salted ``hash()`` agreed on the 55 bits the tracker kept of it when Python runs with
#: ``PYTHONHASHSEED=0`` (found offline by Brent's cycle search over ``hash(f"{x:x}")``): it took them for one.
COLLIDING = ("47d10a62816b21", "5b964c5c5c92a8")
_ROTATION = """
import sys
from behaviour_support import line, parse
from threatlens.models.behaviour import BehaviourTracker
from threatlens.models.verdict import Verdict
a, b = sys.argv[1:3]
agents = ["Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0", "Mozilla/5.0 (Macintosh) Safari/605.1.15",
          "Mozilla/5.0 (iPhone) Mobile Safari/604.1", "Opera/9.80 (Windows NT 6.1) Presto/2.12", a, b]
records = parse([line("203.0.113.77", 4 * i, f"/page-{i}.html", agent=agents[i % 6]) for i in range(12)])
tracker = BehaviourTracker()
alerts = tracker.observe(records[:7], [Verdict(0.0, False)] * 7)
alerts += tracker.observe(records[7:], [Verdict(0.0, False)] * 5)
print((hash(a) ^ hash(b)) & 0x007F_FFFF_FFFF_FFFF == 0, [(x.kind, x.reasons[0]) for x in alerts])
"""


@pytest.mark.parametrize("seed", ["0", "1"])
def test_two_user_agents_are_never_taken_for_one(seed: str) -> None:
    """An IP rotating six agents is switching agents, whatever two of them hash to in this run."""
    import os
    import subprocess
    import sys

    tests = str(Path(__file__).resolve().parent)
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": tests + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", _ROTATION, *COLLIDING], capture_output=True, text=True, env=env,
                         timeout=120, check=True)
    collided, alerts = out.stdout.strip().split(" ", 1)
    assert collided == ("True" if seed == "0" else "False")  # the case the test is about does happen
    assert alerts == "[('user_agent_switching', '6 distinct user agents in 6 requests')]", out.stdout
