"""Issue #9: verdicts a sysadmin can trust, each rule on a small real-looking log, real shipped model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from behaviour_support import GOOGLEBOT, line, parse
from threatlens.models.detection import Detection
from threatlens.models.signatures import payload_evidence
from threatlens.models.units import param_has_syntax, path_has_syntax, query_params
from threatlens.models.verdict import Alert, Verdict
from threatlens.parsers import LogRecord
from threatlens.serialize import alert_dict, request_dict

SHIPPED = Path(__file__).resolve().parents[1] / "src" / "threatlens" / "models" / "threatlens-model.skops"
pytestmark = pytest.mark.skipif(not SHIPPED.exists(), reason=f"shipped model {SHIPPED.name} not built yet")
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
AHREFS = "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)"
SEMRUSH = "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)"


def run(lines: list[str], batch: int = 500) -> tuple[list[LogRecord], list[Verdict], list[Alert]]:
    records = parse(lines)
    det = Detection.load()
    verdicts: list[Verdict] = []
    alerts: list[Alert] = []
    for i in range(0, len(records), batch):
        v, a = det.process(records[i : i + batch])
        verdicts += v
        alerts += a
    return records, verdicts, alerts


def site(n: int = 60, t0: float = 0.0) -> list[str]:
    """Ordinary browsing of a small site (warms the site context)."""
    pages = ["/", "/about/", "/blog/", "/blog/post-1/", "/css/site.css", "/img/logo.png", "/contact/"]
    return [line(f"198.51.100.{i % 40 + 1}", t0 + i * 3, pages[i % len(pages)], 200) for i in range(n)]


def flagged_of(records: list[LogRecord], verdicts: list[Verdict], ip: str) -> list[Verdict]:
    return [v for r, v in zip(records, verdicts, strict=True) if r.ip == ip and v.flagged]


# ------------------------------------------------------------------ attack syntax, not strangeness
@pytest.mark.parametrize(
    "path",
    [
        "/annual report/",
        "/some folder/",
        "/rapport annuel été/",
        "/c++ notes/",
        "/don't panic/",
        "/report (2).pdf",
        "/wiki/python_(language)",
        "/a,b!c@d:e/",
        "/x;jsessionid=0a1b2c3d",
    ],
)
def test_content_in_paths_is_not_attack_syntax(path: str) -> None:
    assert not path_has_syntax(path)


@pytest.mark.parametrize(
    "path", ['/x/"><script>', "/a/../../etc/passwd", "/p/1' or '1'='1", "/cgi/$(id)", "/x;ls", "/x/%2e%2e%2f"]
)
def test_attack_syntax_in_paths(path: str) -> None:
    assert path_has_syntax(path)


@pytest.mark.parametrize(
    "unit",
    ["q=rock 'n' roll", "q=o'reilly", "name=jean-luc picard", "q=50% off", "q=c++", "city=são paulo", "q=what? why!"],
)
def test_words_and_punctuation_in_values_are_content(unit: str) -> None:
    assert not param_has_syntax(unit)


@pytest.mark.parametrize(
    "unit",
    ["id=1'", "q=' or 'a'='a", "q=<b>", "f=../x", "u=http://x/y", "c=;id", "q=1 or 1=1", "q=admin'--", "x=sleep(5)"],
)
def test_attack_syntax_in_values(unit: str) -> None:
    assert param_has_syntax(unit)


def test_query_params_split_on_ampersand_and_name_semicolons() -> None:
    assert query_params("C=M;O=D") == ["C=M", "O=D"]
    assert query_params("a=1&&b=2;x") == ["a=1", "b=2;x"]
    assert len(query_params("&".join(f"p{i}=v" for i in range(100)))) == 32


def test_crawlers_on_a_site_with_spaces_and_odd_names_raise_nothing() -> None:
    paths = [
        "/Annual%20Report/",
        "/Annual%20Report/2023%20Q4.pdf",
        "/Some%20Folder/?C=M;O=D",
        "/Some%20Folder/?C=N;O=A",
        "/photos/%C3%A9t%C3%A9%202019/",
        "/Don%27t%20Panic/",
        "/files/a+b+c.txt",
        "/docs/Report%20(final).pdf",
        "/wiki/Python_(programming_language)",
        "/search?q=rock+%27n%27+roll",
    ]
    lines = site()
    for k, agent in enumerate((GOOGLEBOT, BINGBOT, AHREFS, SEMRUSH)):
        lines += [line(f"203.0.113.{k + 1}", 200 + k * 60 + i, p, 200, agent=agent) for i, p in enumerate(paths)]
        lines += [
            line(f"203.0.113.{k + 1}", 230 + k * 60 + i, p + "old/", 404, agent=agent) for i, p in enumerate(paths[:4])
        ]
    lines += [line("192.0.2.50", 600 + i, p, 200) for i, p in enumerate(paths)]  # and a browser
    records, verdicts, alerts = run(lines)
    assert [(r.path, v.reasons) for r, v in zip(records, verdicts, strict=True) if v.flagged] == []
    assert alerts == []


def test_one_injected_parameter_among_many_is_caught() -> None:
    benign = "&".join(f"f{i}=value{i}" for i in range(13))
    lines = [
        *site(),
        line("192.0.2.9", 300, f"/shop/search?{benign}&name=%27+OR+%27a%27%3D%27a"),
        line("192.0.2.10", 301, f"/shop/search?{benign}&name=x%27+DELETE+FROM+users--"),
        line("192.0.2.11", 302, f"/shop/search?{benign}&name=O%27Reilly+Media"),
    ]
    records, verdicts, _ = run(lines)
    by_ip = {r.ip: v for r, v in zip(records, verdicts, strict=True)}
    assert by_ip["192.0.2.9"].flagged and "sqli" in by_ip["192.0.2.9"].categories
    assert by_ip["192.0.2.10"].flagged and by_ip["192.0.2.10"].severity == "attack"
    assert not by_ip["192.0.2.11"].flagged


# ------------------------------------------------------------------ causal, 2xx-only site context
def test_redirects_do_not_make_a_probe_look_served() -> None:
    """An http→https site: everything is answered 301 first; a probe's later 404 is still a probe."""
    lines = []
    for i in range(40):
        ip = f"198.51.100.{i + 1}"
        lines += [line(ip, i * 5, "/blog/", 301), line(ip, i * 5 + 1, "/blog/", 200)]
    lines += [
        line("192.0.2.66", 300, "/wp-login.php", 301),
        line("192.0.2.66", 301, "/wp-login.php", 404),
        line("192.0.2.66", 302, "/wp-admin/setup-config.php", 301),
        line("192.0.2.66", 303, "/wp-admin/setup-config.php", 404),
    ]
    records, verdicts, alerts = run(lines)
    hits = flagged_of(records, verdicts, "192.0.2.66")
    assert len(hits) == 2 and all(v.severity == "attack" for v in hits)
    assert any(a.ip == "192.0.2.66" and a.kind == "admin_probing" for a in alerts)


def test_a_probe_is_not_excused_by_its_own_future() -> None:
    """The same batch later serves the path: the earlier 404 was judged before that was known."""
    lines = [*site(), line("192.0.2.7", 300, "/phpmyadmin/", 404), line("198.51.100.3", 301, "/phpmyadmin/", 200)]
    _records, verdicts, _ = run(lines, batch=2000)
    assert verdicts[-2].flagged and not verdicts[-1].flagged


@pytest.mark.parametrize("batch", [1, 7, 500, 2000])
def test_verdicts_do_not_depend_on_batch_size(batch: int) -> None:
    lines = (
        site(80)
        + [
            line("192.0.2.7", 300 + i, p, s)
            for i, (p, s) in enumerate(
                [
                    ("/phpmyadmin/", 404),
                    ("/x.asp", 404),
                    ("/phpmyadmin/", 200),
                    ("/y.asp", 200),
                    ("/z.asp", 404),
                    ("/blog/?q=%27+or+1%3D1--", 200),
                ]
            )
        ]
        + site(40, 400)
    )
    _, reference, _ = run(lines, batch=len(lines))
    _, verdicts, _ = run(lines, batch=batch)
    assert verdicts == reference


# ------------------------------------------------------------------ probes without lists
def test_script_extension_never_served_is_a_probe_and_served_one_is_not() -> None:
    static = site()
    lines = [
        *static,
        line("192.0.2.20", 400, "/plus/recommend.php", 404),
        line("192.0.2.21", 401, "/_vti_bin/owssvr.dll", 404),
        line("192.0.2.22", 402, "/shop/cart.action", 404),
    ]
    records, verdicts, _ = run(lines)
    for ip, ext in (("192.0.2.20", "php"), ("192.0.2.21", "dll"), ("192.0.2.22", "action")):
        (v,) = flagged_of(records, verdicts, ip)
        assert v.severity == "attack" and any(f".{ext} script" in r for r in v.reasons), v
    asp_site = [line(f"198.51.100.{i % 30 + 1}", i * 2, f"/shop/item{i}.asp", 200) for i in range(40)]
    records, verdicts, _ = run([*asp_site, line("192.0.2.23", 200, "/shop/gone.asp", 404)])
    assert not verdicts[-1].flagged


def test_head_without_agent_and_double_slash_on_scripts() -> None:
    lines = [
        *site(),
        line("192.0.2.30", 400, "/login.php", 404, method="HEAD", agent="-"),
        line("192.0.2.31", 401, "//xmlrpc.php", 404),
    ]
    _records, verdicts, _ = run(lines)
    assert any("HEAD without a user agent" in r for r in verdicts[-2].reasons) and verdicts[-2].flagged
    assert any("// before" in r for r in verdicts[-1].reasons) and verdicts[-1].flagged


def test_post_to_a_site_that_never_accepts_posts() -> None:
    lines = [*site(), line("192.0.2.40", 400, "/blog/post-1/", 200, method="POST", referer="http://spam.example/")]
    _, verdicts, _ = run(lines)
    assert verdicts[-1].flagged and "POST" in verdicts[-1].reasons[-1]
    accepting = site() + [line(f"198.51.100.{i}", 300 + i, "/comment", 200, method="POST") for i in range(1, 5)]
    _, verdicts, _ = run(accepting)
    assert not verdicts[-1].flagged


# ------------------------------------------------------------------ behaviour rules with fewer false alarms
def test_bulk_downloader_following_stale_links_is_not_a_scanner() -> None:
    lines = site()
    for i in range(120):
        day = f"2014-{i % 12 + 1:02d}-{i % 28 + 1:02d}"
        status = 404 if i % 2 else 200
        lines.append(line("192.0.2.60", 300 + i * 0.4, f"/releases/tool-{day}.tar.gz", status, agent="Wget/1.21.3"))
        lines.append(line("192.0.2.60", 300 + i * 0.4 + 0.1, f"/logs/{day}/", status, agent="Wget/1.21.3"))
    records, verdicts, alerts = run(lines)
    assert [a.kind for a in alerts if a.ip == "192.0.2.60" and a.kind == "scanning"] == []
    assert flagged_of(records, verdicts, "192.0.2.60") == []


def test_crawler_fetching_a_served_sensitive_looking_file_is_not_fake() -> None:
    lines = [
        *site(),
        line("66.249.66.1", 400, "/files/access.log.gz", 200, agent=GOOGLEBOT),
        line("66.249.66.1", 401, "/files/error.log", 200, agent=GOOGLEBOT),
        line("66.249.66.1", 402, "/files/debug.log", 200, agent=GOOGLEBOT),
    ]
    _, _, alerts = run(lines)
    assert alerts == []
    probe = [
        *site(),
        line("192.0.2.70", 400, "/.env", 404, agent=GOOGLEBOT),
        line("192.0.2.70", 401, "/.git/config", 404, agent=GOOGLEBOT),
    ]
    _, _, alerts = run(probe)
    assert "fake_crawler" in {a.kind for a in alerts}


def test_full_url_request_for_the_sites_own_host_is_not_proxy_abuse() -> None:
    own = "http://www.example.org/blog/"
    lines = [
        line(f"198.51.100.{i % 30 + 1}", i * 3, "/blog/post-1/", 200, referer="http://www.example.org/blog/")
        for i in range(30)
    ]
    lines[0] = line("198.51.100.1", 0, "/blog/", 200)
    lines += [line("192.0.2.80", 200, own, 200), line("192.0.2.81", 201, "http://www.baidu.com/", 404)]
    _, verdicts, _ = run(lines)
    assert not verdicts[-2].flagged
    assert verdicts[-1].flagged and "protocol_abuse" in verdicts[-1].categories


def test_login_redirect_to_the_sites_own_url_is_not_an_attack() -> None:
    lines = [
        line(f"198.51.100.{i % 30 + 1}", i * 3, "/blog/post-1/", 200, referer="https://www.example.org/blog/")
        for i in range(30)
    ]
    lines[0] = line("198.51.100.1", 0, "/blog/", 200)
    target = "/login?redirect_to=https%3A%2F%2Fwww.example.org%2Fwp-admin%2F&reauth=1"
    lines.append(line("192.0.2.90", 200, target, 200))
    _, verdicts, _ = run(lines)
    assert not verdicts[-1].flagged, verdicts[-1]


def test_crawler_following_broken_template_links_is_not_flagged() -> None:
    lines = site() + [
        line("144.76.95.39", 400 + i, p, 404, agent=AHREFS)
        for i, p in enumerate(
            ["/misc/nmh//%22file://$file/%22", "/scripts//%22$%7BWEBLOC%7D/view.php?file=$%7Blinkto%7D%5C%22"]
        )
    ]
    records, verdicts, alerts = run(lines)
    assert flagged_of(records, verdicts, "144.76.95.39") == [] and alerts == []


# ------------------------------------------------------------------ severity in the JSONL contract
def test_severity_is_in_jsonl_rows_and_alerts() -> None:
    lines = (
        site()
        + [
            line("192.0.2.99", 400 + i, p, 404)
            for i, p in enumerate(["/.env", "/.git/config", "/wp-config.php.bak", "/phpmyadmin/"])
        ]
        + [line("192.0.2.98", 500, "/", 200, agent="Mozilla/4.0 (compatible; HTTrack 3.0x; Windows 98)")]
    )
    records, verdicts, alerts = run(lines)
    row = request_dict(records[-5], verdicts[-5])
    assert json.loads(json.dumps(row))["severity"] == "attack"
    assert request_dict(records[0], verdicts[0])["severity"] is None
    assert {alert_dict(a)["severity"] for a in alerts if a.ip == "192.0.2.99"} == {"attack"}
    assert verdicts[-1].categories == ("bad_bot",) and not verdicts[-1].flagged


def test_referrer_spam_with_an_implausible_browser_is_a_nuisance() -> None:
    ie5 = "Mozilla/4.0 (compatible; MSIE 5.5; Windows NT 5.0; .NET CLR 1.1.4322)"
    old_firefox = "Mozilla/5.0 (Windows NT 5.0; rv:12.0) Gecko/20100101 Firefox/12.0"
    lines = [
        *site(),
        line("192.0.2.120", 400, "/blog/post-1/", 200, agent=ie5, referer="http://cheap-pills.example.ru/"),
        line("192.0.2.121", 401, "/blog/post-1/", 200, agent=ie5, referer="https://www.google.com/search?q=x"),
        line("192.0.2.122", 402, "/blog/post-1/", 200, agent=old_firefox, referer="http://stackoverflow.com/q/1"),
    ]
    _, verdicts, _ = run(lines)
    spam, searched, old_but_real = verdicts[-3:]
    assert spam.flagged and spam.severity == "nuisance" and "referrer spam" in spam.reasons[-1]
    assert not searched.flagged and not old_but_real.flagged


# ------------------------------------------------------------------ a call-looking word in prose is content
PROSE_WITH_CALL = "i never really liked c's assert() feature. if an assertion is violated, it tells you nothing"


@pytest.mark.parametrize(
    "unit",
    [f"q={PROSE_WITH_CALL}", "q=why does my sleep() hang forever", "title=я не люблю eval() вообще"],
)
def test_a_call_inside_prose_is_content(unit: str) -> None:
    assert not param_has_syntax(unit)
    assert not [e for e in payload_evidence(unit) if e.category in ("cmd_injection", "xss", "sqli")]


@pytest.mark.parametrize(
    "unit",
    [
        "cmd=system(id)",  # the value is the call
        "x=a b eval($_post[x]) c",  # a variable as argument
        "q=see the sleep(5) docs now",  # a number as argument
        "id=1 and database() like 0x74",  # numeric SQL context
        "id=1 or not version() like 0x35",  # SQL operators next to the call
        "q=so we call foo() and bar() then",
        "c=x;assert(x);",  # statement separators
        "q=phpinfo()",  # nothing but the call
    ],
)
def test_a_call_with_code_around_it_is_attack_syntax(unit: str) -> None:
    assert param_has_syntax(unit)


def test_call_fragments_with_code_around_them_are_still_evidence() -> None:
    for text in ("c=system(id)", "x=a b eval($_post[x]) c", "q=1;passthru(ls)"):
        assert any(e.category == "cmd_injection" for e in payload_evidence(text)), text
    assert path_has_syntax("/cgi-bin/x() { :; }; /bin/id")


def test_forum_spam_quoting_a_call_is_not_an_attack() -> None:
    """Spam that quotes programming prose in the path (``+`` for spaces) and the referer, as a real log shows."""
    spam = "/presentations/vim/Result:+%22" + PROSE_WITH_CALL.replace(" ", "+").replace("'", "%27") + "%22"
    spam = spam.replace("(", "%28").replace(")", "%29")
    lines = [*site(), line("203.0.113.9", 300, "/", 200, referer="http://www.example.org" + spam),
             line("203.0.113.9", 301, spam, 404)]
    _, verdicts, _ = run(lines)
    from_referer, in_path = verdicts[-2], verdicts[-1]
    assert not from_referer.flagged, from_referer
    assert "cmd_injection" not in in_path.categories and in_path.severity != "attack", in_path


ELASTIC = Path(__file__).resolve().parents[2] / "shared" / "data" / "logs" / "elastic_apache_logs" / "apache_logs"


@pytest.mark.skipif(not ELASTIC.is_file(), reason="../shared/data/logs/elastic_apache_logs is not present")
def test_real_forum_spam_quoting_assert_is_not_command_injection() -> None:
    lines = ELASTIC.read_text(encoding="utf-8", errors="replace").splitlines()
    spam = [x for x in lines if "assert%28%29+feature" in x]
    assert len(spam) == 2, "the elastic log holds two lines of this spam"
    records, verdicts, _ = run(spam)
    for r, v in zip(records, verdicts, strict=True):
        assert "cmd_injection" not in v.categories and v.severity != "attack", (r.line, v)
    # the line that carries the spam only in its referer is an ordinary page view
    assert not [v for r, v in zip(records, verdicts, strict=True) if r.path == "/" and v.flagged]
