"""``threatlens serve`` end to end: one real server process on an ephemeral loopback port, a real client.

The server follows a log the tests grow, needs a bearer token, and has small limits so the refusals are
cheap to reach. The browser test drives Debian's headless chromium (skipped with the reason when absent).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("aiohttp", reason="threatlens serve needs the serve extra: pip install -e '.[serve]'")
pytest.importorskip("textual_serve", reason="threatlens serve needs the serve extra: pip install -e '.[serve]'")

from prometheus_client.parser import text_string_to_metric_families

from browser_support import chromium_path, open_page
from serve_support import Served, call, request, serve_env, start_server, wait_until
from threatlens.cli import main
from threatlens.serve.metrics import METRICS
from tui_support import attack_lines, write_log

pytestmark = pytest.mark.timeout(240)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_logs" / "combined.log"
ARTIFACTS = ROOT / "tests" / "artifacts"
TOKEN = "test-token-0123456789abcdef"
MAX_BODY = 2_000_000
MAX_LINE = 4096
#: 2,500 lines of the sample log with one line that is not a request.
_LINES = SAMPLE.read_bytes().splitlines(keepends=True)[:2500]
SCORED = b"".join([*_LINES[:120], b"this line is not an access-log line\n", *_LINES[120:]])


@dataclass
class Site:
    """The running server and the log it follows; ``scan`` is ``scan --output jsonl -`` over ``SCORED``."""

    served: Served
    log: Path
    env: dict[str, str]
    exports: Path
    scan: subprocess.CompletedProcess[bytes]

    @property
    def url(self) -> str:
        return self.served.url

    @property
    def auth(self) -> dict[str, str]:
        return self.served.auth


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    base = tmp_path_factory.mktemp("serve")
    log = base / "access.log"
    log.write_bytes(b"")
    (base / "ufw.log").write_bytes(b"")
    token_file = base / "token"
    token_file.write_text(TOKEN + "\n")
    exports = base / "exports"
    exports.mkdir()
    env = serve_env(base / "xdg")
    scan: list[subprocess.CompletedProcess[bytes]] = []
    scanning = threading.Thread(target=lambda: scan.append(subprocess.run(  # meanwhile the server starts
        [sys.executable, "-m", "threatlens", "scan", "--output", "jsonl", "-"], input=SCORED, capture_output=True,
        env=env, check=True, timeout=180)))
    scanning.start()
    served = start_server(["--token-file", str(token_file), "--max-sessions", "1", "--max-body", str(MAX_BODY),
                           "--max-line", str(MAX_LINE), "--export-dir", str(exports), str(log),
                           str(base / "ufw.log")], env, TOKEN)
    scanning.join()
    yield Site(served, log, env, exports, scan[0])
    assert served.stop() == 0, "".join(served.stderr)


def _summary(site: Site) -> dict:
    reply = call("GET", site.url + "api/v1/summary", headers=site.auth)
    assert reply.status == 200
    return reply.json()


# -- scoring ---------------------------------------------------------------------------------------------


def test_score_equals_scan_jsonl_on_the_same_lines(site: Site) -> None:
    body = SCORED
    scan = site.scan
    assert b'"type": "alert"' in scan.stdout and b'"type": "unparsed"' in scan.stdout

    text = call("POST", site.url + "api/v1/score", data=body, headers={**site.auth, "Content-Type": "text/plain"})
    assert text.status == 200, text.body[:300]
    assert text.headers["Content-Type"].startswith("application/x-ndjson")
    assert text.body == scan.stdout

    as_json = call("POST", site.url + "api/v1/score", json=body.decode().splitlines(), headers=site.auth)
    assert as_json.status == 200
    assert as_json.body == scan.stdout  # a second request starts fresh: nothing leaked from the first

    flagged = call("POST", site.url + "api/v1/score?only_flagged=true", data=body,
                   headers={**site.auth, "Content-Type": "text/plain"})
    rows = flagged.body.decode().splitlines()
    assert rows and all('"flagged": true' in r or '"type": "alert"' in r for r in rows)


def test_score_of_an_upload_ending_with_a_botnet_reports_the_campaign_as_scan_does(site: Site) -> None:
    """The upload is a finished input: the campaign still waiting for log time is reported at its end."""
    from behaviour_support import line

    odd = "Mozilla/5.0 (compatible; xfa1)"
    browsing = [line(f"198.51.100.{v + 1}", 90.0 * v + dt, path) for v in range(20)
                for dt, path in ((0, "/"), (0.3, "/css/site.css"), (30, f"/blog/post-{v % 7}.html"))]
    bots = [line(f"10.0.{i}.7", 60.0 * i + 5, "/", agent=odd) for i in range(30)]
    body = "".join(text + "\n" for text in sorted(browsing + bots, key=lambda t: t.split("[", 1)[1])).encode()
    scan = subprocess.run([sys.executable, "-m", "threatlens", "scan", "--output", "jsonl", "-"], input=body,
                          capture_output=True, env=site.env, check=True, timeout=180)
    campaigns = [r for r in map(json.loads, scan.stdout.splitlines()) if r.get("kind") == "campaign"]
    assert len(campaigns) == 1 and len(campaigns[0]["members"]) == 30, scan.stdout[-1500:]
    for query in ("", "?context=live"):
        reply = call("POST", site.url + "api/v1/score" + query, data=body,
                     headers={**site.auth, "Content-Type": "text/plain"})
        assert reply.status == 200, reply.body[:300]
        if not query:
            assert reply.body == scan.stdout
        rows = [json.loads(r) for r in reply.body.splitlines()]
        assert [r.get("kind") for r in rows].count("campaign") == 1, (query, reply.body[-1500:])


def test_score_with_explicit_format_and_live_context(site: Site) -> None:
    body = "\n".join(attack_lines(12, ip="192.0.2.50")).encode()
    headers = {**site.auth, "Content-Type": "text/plain"}
    fixed = call("POST", site.url + "api/v1/score?format=combined", data=body, headers=headers)
    assert fixed.status == 200
    rows = fixed.body.decode().splitlines()
    assert sum('"type": "request"' in r for r in rows) == 12
    live = call("POST", site.url + "api/v1/score?context=live", data=body, headers=headers)
    assert live.status == 200
    assert sum('"type": "request"' in r for r in live.body.decode().splitlines()) == 12
    assert "192.0.2.50" not in str(_summary(site)["top_ips"])  # scored lines never enter the live views


def test_hostile_log_content_comes_back_as_inert_json(site: Site) -> None:
    hostile = ('203.0.113.5 - - [14/Mar/2026:06:00:00 +0000] "GET /<script>alert(1)</script>\x1b]0;pwned\x07 '
               'HTTP/1.1" 404 0 "-" "\x1b[2J<img src=x onerror=alert(2)>"')
    reply = call("POST", site.url + "api/v1/score?format=combined", data=(hostile + "\n").encode(),
                 headers={**site.auth, "Content-Type": "text/plain"})
    assert reply.status == 200
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert b"\x1b" not in reply.body and b"\x07" not in reply.body  # control characters escaped by JSON
    row = json.loads(reply.body.splitlines()[0])
    assert "<script>" in row["path"] and "\x1b" in row["path"]  # the data itself, unchanged


# -- refusals ---------------------------------------------------------------------------------------------


def test_every_route_but_healthz_needs_the_token(site: Site) -> None:
    assert call("GET", site.url + "healthz").json() == {"status": "ok"}
    for path in ("", "ws", "metrics", "api/v1/summary", "api/v1/alerts", "api/v1/ips/192.0.2.1",
                 "static/js/textual.js"):
        reply = call("GET", site.url + path)
        assert reply.status == 401, path
        assert reply.headers["WWW-Authenticate"] == "Bearer"
        assert "bearer token" in reply.json()["error"]
    body = {"data": b"1.2.3.4 - - [14/Mar/2026:06:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"\n"}
    assert call("POST", site.url + "api/v1/score", headers={"Content-Type": "text/plain"}, **body).status == 401
    for wrong in (f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer"):
        assert call("GET", site.url + "api/v1/summary", headers={"Authorization": wrong}).status == 401, wrong
    assert call("GET", site.url + "api/v1/summary", headers=site.auth).status == 200


def test_browser_login_sets_a_strict_cookie(site: Site) -> None:
    login = call("GET", site.url + f"?token={TOKEN}")
    assert login.status == 303 and login.headers["Location"] == "/"
    cookie = login.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert call("GET", site.url + "?token=wrong-wrong-wrong-wrong").status == 401
    page = call("GET", site.url, headers={"Cookie": f"threatlens_token={TOKEN}"})
    assert page.status == 200
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert b"<script>" not in page.body  # no inline script: the policy needs no 'unsafe-inline' for scripts


def test_foreign_host_and_cross_origin_websocket_are_refused(site: Site) -> None:
    rebound = call("GET", site.url + "api/v1/summary", headers={**site.auth, "Host": "attacker.example:8321"})
    assert rebound.status == 421
    cross = call("GET", site.url + "ws", headers={**site.auth, "Origin": "http://attacker.example",
                                                  "Connection": "Upgrade", "Upgrade": "websocket"})
    assert cross.status == 403 and "origin" in cross.json()["error"]


@pytest.mark.parametrize(
    ("query", "headers", "body", "status", "words"),
    [
        ("", {"Content-Type": "text/plain"}, b"x" * (MAX_BODY + 1), 413, "--max-body"),
        ("", {"Content-Type": "text/plain"}, b"ok\n" + b"y" * (MAX_LINE + 1) + b"\n", 413, "line 2"),
        ("", {"Content-Type": "application/x-www-form-urlencoded"}, b"a=b", 415, "text/plain"),
        ("", {"Content-Type": "application/json"}, b"[1, 2]", 400, "array of strings"),
        ("", {"Content-Type": "application/json"}, b"{not json", 400, "not valid JSON"),
        ("", {"Content-Type": "application/json"}, b'["a\\nb"]', 400, "newline"),
        ("", {"Content-Type": "text/plain"}, b"hello\nworld\n", 422, "format"),
        ("?format=no-such-preset-%25z", {"Content-Type": "text/plain"}, b"x\n", 422, ""),
        ("?context=other", {"Content-Type": "text/plain"}, b"x\n", 400, "context"),
        ("?only_flagged=perhaps", {"Content-Type": "text/plain"}, b"x\n", 400, "only_flagged"),
    ],
    ids=["body", "line", "form", "json-type", "json-syntax", "json-newline", "unknown-format", "bad-format",
         "context", "only-flagged"],
)
def test_score_refusals_are_clear_json(site: Site, query: str, headers: dict, body: bytes, status: int,
                                       words: str) -> None:
    reply = call("POST", site.url + "api/v1/score" + query, data=body, headers={**site.auth, **headers})
    assert reply.status == status, reply.body[:300]
    assert reply.headers["Content-Type"].startswith("application/json")
    assert words in reply.json()["error"]


@pytest.mark.parametrize("query", ["since=-1", "since=x", "limit=0", "limit=5000", "min_severity=critical"])
def test_alert_query_refusals(site: Site, query: str) -> None:
    reply = call("GET", site.url + "api/v1/alerts?" + query, headers=site.auth)
    assert reply.status == 400
    assert reply.json()["error"]


def test_unknown_routes_and_methods_answer_json(site: Site) -> None:
    missing = call("GET", site.url + "api/v1/nothing", headers=site.auth)
    assert missing.status == 404 and missing.json()["error"]
    wrong = call("GET", site.url + "api/v1/score", headers=site.auth)
    assert wrong.status == 405 and "POST" in wrong.headers["Allow"]


def test_non_loopback_listen_without_token_refuses_to_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = write_log(tmp_path / "a.log", [])
    assert main(["serve", "--listen", "0.0.0.0:8321", str(log)]) == 2
    err = capsys.readouterr().err
    assert "refusing to listen on 0.0.0.0" in err and "--token-file" in err
    (tmp_path / "short").write_text("abc\n")
    assert main(["serve", "--token-file", str(tmp_path / "short"), str(log)]) == 2
    assert "at least 16" in capsys.readouterr().err
    assert main(["serve", "--listen", "127.0.0.1:8321", "-"]) == 2
    assert "standard input" in capsys.readouterr().err


def test_serve_help_and_version_name_serve_and_refuse_stdin(capsys: pytest.CaptureFixture[str]) -> None:
    from threatlens import __version__

    outs = []
    for argv in (["serve", "--help"], ["serve", "--version"]):
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 0
        outs.append(" ".join(capsys.readouterr().out.split()))
    assert "standard input is not supported" in outs[0] and "or - for standard input" not in outs[0]
    assert outs[1] == f"threatlens serve {__version__}"


# -- live views while the log grows -----------------------------------------------------------------------


def test_alert_polling_misses_and_repeats_nothing_while_the_log_grows(site: Site) -> None:
    before = _summary(site)
    start = before["newest_alert_id"]
    sample = SAMPLE.read_text().splitlines()
    done = threading.Event()

    def grow() -> None:
        for i in range(0, len(sample), 250):
            write_log(site.log, sample[i:i + 250], mode="a")
            time.sleep(0.03)
        done.set()

    async def poll() -> list[dict]:
        seen: list[dict] = []
        since = start
        quiet = 0
        deadline = time.monotonic() + 120
        summary: dict = {}
        while quiet < 3:
            assert time.monotonic() < deadline, (before, summary, "".join(site.served.stderr)[-3000:])
            reply = await request("GET", site.url + f"api/v1/alerts?since={since}&limit=3", headers=site.auth)
            page = reply.json()
            assert page["missed"] == 0
            seen.extend(page["alerts"])
            assert page["next_since"] >= since
            since = page["next_since"]
            settled = False
            if done.is_set():
                summary = (await request("GET", site.url + "api/v1/summary", headers=site.auth)).json()
                settled = summary["lines"] >= before["lines"] + len(sample)
            quiet = quiet + 1 if settled and not page["alerts"] else 0
            await asyncio.sleep(0.02)
        return seen

    writer = threading.Thread(target=grow)
    writer.start()
    try:
        seen = asyncio.run(poll())
    finally:
        writer.join()
    ids = [a["id"] for a in seen]
    after = _summary(site)
    assert ids == list(range(start + 1, after["newest_alert_id"] + 1))  # every alert once, in order
    assert len(ids) >= 5 and after["alerts"] == after["newest_alert_id"]
    assert {"ip", "requests", "flagged", "max_score", "country", "last_seen", "alerts"} <= set(after["top_ips"][0])
    assert after["top_ips"][0]["requests"] >= after["top_ips"][-1]["requests"]
    assert all(a["type"] == "alert" and a["severity"] in ("attack", "suspicious", "nuisance") for a in seen)

    strict = call("GET", site.url + f"api/v1/alerts?since={start}&min_severity=suspicious&limit=1000",
                  headers=site.auth).json()
    expected = [a["id"] for a in seen if a["severity"] in ("attack", "suspicious")]
    assert [a["id"] for a in strict["alerts"]] == expected
    assert strict["next_since"] == after["newest_alert_id"]  # past the nuisance ones it skipped


def test_metrics_parse_and_agree_with_the_summary(site: Site) -> None:
    reply = call("GET", site.url + "metrics", headers=site.auth)
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(reply.body.decode())}
    expected = {name.removesuffix("_total") for name, _kind, _help in METRICS}
    assert expected <= set(families)
    summary = _summary(site)

    def value(name: str) -> float:
        return sum(s.value for s in families[name].samples if s.name.endswith("_total") or s.name == name)

    assert value("threatlens_lines_read") == summary["lines"]
    assert value("threatlens_lines_parsed") == summary["parsed"]
    assert value("threatlens_firewall_packets") == summary["packets"]
    assert summary["lines"] == summary["parsed"] + summary["packets"] + summary["unparsed"]
    assert value("threatlens_alerts") == summary["alerts"]
    assert value("threatlens_files_followed") == 2
    info = families["threatlens_model_info"].samples[0]
    assert info.labels["model_version"] == summary["model"]


def test_ip_view_pages_through_what_the_ip_screen_shows(site: Site) -> None:
    alerts = call("GET", site.url + "api/v1/alerts?limit=1", headers=site.auth).json()["alerts"]
    assert alerts, "the growing-log test raised alerts"
    ip = alerts[0]["ip"]
    first = call("GET", site.url + f"api/v1/ips/{ip}?limit=2", headers=site.auth).json()
    second = call("GET", site.url + f"api/v1/ips/{ip}?limit=2&offset=2", headers=site.auth).json()
    assert first["ip"] == ip and first["requests"] >= 4 and first["alerts"]
    assert all(r["type"] == "request" and r["ip"] == ip for r in first["recent_requests"])
    keys = {(r["line"], r["file"]) for r in first["recent_requests"]}
    assert keys and not keys & {(r["line"], r["file"]) for r in second["recent_requests"]}
    missing = call("GET", site.url + "api/v1/ips/192.0.2.254", headers=site.auth)
    assert missing.status == 404 and missing.json()["error"]


# -- the browser ----------------------------------------------------------------------------------------


def test_browser_shows_the_dashboard_with_an_attacker_from_the_growing_log(site: Site) -> None:
    if chromium_path() is None:
        pytest.skip("chromium is not installed (make test installs Debian's chromium with apt-get when it can)")
    attacker = "203.0.113.199"

    async def run() -> None:
        async with open_page(site.url + f"?token={TOKEN}") as page:
            assert await page.wait_for_text("Top IPs", 60), page.text()[-2000:]
            write_log(site.log, attack_lines(40, ip=attacker), mode="a")
            seen = await page.wait_for_text(attacker, 45)
            await asyncio.sleep(0.5)
            size = await page.screenshot(ARTIFACTS / "serve-browser.png")
            assert seen, page.text()[-3000:]
            assert size > 10_000
            blocked = [m for m in page.messages if "Content Security Policy" in m]
            assert not blocked, blocked
            second = await request("GET", site.url + "ws", headers={**site.auth, "Connection": "Upgrade",
                                                                   "Upgrade": "websocket"})
            assert second.status == 503 and "--max-sessions" in second.json()["error"]  # one session at a time

    asyncio.run(run())
    seen_by_api = call("GET", site.url + f"api/v1/ips/{attacker}", headers=site.auth).json()
    assert seen_by_api["requests"] == 40 and seen_by_api["flagged"] > 0


def test_firewall_packets_reach_the_summary_and_the_ip_view(site: Site) -> None:
    src = "203.0.113.77"
    ufw = site.log.with_name("ufw.log")
    lines = [f"2026-03-14T06:00:{i:02d}+00:00 web1 kernel: [UFW BLOCK] IN=eth0 OUT= SRC={src} DST=198.51.100.10 "
             f"LEN=44 TTL=50 PROTO=TCP SPT=40000 DPT={port} WINDOW=1024 RES=0x00 SYN URGP=0"
             for i, port in enumerate((22, 23, 445, 3389, 8080))]
    with ufw.open("a") as fh:
        fh.write("\n".join(lines) + "\n")
    view = wait_until(lambda: (r := call("GET", site.url + f"api/v1/ips/{src}", headers=site.auth)).status == 200
                      and r.json()["firewall"] and r.json()["firewall"]["packets"] == len(lines) and r.json(), 60)
    assert {p["port"] for p in view["firewall"]["ports"]} == {22, 23, 445, 3389, 8080}
    assert view["firewall"]["blocked"] == len(lines) and view["requests"] == 0
    summary = _summary(site)
    assert summary["packets"] >= len(lines) and {p["port"] for p in summary["firewall_ports"]} >= {"22", "3389"}
    assert summary["lines"] == summary["parsed"] + summary["packets"] + summary["unparsed"]
    bad = call("GET", site.url + "api/v1/ips/not-an-ip", headers=site.auth)
    assert bad.status == 400 and bad.json()["error"] == "not an IP address"
