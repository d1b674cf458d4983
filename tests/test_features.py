from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from threatlens.models.dataset import make_record
from threatlens.models.features import N_HASH, N_NUMERIC, numeric_row, unit_matrix, unit_parts
from threatlens.models.normalize import normalise, url_decode
from threatlens.models.signatures import agent_evidence, path_hits, payload_evidence
from threatlens.models.site_context import SiteContext


def test_decodes_repeatedly_and_folds_evasions() -> None:
    assert normalise("%2527%2520OR%25201%253D1", plus=True) == "' or 1=1"
    assert normalise("%u003Cscript%u003E") == "<script>"
    assert normalise("/..%c0%af..%c0%afetc/passwd", path=True) == "/../../etc/passwd"
    assert normalise("/a/./b//c", path=True) == "/a/b/c"
    assert normalise("q=union+select", plus=True) == "q=union select"
    assert normalise("&#x3c;svg onload=alert(1)&#x3e;") == "<svg onload=alert(1)>"
    assert normalise("..%5c..%5cwindows") == "../../windows"


def test_plus_is_a_space_only_in_queries() -> None:
    assert normalise("/c++/tutorial", path=True) == "/c++/tutorial"
    assert normalise("c%2B%2B+tutorial", plus=True) == "c++ tutorial"


def test_decoding_stops_after_three_rounds() -> None:
    four_times = "%25252527"
    assert url_decode(four_times) == "%27"


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_normalise_never_raises(text: str) -> None:
    out = normalise(text, plus=True)
    assert out == out.lower() or not out.isascii()
    assert normalise(text, path=True) is not None


def test_numeric_features_have_a_fixed_width() -> None:
    for text, kind in (("", "query"), ("id=1' or '1'='1", "query"), ("/a/b.php", "path")):
        assert len(numeric_row(text, kind)) == N_NUMERIC
    grams, numeric = unit_parts(["a", "b<c"], ["query", "path"])
    assert grams.shape == (2, N_HASH)
    assert numeric.shape == (2, N_NUMERIC)
    assert unit_matrix(["x"], ["query"]).shape == (1, N_HASH + N_NUMERIC)


def test_numeric_features_see_attack_characters() -> None:
    benign = np.array(numeric_row("q=summer dresses&page=2", "query"))
    attack = np.array(numeric_row("q=1' union select password from users--", "query"))
    assert attack.sum() > benign.sum()


def test_payload_evidence_names_the_fragment() -> None:
    reasons = {e.category: e.reason for e in payload_evidence("id=1 union all select 1,2,3")}
    assert "union all select" in reasons["sqli"]
    ev = payload_evidence("file=../../../../etc/passwd")
    assert any(e.category == "path_traversal" and "../../" in e.reason and e.strong for e in ev)
    assert any(e.category == "xss" and e.strong for e in payload_evidence('q="><script>alert(1)</script>'))
    assert any(e.category == "cmd_injection" and e.strong for e in payload_evidence("ip=1.1.1.1;cat /etc/passwd"))
    assert any(e.category == "cmd_injection" for e in payload_evidence("${jndi:ldap://x.example/a}"))


def test_ordinary_text_has_no_strong_evidence() -> None:
    for text in ("q=union station", "q=select committee report", "/scripts/app.js", "q=don't stop",
                 "c=n;o=a", "q=rock 'n' roll", "page=2&sort=price"):
        assert not [e for e in payload_evidence(text) if e.strong], text


def test_reasons_are_printable_and_short() -> None:
    ev = payload_evidence("x=<script>\x1b[31m" + "a" * 500)
    assert ev
    assert all(e.reason.isprintable() and len(e.reason) <= 60 for e in ev)


def test_path_lists() -> None:
    kinds = {h.kind for h in path_hits("/wp-login.php")}
    assert kinds == {"probe"}
    assert {h.kind for h in path_hits("/.env")} == {"hard"}
    assert {h.kind for h in path_hits("/app/.git/config")} == {"hard"}
    assert "webshell" in {h.kind for h in path_hits("/uploads/c99.php")}
    assert any("backup" in h.reason for h in path_hits("/backup.zip"))
    assert path_hits("/blog/2015/05/hello-world.html") == []
    assert path_hits("/files/logstash/logstash-1.3.2-monolithic.jar") == []
    assert path_hits("/") == []


def test_agents() -> None:
    ev = agent_evidence("sqlmap/1.7.2#stable (https://sqlmap.org)")
    assert ev is not None and ev.strong and ev.category == "scanner"
    ev = agent_evidence("Mozilla/4.0 (compatible; HTTrack 3.0x; Windows 98)")
    assert ev is not None and not ev.strong and ev.category == "bad_bot"
    # one crawler list: a known crawler is never also a bad bot
    assert agent_evidence("Mozilla/5.0 (compatible; MJ12bot/v1.4.5; http://www.majestic12.co.uk/bot.php?+)") is None
    assert agent_evidence("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0") is None
    assert agent_evidence("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)") is None
    assert agent_evidence(None) is None


def test_site_context_is_bounded_and_learns_what_is_served() -> None:
    ctx = SiteContext(max_paths=100)
    for i in range(1000):
        ctx.observe(make_record("GET", f"/p{i}", status=200, size=100))
    assert len(ctx) <= 100
    ctx.observe(make_record("GET", "/wp-login.php", status=404, size=200))
    assert not ctx.serves("/wp-login.php")
    assert ctx.errors("/wp-login.php") == 1
    ctx.observe(make_record("GET", "/old.php", status=301, size=0))
    assert not ctx.serves("/old.php") and not ctx.serves_extension("php")  # a redirect proves nothing
    ctx.observe(make_record("GET", "/index.php", status=200, size=5000))
    assert ctx.serves("/index.php") and ctx.serves_extension("php")


def test_unusual_size() -> None:
    ctx = SiteContext()
    for size in (5000, 5100, 4900, 5050, 4950, 5000):
        ctx.observe(make_record("GET", "/search", status=200, size=size))
    assert not ctx.unusual_size("/search", 5020)
    assert ctx.unusual_size("/search", 250_000)
    assert not ctx.unusual_size("/unknown", 250_000)


def test_long_input_keeps_both_ends() -> None:
    text = "A" * 10_000 + "%27%20union%20select%201--"
    out = normalise(text, plus=True)
    assert len(out) <= 2100
    assert out.endswith("' union select 1--")
