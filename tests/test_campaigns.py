"""Campaign detection on generated traffic (real parser, real tracker): botnets in, browsers and services out."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from itertools import pairwise

import pytest

from behaviour_support import BROWSER, DATA, GOOGLEBOT, SHARED, line, load_log, parse, run
from threatlens.cli import main
from threatlens.export import alert_block_ips
from threatlens.models.allowlist import Allowlist
from threatlens.models.campaigns import CampaignConfig, CampaignTracker, agent_is_odd, query_skeleton
from threatlens.models.detection import Detection
from threatlens.models.verdict import Alert, Verdict
from threatlens.parsers import LogRecord
from threatlens.serialize import alert_dict
from threatlens.tui.live import LiveStats

ODD = "Mozilla/5.0 (compatible; xfa1)"
CHROME70 = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/70.0.3538.102 Safari/537.36")
BROWSERS = (BROWSER, "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.4 Safari/605.1.15", "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.4 Mobile/15E148 Safari/604.1")
CVE_PATHS = ("/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/cgi-bin/luci/;stok=/locale",
             "/solr/admin/info/system")


def feed(records: Sequence[LogRecord], *, batch: int | None = None, tracker: CampaignTracker | None = None,
         verdicts: Sequence[Verdict] | None = None) -> list[Alert]:
    """Feed records to a campaign tracker (clean verdicts unless given) in batches; return its alerts."""
    return run(records, batch=batch, tracker=tracker if tracker is not None else CampaignTracker(), verdicts=verdicts)


def browsing(n_ips: int = 100, start: float = 0.0, span: float = 1800.0, prefix: str = "198.51") -> list[tuple]:
    """Ordinary visitors: a page with its CSS and JS, then another page, browser agents."""
    out = []
    for v in range(n_ips):
        ip = f"{prefix}.{v // 250}.{v % 250 + 1}"
        t = start + span * v / n_ips
        agent = BROWSERS[v % len(BROWSERS)]
        for dt, path in ((0, "/"), (0.3, "/css/site.css"), (0.4, "/js/app.js"), (30, f"/blog/post-{v % 7}.html")):
            out.append((t + dt, line(ip, t + dt, path, agent=agent)))
    return out


def botnet(n: int = 200, start: float = 0.0, span: float = 1800.0, agent: str = ODD, path: str = "/") -> list[tuple]:
    """``n`` IPs, each sending one request with the same odd agent."""
    return [(start + span * i / n, line(f"10.{i // 250}.{i % 250}.7", start + span * i / n, path, agent=agent))
            for i in range(n)]


def probers(n: int = 8, start: float = 0.0, agent: str = CHROME70, paths: Sequence[str] = CVE_PATHS) -> list[tuple]:
    """``n`` IPs, each sending the same probe paths (404) with one agent, a few minutes apart."""
    out = []
    for i in range(n):
        t = start + 240.0 * i
        out += [(t + j, line(f"203.0.113.{i + 1}", t + j, p, 404, agent=agent)) for j, p in enumerate(paths)]
    return out


def later(hours: float = 3.0) -> list[tuple]:
    """Ordinary traffic up to ``hours`` later (log time moves on, so quiet one-shot members count)."""
    return [(600.0 * k, line("198.51.100.200", 600.0 * k, "/", agent=BROWSER)) for k in range(int(hours * 6) + 1)]


def records_of(*parts: list[tuple]) -> list[LogRecord]:
    """Merge timed lines into one log in time order and parse it."""
    lines = sorted((x for part in parts for x in part), key=lambda tl: tl[0])
    return parse([text for _t, text in lines])


# ---------------------------------------------------------------- what is a campaign
def test_botnet_of_one_shot_odd_agent_requests_among_browsing_is_one_campaign() -> None:
    recs = records_of(browsing(span=3 * 3600.0), botnet(200))
    alerts = feed(recs)
    assert alerts and {a.kind for a in alerts} == {"campaign"}
    bots = {r.ip for r in recs if r.user_agent == ODD}
    sizes = [len(a.members) for a in alerts]
    assert 20 <= sizes[0] < 30 and sizes[-1] == 200  # first at 20 IPs (checked each minute), in full at the end
    assert all(b >= 2 * a for a, b in pairwise(sizes[:-1]))  # again only when the campaign doubled
    for a in alerts:
        assert set(a.members) <= bots and a.ip == a.members[0]
        assert a.reasons[0] == f"GET / with agent '{ODD}'"
        assert a.reasons[1] == f"{len(a.members)} IPs" and a.reasons[2].startswith("within 1 h")
        assert a.reasons[2].endswith("each quiet for 1 h since")
        assert a.categories == ("bad_bot",)
        assert a.severity == "suspicious"
        assert a.events == len(a.members)
        assert a.first_time is not None and a.last_time is not None and a.first_time <= a.last_time
    assert alerts[0].first_line < alerts[0].last_line


def test_same_three_cve_paths_from_eight_ips_is_an_attack_campaign() -> None:
    recs = records_of(browsing(50), probers(8))
    alerts = feed(recs)
    assert len(alerts) == 1
    a = alerts[0]
    assert set(a.members) <= {f"203.0.113.{i}" for i in range(1, 9)} and len(a.members) == 5
    assert "same probes (" in a.reasons[0] and f"with agent '{CHROME70[:60]}…'" in a.reasons[0]
    assert "…/eval-stdin.php" in a.reasons[0] and a.reasons[1] == "5 IPs" and "24 h" in a.reasons[2]
    assert "scanner" in a.categories
    assert a.severity == "attack"
    assert a.events == 15  # 3 probes from each of the 5 members


def test_probe_targets_match_whatever_the_install_prefix() -> None:
    prefixes = ("/", "/blog/", "/wp/", "/wordpress/", "/site/", "/old/")
    parts = [[(3600.0 * i, line(f"192.0.2.{i + 1}", 3600.0 * i, f"{p}wp-admin/", 404, agent="-"))]
             for i, p in enumerate(prefixes)]
    alerts = feed(records_of(*parts))
    assert len(alerts) == 1 and alerts[0].reasons[0] == "same probes (GET …/wp-admin/) with agent (no user agent)"


def test_thresholds_five_probers_and_twenty_one_shots() -> None:
    assert not feed(records_of(probers(4)))
    assert len(feed(records_of(probers(5)))) == 1
    assert not feed(records_of(botnet(19), later()))
    assert len(feed(records_of(botnet(20), later()))) == 1
    assert not feed(records_of(botnet(40)))  # nothing after them yet: they may still come back


def test_flagged_payloads_group_by_path_and_query_keys() -> None:
    recs = parse([line(f"10.9.0.{i}", 60.0 * i, f"/index.php?s=/Index/think/app/invokefunction&vars[0]=md5&n={i}",
                       200, agent="Go-http-client/1.1") for i in range(1, 7)])
    hit = Verdict(0.95, True, ("cmd_injection",), ("code injection",))
    alerts = feed(recs, verdicts=[hit] * len(recs))
    assert len(alerts) == 1
    assert "GET /index.php?s=&vars[0]=&n=" in alerts[0].reasons[0]
    assert alerts[0].categories == ("cmd_injection",)
    odd_only = Verdict(0.7, True, ("other",), ("unusual path",))  # weak verdicts (often false alarms) never join
    assert not feed(recs, verdicts=[odd_only] * len(recs))


# ---------------------------------------------------------------- what is not
def test_five_hundred_browsers_fetching_the_same_page_and_css_are_no_campaign() -> None:
    out = []
    for v in range(500):
        ip, t, agent = f"198.18.{v // 250}.{v % 250 + 1}", 3.0 * v, BROWSERS[v % 2]
        out += [(t, line(ip, t, "/", agent=agent)), (t + 0.2, line(ip, t + 0.2, "/css/site.css", agent=agent)),
                (t + 0.3, line(ip, t + 0.3, "/favicon.ico", 404, agent=agent))]
    assert not feed(records_of(out))


def test_browsers_hitting_one_dead_admin_link_while_reading_are_no_campaign() -> None:
    out = browsing(40)
    out += [(10.0 + 40 * v, line(f"198.51.0.{v + 1}", 10.0 + 40 * v, "/admin/", 404, agent=BROWSER))
            for v in range(0, 40, 4)]
    assert not feed(records_of(out))


def test_feed_readers_monitors_cdns_and_crawlers_are_no_campaign() -> None:
    out = []
    for i in range(10):  # a feed reader polling from 10 IPs, with and without a URL in its agent
        for k in range(48):
            t = 1800.0 * k + 7 * i
            agent = "rss2email/3.12.2" if i % 2 else "Tiny Tiny RSS/21.11 (https://tt-rss.org/)"
            out.append((t, line(f"192.0.2.{i + 1}", t, "/feed.xml", 200 if k % 3 else 304, agent=agent)))
    for i in range(50):  # Googlebot from 50 IPs: robots.txt, pages and one stale script link each
        t = 30.0 * i
        out += [(t, line(f"66.249.66.{i + 1}", t, "/robots.txt", agent=GOOGLEBOT)),
                (t + 1, line(f"66.249.66.{i + 1}", t + 1, f"/blog/post-{i}.html", agent=GOOGLEBOT)),
                (t + 2, line(f"66.249.66.{i + 1}", t + 2, "/old/list.php", 404, agent=GOOGLEBOT))]
    for i in range(40):  # CDN edges each fetching the stylesheet once
        out.append((20.0 * i, line(f"130.176.0.{i + 1}", 20.0 * i, "/css/site.css", agent="Amazon CloudFront")))
    for i in range(30):  # a monitoring service checking / from 30 locations every 5 minutes
        for k in range(12):
            out.append((300.0 * k + i, line(f"185.0.0.{i + 1}", 300.0 * k + i, "/", agent="Site24x7")))
    for i in range(25):  # a mobile app's HTTP stack, one launch each
        out.append((60.0 * i, line(f"100.64.0.{i + 1}", 60.0 * i, "/api/config",
                                   agent="ShopApp/4.2 CFNetwork/1494.0.7 Darwin/23.4.0")))
    assert not feed(records_of(out, later(25)))


def test_odd_agent_one_shots_spread_beyond_the_window_are_no_campaign() -> None:
    assert not feed(records_of(botnet(30, span=6 * 3600.0), later(8)))  # 30 IPs over 6 h: at most 5 per hour


def test_repeat_visitors_with_an_odd_agent_are_no_campaign() -> None:
    out = []
    for i in range(30):  # a script run from 30 hosts, three times a day each
        for k in range(3):
            t = 10.0 * i + 3000.0 * k
            out.append((t, line(f"10.20.0.{i + 1}", t, "/", agent="python-requests/2.31.0")))
    assert not feed(records_of(out, later(5)))


def test_conditional_gets_never_join_a_one_shot_campaign() -> None:
    out = [(10.0 * i, line(f"10.30.0.{i + 1}", 10.0 * i, "/", 304, agent=ODD)) for i in range(40)]
    assert not feed(records_of(out, later()))


def test_agent_shapes() -> None:
    for agent in (None, "-", "", ODD, "python-requests/2.31.0", "Go-http-client/1.1", "curl/8.5.0", "sqlmap/1.7",
                  "Mozilla/4.0 (compatible;)", "Hello, world"):
        assert agent_is_odd(agent), agent
    for agent in (*BROWSERS, GOOGLEBOT, "Tiny Tiny RSS/21.11 (https://tt-rss.org/)", "Amazon CloudFront",
                  "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)", "okhttp/4.12.0",
                  "Feedbin feed-id:123 - 3 subscribers (bot@feedbin.com)", "ELB-HealthChecker/2.0"):
        assert not agent_is_odd(agent), agent
    assert query_skeleton(None) == "" and query_skeleton("a=1&b=x&flag") == "?a=&b=&"


# ---------------------------------------------------------------- stream properties
@pytest.mark.parametrize("batch", [1, 7, 500])
def test_alerts_do_not_depend_on_batch_size(batch: int) -> None:
    recs = records_of(browsing(60, span=3 * 3600.0), botnet(90), probers(7),
                      botnet(25, start=100.0, agent="-", path="/.env"))
    whole = feed(recs)
    assert len(whole) >= 4
    assert feed(recs, batch=batch) == whole


def test_lines_without_times_are_judged_and_cost_no_checks() -> None:
    recs = [r._replace(time=None) for r in records_of(probers(6))]
    tracker = CampaignTracker()
    alerts = feed(recs, batch=5, tracker=tracker)
    assert len(alerts) == 1 and len(alerts[0].members) == 5
    assert alerts[0].first_time is None and alerts[0].last_time is None
    assert tracker._next_check == -math.inf  # never a periodic check without log time


def test_memory_is_bounded() -> None:
    cfg = CampaignConfig(max_keys=50, max_members=10, max_ips=300)
    tracker = CampaignTracker(cfg)
    recs = parse([line(f"10.40.{i // 250}.{i % 250}", float(i), f"/p{i}", agent=ODD) for i in range(2000)])
    assert not feed(recs, tracker=tracker)
    assert len(tracker) <= 2 * cfg.max_keys
    big = feed(records_of(botnet(60), later()), tracker=CampaignTracker(cfg))
    assert big and all(len(a.members) == 10 for a in big)
    assert big[0].reasons[1] == "60 IPs (10 listed)"  # the uncounted 50 in the proportion of valid listed ones
    assert len(feed(records_of(probers(250)), tracker=tracker)) >= 1
    assert len(tracker._ips) <= cfg.max_ips


def test_allowlisted_requests_never_join(tmp_path) -> None:
    recs = records_of(botnet(40), later())
    assert any(a.kind == "campaign" for a in Detection(None).process(recs)[1])
    allowed = Detection(None, allowlist=Allowlist.parse(["10.0.0.0/8"]))
    assert not [a for a in allowed.process(recs)[1] if a.kind == "campaign"]


def test_jsonl_lists_members_only_for_campaigns() -> None:
    alerts = feed(records_of(botnet(20), later()))
    row = alert_dict(alerts[0])
    assert row["kind"] == "campaign" and row["members"] == list(alerts[0].members)
    json.dumps(row)
    other = Alert(ip="192.0.2.1", kind="scanning", file="f", first_line=1, last_line=2, events=2, score=0.7)
    assert "members" not in alert_dict(other)


def test_block_lists_take_members_of_attack_campaigns_only() -> None:
    attack = feed(records_of(probers(6)))[0]
    oneshot = feed(records_of(botnet(20), later()))[0]
    assert alert_block_ips(attack) == attack.members and len(attack.members) == 5
    assert alert_block_ips(oneshot) == ()
    live = LiveStats()
    live.update([], [], [attack, oneshot], [])
    assert live.flagged_ips() == sorted(attack.members)
    other = Alert(ip="192.0.2.1", kind="scanning", file="f", first_line=1, last_line=2, events=2, score=0.7)
    assert alert_block_ips(other) == ("192.0.2.1",)


ELASTIC = SHARED / "logs" / "elastic_apache_logs" / "apache_logs"


@pytest.mark.skipif(not ELASTIC.is_file(), reason="../shared/data/logs/elastic_apache_logs is not present")
def test_real_log_campaign_is_made_of_labelled_probe_ips_only() -> None:
    probes = {x.split("\t")[0] for x in (DATA / "elastic_probe_ips.txt").read_text().splitlines()
              if x and not x.startswith("#")}
    records, _ = load_log(ELASTIC)
    alerts = feed(records, batch=1000)
    assert alerts and {a.reasons[0] for a in alerts} == {"same probes (GET …/wp-admin/) with agent (no user agent)"}
    assert set().union(*(a.members for a in alerts)) <= probes


def test_scan_prints_the_campaign_with_its_members_and_blocks_them(tmp_path, capsys) -> None:
    log = tmp_path / "access.log"
    log.write_text("".join(f"{text}\n" for _t, text in sorted(browsing(30) + probers(6), key=lambda tl: tl[0])))
    blocks = tmp_path / "block.txt"
    assert main(["scan", "--output", "jsonl", "--only-flagged", "--blocklist", str(blocks), str(log)]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    camps = [r for r in rows if r["type"] == "alert" and r["kind"] == "campaign"]
    # at its threshold (5 IPs), then its final tally at the end of the log (the sixth joined after the alert)
    assert len(camps) == 2 and camps[0]["members"] == [f"203.0.113.{i}" for i in range(1, 6)]
    assert camps[1]["members"] == [f"203.0.113.{i}" for i in range(1, 7)]
    assert camps[0]["ip"] == "203.0.113.1" and "scanner" in camps[0]["categories"]
    assert all("members" not in r for r in rows if r.get("kind") != "campaign")
    assert set(camps[1]["members"]) <= set(blocks.read_text().split())


def test_scan_table_names_a_campaign_by_its_first_ip_and_how_many_more(tmp_path, capsys) -> None:
    log = tmp_path / "access.log"
    log.write_text("".join(f"{text}\n" for _t, text in sorted(probers(6), key=lambda tl: tl[0])))
    assert main(["scan", str(log)]) == 0
    out = capsys.readouterr().out
    assert "203.0.113.1 +4" in out and "campaign" in out


# ---------------------------------------------------------------- end of a finished log
def test_a_log_that_ends_right_after_a_botnet_reports_it_when_flushed() -> None:
    """No hour of silence follows the last bot in the log: flush() (end of a scan) still reports the campaign."""
    tracker = CampaignTracker()
    recs = records_of(botnet(30))
    assert feed(recs, tracker=tracker) == []  # the members are still waiting to stay quiet
    alerts = tracker.flush()
    assert len(alerts) == 1 and alerts[0].kind == "campaign" and len(alerts[0].members) == 30
    assert tracker.flush() == []  # once
    assert CampaignTracker().flush() == []
    short = CampaignTracker()
    feed(records_of(botnet(10)), tracker=short)
    assert short.flush() == []  # under the threshold: nothing to report


def test_scan_of_a_finished_log_reports_the_campaign(tmp_path) -> None:
    import json
    import subprocess
    import sys

    log = tmp_path / "worm.log"
    log.write_text("".join(text + "\n" for _t, text in sorted(browsing(20) + botnet(30), key=lambda tl: tl[0])))
    for jobs in ("1", "2"):
        out = subprocess.run([sys.executable, "-m", "threatlens", "scan", "-o", "jsonl", "--only-flagged",
                              "--min-severity", "nuisance", "-j", jobs, str(log)],
                             capture_output=True, text=True, timeout=180, check=True)
        alerts = [row for row in map(json.loads, out.stdout.splitlines()) if row["type"] == "alert"]
        assert [a["kind"] for a in alerts].count("campaign") == 1, (jobs, out.stdout[-2000:])
