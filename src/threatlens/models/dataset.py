"""Training and evaluation data: the labelled sets of ``../shared/data`` turned into what a log shows.

Two views of the same sources:

* :func:`training_units` yields *payload units*, the texts the payload model scores: a request's
  decoded query string, or its decoded path. Attack payloads are placed where an access log would
  show them (``name=<payload>`` in a query, or a path); benign units come from real logs, benign
  parameter values, hard negatives and a seeded generator of ordinary-looking URLs.
* :func:`load_labeled` reads one labelled file (any format of ``../shared/data`` or a
  ``label<TAB>access-log line`` file) into :class:`LabeledRecord` rows for ``threatlens evaluate``.

Every unit carries a ``group`` (source plus payload skeleton) so near-duplicates never straddle a
train/test split, and a ``source`` for per-source figures.
"""

from __future__ import annotations

import csv
import gzip
import json
import random
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit

from threatlens.errors import DataError
from threatlens.models.normalize import normalise
from threatlens.models.signatures import payload_evidence
from threatlens.models.units import PLAIN_PATH, path_text, query_text
from threatlens.parsers import LineParser, get_parser
from threatlens.parsers.record import LogRecord, RawLine

csv.field_size_limit(1 << 24)

#: Payload categories of the labelled sets, mapped to the fixed vocabulary.
_CATEGORY_WORDS = (
    ("sql", "sqli"),
    ("nosql", "sqli"),
    ("xss", "xss"),
    ("scripting", "xss"),
    ("traversal", "path_traversal"),
    ("lfi", "file_inclusion"),
    ("rfi", "file_inclusion"),
    ("cmd", "cmd_injection"),
    ("rce", "cmd_injection"),
    ("shell", "cmd_injection"),
    ("os-cmd", "cmd_injection"),
    ("crlf", "protocol_abuse"),
)

#: Parameter names a benign site uses (a payload is placed behind one of them).
PARAM_NAMES = (
    "q", "id", "page", "search", "query", "s", "name", "user", "file", "path", "url", "redirect", "lang", "cat",
    "category", "item", "product", "p", "type", "sort", "order", "view", "action", "ref", "token", "code",
    "email", "msg", "text", "title", "comment", "keyword", "filter", "date", "from", "to", "limit", "offset",
)
_BENIGN_LOG_DIRS = ("logs/elastic_apache_logs",)


class Unit(NamedTuple):
    """One payload-model example: ``kind`` is ``query`` or ``path``; ``text`` is normalised."""

    kind: str
    text: str
    label: int
    category: str
    source: str
    group: str
    weight: float = 1.0


class LabeledRecord(NamedTuple):
    """One labelled request for evaluation, as an access log would show it."""

    record: LogRecord
    label: int
    category: str
    source: str


def category_of(name: str) -> str:
    """Map a dataset's attack-type name or folder to the fixed vocabulary (``other`` if unknown)."""
    low = name.lower()
    for word, cat in _CATEGORY_WORDS:
        if word in low:
            return cat
    return "other"


def skeleton(text: str) -> str:
    """The shape of a payload (letters and digits folded) used to group near-duplicates."""
    return re.sub(r"[a-z]+", "a", re.sub(r"[0-9]+", "0", text))[:24]


def _group(source: str, text: str) -> str:
    return f"{source}:{skeleton(text)}"


def encode_value(value: str) -> str:
    """URL-encode a value the way a browser puts it in a query string."""
    return quote(value, safe="-_.~!*'(),/:@$")


# --- record construction --------------------------------------------------------------------------


def make_record(
    method: str = "GET",
    path: str = "/",
    query: str | None = None,
    *,
    status: int = 200,
    size: int = 1024,
    user_agent: str | None = "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/118.0",
    referer: str | None = None,
    ip: str = "192.0.2.1",
    protocol: str | None = "HTTP/1.1",
    file: str = "-",
    line: int = 0,
) -> LogRecord:
    """Build a :class:`LogRecord` for a request that a log line did not come from (labelled sets)."""
    target = path + (f"?{query}" if query is not None else "")
    raw = f'{ip} - - [-] "{method} {target} {protocol or ""}" {status} {size}'.encode("utf-8", "replace")
    return LogRecord(None, ip, None, method, path, query, protocol, status, size, referer, user_agent, None, None,
                     None, None, raw, file, line, 0)


def split_target(target: str) -> tuple[str, str | None]:
    """Split ``path?query`` (an absolute URL keeps only its path and query)."""
    if target.startswith(("http://", "https://")):
        parts = urlsplit(target)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    path, sep, query = target.partition("?")
    return (path or "/"), (query if sep else None)


# --- readers of each source -----------------------------------------------------------------------


def _lines(path: Path) -> Iterator[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            yield line.rstrip("\r\n")


def read_httpparams(path: Path) -> Iterator[tuple[str, int, str]]:
    """(payload, label, category) rows of HttpParamsDataset."""
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        for row in csv.DictReader(fh):
            label = 0 if row["label"] == "norm" else 1
            yield row["payload"], label, ("" if label == 0 else category_of(row["attack_type"]))


def read_kaggle(path: Path) -> Iterator[tuple[str, int, str]]:
    """(payload, label, category) rows of the Kaggle SQLi / XSS sets."""
    cat = "xss" if "xss" in path.name.lower() else "sqli"
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
        for row in csv.reader(fh):
            if len(row) < 2 or row[-1].strip() not in ("0", "1"):
                continue
            text = ",".join(row[:-1])
            label = int(row[-1])
            yield text, label, (cat if label else "")


def read_fuzzdb(root: Path) -> Iterator[tuple[str, int, str, str]]:
    """(payload, 1, category, file stem) for every fuzzdb attack list line."""
    for file in sorted(root.rglob("*.txt")):
        if file.name.lower().startswith("readme") or "all-attacks" in str(file):
            continue
        folder = file.relative_to(root).parts[0]
        cat = category_of(folder)
        if folder in ("xml", "xpath", "ldap", "server-side-include"):
            cat = "other"
        if folder == "lfi" and "log-locations" in file.name:
            cat = "file_inclusion"
        for line in _lines(file):
            if line and not line.startswith("#"):
                yield line, 1, cat, f"fuzzdb/{folder}"


def _yaml() -> object:
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise RuntimeError("reading YAML test sets needs PyYAML (pip install pyyaml)") from exc
    return yaml


def read_gotestwaf(root: Path) -> Iterator[tuple[str, int, str, str, tuple[str, ...]]]:
    """(payload, label, category, source, placeholders) of the gotestwaf test cases."""
    yaml = _yaml()
    for file in sorted(root.rglob("*.yml")):
        try:
            doc = yaml.safe_load(file.read_text(encoding="utf-8", errors="replace"))  # type: ignore[attr-defined]
        except Exception:
            continue
        if not isinstance(doc, dict):
            continue
        benign = "false-pos" in file.parts
        places = tuple(p if isinstance(p, str) else next(iter(p)) for p in doc.get("placeholder") or ())
        cat = "" if benign else category_of(str(doc.get("type", "")))
        for payload in doc.get("payload") or ():
            if isinstance(payload, str) and payload:
                yield payload, (0 if benign else 1), cat, f"gotestwaf/{file.parent.name}/{file.stem}", places


_CRS_ATTACK_RULES = ("930", "931", "932", "933", "934", "941", "942", "943", "944", "921")


class CrsRequest(NamedTuple):
    """One CRS regression test request: label 1 for an attack-family ``expect_ids`` test."""

    method: str
    uri: str
    data: str
    user_agent: str
    label: int
    category: str
    rule: str


def read_crs(root: Path) -> Iterator[CrsRequest]:
    """Requests of the CRS regression tests with a usable label.

    ``expect_ids`` tests of the attack rule families are attacks; ``no_expect_ids`` tests are hard
    negatives. Protocol-enforcement and response tests are skipped (headers an access log never shows).
    """
    yaml = _yaml()
    for file in sorted(root.rglob("*.yaml")):
        family = file.parent.name
        rule_family = family.split("-")[1] if "-" in family else ""
        if not family.startswith("REQUEST-"):
            continue
        try:
            doc = yaml.safe_load(file.read_text(encoding="utf-8", errors="replace"))  # type: ignore[attr-defined]
        except Exception:
            continue
        for test in (doc or {}).get("tests") or ():
            for stage in test.get("stages") or ():
                inp = stage.get("input") or {}
                out = (stage.get("output") or {}).get("log") or {}
                if "expect_ids" in out:
                    if rule_family not in _CRS_ATTACK_RULES:
                        continue
                    label = 1
                elif "no_expect_ids" in out:
                    label = 0
                else:
                    continue
                uri = str(inp.get("uri") or "/")
                data = inp.get("data") or ""
                if isinstance(data, list):
                    data = "".join(str(d) for d in data)
                headers = inp.get("headers") or {}
                ua = str(headers.get("User-Agent") or headers.get("user-agent") or "")
                cat = category_of(family) if label else ""
                if label and rule_family in ("930",):
                    cat = "path_traversal"
                elif label and rule_family in ("931",):
                    cat = "file_inclusion"
                elif label and rule_family in ("932", "933", "934", "944"):
                    cat = "cmd_injection"
                elif label and rule_family == "921":
                    cat = "protocol_abuse"
                yield CrsRequest(str(inp.get("method") or "GET"), uri, str(data), ua, label, cat,
                                 str(doc.get("rule_id", file.stem)))


def read_csic(path: Path) -> Iterator[tuple[str, str, str, str]]:
    """(method, url, body, user_agent) of each raw request in a CSIC 2010 file."""
    method = url = ua = ""
    body_next = False
    clen = 0
    for line in _lines(path):
        if body_next:
            yield method, url, (line if clen else ""), ua
            body_next = False
            method = ""
            continue
        if not method:
            parts = line.split(" ")
            if len(parts) >= 3 and parts[0].isalpha() and parts[0].isupper():
                method, url = parts[0], " ".join(parts[1:-1])
                ua, clen = "", 0
            continue
        if line.startswith("User-Agent:"):
            ua = line.split(":", 1)[1].strip()
        elif line.lower().startswith("content-length:"):
            clen = int(line.split(":", 1)[1].strip() or 0)
        elif line == "":
            if method == "POST":
                body_next = True
            else:
                yield method, url, "", ua
                method = ""


def read_secrepo(path: Path) -> Iterator[tuple[int, int, str, str, str]]:
    """(weak label, status, method, target, protocol) rows of a secrepo URL list."""
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        for row in csv.reader(fh):
            if len(row) < 5 or not row[0].isdigit():
                continue
            request = row[-1]
            label = row[-2]
            status = row[2]
            parts = request.split(" ")
            if len(parts) < 2 or not status.isdigit():
                continue
            yield int(label or 0), int(status), parts[0], parts[1], (parts[2] if len(parts) > 2 else "")


def parse_line(line: str, *, file: str = "-", lineno: int = 0) -> LogRecord | None:
    """Parse one combined access-log line with the project's own parser (``None`` if it does not parse)."""
    rec = _combined_parser().parse_raw(RawLine(file, lineno, 0, line.encode("utf-8", "surrogateescape")))
    return rec if isinstance(rec, LogRecord) else None


@lru_cache(maxsize=1)
def _combined_parser() -> LineParser:
    return get_parser("combined")


def read_access_log(path: Path) -> Iterator[LogRecord]:
    """Records of a plain access log (unparseable lines are skipped by the caller's count)."""
    for i, line in enumerate(_lines(path), 1):
        rec = parse_line(line, file=str(path), lineno=i)
        if rec is not None:
            yield rec


# --- synthetic benign traffic ---------------------------------------------------------------------

_WORDS = tuple(
    "home about contact blog news article articles product products shop cart checkout account login "  # noqa: SIM905
    "logout register profile settings help faq support docs documentation download downloads files images "
    "img css js static assets media video videos music photo photos gallery events calendar search "
    "results page tag tags category categories archive archives feed rss atom sitemap privacy terms "
    "careers team press api v1 v2 users orders items reviews comments forum topic thread post posts wiki "
    "report reports dashboard admin-help select selection script scripts union station drop dropdown "
    "delete update insert order table tables table-tennis select-committee scripting manuscript "
    "postscript javascript-guide union-square or and not cat dog echo ping bash shell sh id exec java "
    "python perl ruby go rust node alert confirm prompt window document location cookie cookies iframe "
    "frame object embed style font fonts icon icons logo banner summer winter spring autumn red blue "
    "green black white small large medium new old best top cheap free review how why what where when who "
    "the a of in to for with on at by from is are was be it this that"
    .split()
)
_EXTS = ("html", "htm", "php", "asp", "aspx", "jsp", "js", "css", "png", "jpg", "jpeg", "gif", "svg", "ico",
         "woff", "woff2", "ttf", "pdf", "txt", "xml", "json", "zip", "tar.gz", "tgz", "deb", "rpm", "jar",
         "mp4", "mp3", "webp", "md", "rst", "csv", "gz", "bz2", "iso", "exe", "dmg", "msi")


def _slug(rng: random.Random) -> str:
    n = rng.randint(1, 6)
    sep = rng.choice("-_-.")
    return sep.join(rng.choice(_WORDS) for _ in range(n))


def _benign_path(rng: random.Random) -> str:
    segs = [_slug(rng) for _ in range(rng.randint(0, 5))]
    r = rng.random()
    if r < 0.15:
        segs.append(str(rng.randint(1, 10**rng.randint(1, 8))))
    elif r < 0.25:
        segs.append(f"{rng.randint(2000, 2026)}/{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}")
    elif r < 0.3:
        segs.insert(0, f"~{rng.choice(_WORDS)}")
    if rng.random() < 0.6:
        name = _slug(rng)
        if rng.random() < 0.3:
            name += f"-{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}"
        segs.append(f"{name}.{rng.choice(_EXTS)}")
    elif rng.random() < 0.5:
        segs.append("")
    path = "/" + "/".join(segs)
    r = rng.random()
    if r < 0.1:
        path = path.replace("-", "%20").replace("_", "+")
    elif r < 0.15:
        path += rng.choice(("%E2%80%A6", "%C3%A9t%C3%A9", "%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8", "'s",
                            "(1)", "%20(copy)", "!", ",", "&more", ";jsessionid=" + f"{rng.getrandbits(64):x}"))
    return path


def _benign_value(rng: random.Random, texts: list[str]) -> str:
    r = rng.random()
    if r < 0.25 and texts:
        t = rng.choice(texts)
        words = t.split()
        if len(words) > 8:
            start = rng.randint(0, len(words) - 8)
            t = " ".join(words[start:start + rng.randint(1, 8)])
        return t[:120]
    if r < 0.35:
        return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 5)))
    if r < 0.45:  # apostrophes and quotes in ordinary text: names, possessives, contractions, phrases
        w1, w2 = rng.choice(_WORDS), rng.choice(_WORDS)
        form = rng.choice(("{a}'s {b}", "o'{a}", "{a}n't {b}", "{a} 'n' {b}", "l'{a}", "d'{a}", "{a}'{b}",
                           '"{a} {b}"', "{a}'s", "{b} {a}'", "'{a}'", "{a} {b}'s {a}", "{a}' {b}"))
        text = form.format(a=w1, b=w2)
        return text.title() if rng.random() < 0.3 else text
    if r < 0.5:
        return str(rng.randint(0, 10**rng.randint(1, 12)))
    if r < 0.55:
        return f"{rng.choice(_WORDS)}.{rng.choice(_WORDS)}{rng.randint(1, 99)}@example.{rng.choice(('com', 'org'))}"
    if r < 0.6:
        return f"{rng.getrandbits(128):032x}"
    if r < 0.64:
        import base64

        return base64.b64encode(rng.randbytes(rng.randint(6, 40))).decode()
    if r < 0.7:
        return f"https://www.{rng.choice(_WORDS)}.com{_benign_path(rng)}"
    if r < 0.73:
        return f"{rng.randint(2000, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if r < 0.76:
        return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    if r < 0.8:
        return rng.choice(("don't stop", "rock 'n' roll", "o'reilly", "5' 10\"", "\"exact phrase\"", "a & b",
                           "1+1=2", "c++ tutorial", "c# or java", "50% off", "(555) 123-4567", "tom & jerry",
                           "union select theatre", "drop-down menu", "script writing", "select * from pets",
                           "--verbose", "x > y", "a < b", "<3", ":-)", "100$", "#hashtag", "@user", "what? why!",
                           "javascript tutorial", "alert when done", "cat /usr/bin", "echo chamber",
                           "ping pong", "sleep(8 hours)", "table; chair; lamp", "rock|paper", "{json}"))
    if r < 0.85:
        return json.dumps({rng.choice(_WORDS): rng.choice(_WORDS) for _ in range(rng.randint(1, 3))})
    if r < 0.9:
        return f"jQuery{rng.randint(10**15, 10**16)}_{rng.randint(10**12, 10**13)}"
    return rng.choice(_WORDS) + rng.choice(("", "s", "-2", "_old", ".v2", "(2)", "[]", "[0]"))


def _benign_query(rng: random.Random, texts: list[str]) -> str:
    r = rng.random()
    if r < 0.06:
        return rng.choice(("C=N;O=A", "C=M;O=D", "C=S;O=A", "C=D;O=D", "C=N;O=D", "M=A", "D=A", "N=D", "S=A"))
    if r < 0.1:
        return rng.choice(("v=3.2.1", "ver=5.4", f"{rng.randint(10**9, 10**10)}", "ts=" + str(rng.randint(1, 10**10))))
    parts = []
    for _ in range(rng.randint(1, 5)):
        name = rng.choice((*PARAM_NAMES, "utm_source", "utm_medium", "utm_campaign", "fbclid", "gclid", "_",
                                         "callback", "format", "sessionid", "sid", "hl", "ie", "oe"))
        if rng.random() < 0.1:
            name += "[]"
        parts.append(f"{name}={encode_value(_benign_value(rng, texts))}")
    q = "&".join(parts)
    if rng.random() < 0.3:
        q = q.replace("%20", "+")
    return q


# --- units ----------------------------------------------------------------------------------------


@dataclass
class UnitSet:
    """The payload-model examples with their labels, groups and sources."""

    units: list[Unit] = field(default_factory=list)
    #: Elastic-log lines held out (by client IP) for the real-traffic false-positive figure.
    heldout_log_records: list[LogRecord] = field(default_factory=list)

    def add(self, kind: str, text: str, label: int, category: str, source: str, weight: float = 1.0,
            key: str | None = None) -> None:
        """Add one unit (empty texts, and attack paths of plain characters, are skipped).

        ``key`` is the bare payload a wrapped unit was made from: near-duplicates are grouped by it,
        not by the random parameters around it.
        """
        if text and not (label and kind == "path" and PLAIN_PATH.fullmatch(text)):
            group = _group(source, normalise(key, plus=True).strip() if key is not None else text)
            self.units.append(Unit(kind, text, label, category, source, group, weight))


def _attack_query(rng: random.Random, payload: str) -> str:
    """A raw query string carrying ``payload`` behind a plausible parameter name.

    Benign values are wrapped the same way, so the surrounding parameters tell the model nothing.
    """
    name = rng.choice(PARAM_NAMES)
    q = f"{name}={encode_value(payload)}"
    if rng.random() < 0.3:
        q = f"{rng.choice(PARAM_NAMES)}={rng.randint(1, 999)}&{q}"
    if rng.random() < 0.2:
        q += f"&{rng.choice(PARAM_NAMES)}={rng.choice(_WORDS)}"
    return q


_PAYLOADISH = re.compile(r"[<>'\"`;|$(){}\\]|\.\./|://|%00")


def _ip_in_holdout(ip: str, seed: int) -> bool:
    return zlib.crc32(f"{seed}:{ip}".encode()) % 2 == 0


def _optional(reader: Callable[[Path], Iterable[Any]], path: Path) -> Iterable[Any]:
    """``reader(path)``, or nothing when the source is absent (a partial data folder still trains)."""
    return reader(path) if path.exists() else ()


def training_units(data_dir: Path, seed: int = 0, *, synthetic: int = 60000) -> UnitSet:
    """Build the payload-model examples from ``data_dir`` (``../shared/data``), reproducibly for ``seed``."""
    rng = random.Random(seed)
    us = UnitSet()
    lab = data_dir / "labeled"
    benign_texts: list[str] = []

    # HttpParams: CSIC-derived benign values and sqlmap/xssya/fuzzdb attacks.
    for text, label, cat in _optional(read_httpparams, lab / "httpparams/payload_train.csv"):
        if label:
            us.add("query", query_text(_attack_query(rng, text)), 1, cat, "httpparams", key=text)
        else:
            benign_texts.append(text)
            us.add("query", query_text(_attack_query(rng, text)), 0, "", "httpparams", key=text)

    # Kaggle SQLi / XSS.
    for file in sorted((lab / "kaggle_sqli_xss").rglob("*.csv")):
        src = "kaggle_xss" if "xss" in file.name.lower() else "kaggle_sqli"
        for text, label, cat in read_kaggle(file):
            text = text.strip()
            if not text:
                continue
            if label:
                us.add("query", query_text(_attack_query(rng, text)), 1, cat, src, key=text)
            else:
                benign_texts.append(text)
                # hard negatives (SQL-like prose, HTML snippets): weighed up
                us.add("query", query_text(_attack_query(rng, text[:400])), 0, "", src, 3.0, key=text)
                if src == "kaggle_xss":
                    for href in re.findall(r'href="([^"]+)"', text)[:3]:
                        p, q = split_target(href)
                        if href.startswith("/") and not href.startswith("//"):
                            us.add("path", path_text(p), 0, "", "kaggle_xss_href")
                            if q:
                                us.add("query", query_text(q), 0, "", "kaggle_xss_href")

    # fuzzdb attack lists: in a query, and traversal / inclusion lists also as a path.
    for text, _, cat, src in _optional(read_fuzzdb, lab / "fuzzdb_payloads/attack"):
        if "xxpathxx" in text.lower():  # RFI templates: put a remote script where the placeholder is
            text = re.sub("(?i)xxpathxx", f"http://{rng.choice(_WORDS)}.example/{rng.choice(_WORDS)}.txt?", text)
        probe = query_text(text)
        if not (_PAYLOADISH.search(probe) or payload_evidence(probe)):
            continue  # bare command names, prose, plain file names: not a payload on their own
        us.add("query", query_text(_attack_query(rng, text)), 1, cat, src, key=text)
        if cat in ("path_traversal", "file_inclusion") and not text.startswith(("http", "\\\\")):
            us.add("path", path_text("/" + encode_value(text.lstrip("/"))), 1, cat, src, key=text)

    # gotestwaf: attacks by placeholder; false-pos are hard negatives.
    for text, label, cat, _src, places in _optional(read_gotestwaf, lab / "gotestwaf_testcases"):
        if label:
            us.add("query", query_text(_attack_query(rng, text)), 1, cat, "gotestwaf", key=text)
            if "URLPath" in places:
                us.add("path", path_text("/" + encode_value(text)), 1, cat, "gotestwaf", key=text)
        else:
            for _ in range(3):
                us.add("query", query_text(_attack_query(rng, text)), 0, "", "gotestwaf_falsepos", 3.0, key=text)

    # OWASP CRS regression tests.
    for req in _optional(read_crs, lab / "owasp_crs_regression/regression_tests"):
        path, query = split_target(req.uri)
        weight = 1.0 if req.label else 2.0
        src = "crs" if req.label else "crs_no_expect"
        if req.label:
            # the attack may be in the query, the body or the path: keep what carries it
            if query and (payload_evidence(query_text(query)) or _PAYLOADISH.search(query)):
                us.add("query", query_text(query), 1, req.category, src)
            data = query_text(req.data[:2000]) if req.data and "=" in req.data else ""
            if data and (payload_evidence(data) or _PAYLOADISH.search(data)):
                us.add("query", data, 1, req.category, src)
            if _PAYLOADISH.search(path) or "%" in path:
                us.add("path", path_text(path), 1, req.category, src)
        else:
            # "this rule must not fire" is not "benign for every rule": drop the ones with strong evidence
            for kind, text in (("path", path_text(path)), ("query", query_text(query)),
                               ("query", query_text(req.data[:2000]) if "=" in req.data else "")):
                if text and not any(e.strong for e in payload_evidence(text)):
                    us.add(kind, text, 0, "", src, weight)

    # fwaf: malicious URLs; keep the part that carries a payload (payload-less probes are the
    # signature lists' and site context's job, not the payload model's).
    for line in _optional(_lines, lab / "fwaf/badqueries.txt"):
        if not line:
            continue
        path, query = split_target(line)
        if query and _PAYLOADISH.search(query_text(query)):
            us.add("query", query_text(query), 1, "other", "fwaf")
        pt = path_text(path)
        if _PAYLOADISH.search(pt):
            us.add("path", pt, 1, "other", "fwaf")

    # CSIC 2010: normal traffic (paths, queries, form bodies) and anomalous requests with payloads.
    seen: set[tuple[str, str]] = set()
    for _method, url, body, _ in _optional(read_csic, lab / "csic2010/normalTrafficTraining.txt.gz"):
        path, query = split_target(url)
        for kind, text in (("path", path_text(path)), ("query", query_text(query)), ("query", query_text(body))):
            if text and (kind, text) not in seen:
                seen.add((kind, text))
                us.add(kind, text, 0, "", "csic_normal")
    for _method, url, body, _ in _optional(read_csic, lab / "csic2010/anomalousTraffic_part1.txt.gz"):
        path, query = split_target(url)
        for kind, text in (("path", path_text(path)), ("query", query_text(query)), ("query", query_text(body))):
            if text and (kind, text) not in seen and payload_evidence(text):
                seen.add((kind, text))
                us.add(kind, text, 1, "other", "csic_anomalous")

    # Real benign traffic: secrepo URL lists (weak labels: keep label-0 rows with no strong evidence).
    seen.clear()
    for file in sorted((data_dir / "logs/secrepo_url_lists").glob("*.csv")):
        if file.name.startswith("feb"):
            continue  # held out for evaluation
        for label, status, _method, target, _ in read_secrepo(file):
            if label or status >= 400:
                continue
            path, query = split_target(target)
            for kind, text in (("path", path_text(path)), ("query", query_text(query))):
                if text and (kind, text) not in seen and not any(e.strong for e in payload_evidence(text)):
                    seen.add((kind, text))
                    us.add(kind, text, 0, "", "secrepo", 2.0)

    # The elastic log: half the client IPs train, the other half is held out for the FP figure.
    for logdir in _BENIGN_LOG_DIRS:
        log = data_dir / logdir / "apache_logs"
        if not log.exists():
            continue
        seen.clear()
        for rec in read_access_log(log):
            if _ip_in_holdout(rec.ip or "", seed):
                us.heldout_log_records.append(rec)
                continue
            for kind, text in (("path", path_text(rec.path)), ("query", query_text(rec.query))):
                if text and (kind, text) not in seen:
                    seen.add((kind, text))
                    us.add(kind, text, 0, "", "elastic", 3.0)

    # Seeded synthetic benign URLs: diverse paths and parameter values.
    for _ in range(synthetic):
        us.add("path", path_text(_benign_path(rng)), 0, "", "synthetic")
        us.add("query", query_text(_benign_query(rng, benign_texts)), 0, "", "synthetic")
    return us


# --- labelled files for evaluation ----------------------------------------------------------------


def _label_value(text: str) -> int | None:
    low = text.strip().lower()
    if low in ("1", "attack", "malicious", "bad", "anom", "anomalous", "true", "yes", "a"):
        return 1
    if low in ("0", "benign", "normal", "good", "norm", "false", "no", "b"):
        return 0
    return None


def _payload_records(rows: Iterable[tuple[str, int, str]], source: str, file: str) -> Iterator[LabeledRecord]:
    rng = random.Random(0)
    for i, (payload, label, cat) in enumerate(rows, 1):
        query = _attack_query(rng, payload)
        yield LabeledRecord(make_record("GET", "/index.php", query, file=file, line=i), label, cat, source)


def load_labeled(path: str | Path) -> list[LabeledRecord]:
    """Read one labelled file or folder of ``../shared/data`` or a ``label<TAB>line`` access log.

    Recognised: HttpParams and Kaggle CSVs, secrepo URL lists, fwaf ``badqueries.txt`` (all attacks),
    CSIC 2010 (``normal``/``anomalous`` by file name), gotestwaf and CRS YAML folders or files,
    fuzzdb ``.txt`` lists (attacks), and ``label<TAB>log line`` files (label 0/1 or benign/attack).
    Raises :class:`~threatlens.errors.DataError` naming the file when the format is not recognised.
    """
    p = Path(path)
    name = p.name.lower()
    file = str(p)
    out: list[LabeledRecord] = []
    if p.is_dir():
        if any(p.rglob("*.yaml")):
            return _load_crs(p)
        if any(p.rglob("*.yml")):
            return _load_gotestwaf(p)
        if any(p.rglob("*.txt")):
            rows = [(t, 1, c) for t, _, c, _ in read_fuzzdb(p)]
            return list(_payload_records(rows, "fuzzdb", file))
        raise DataError(f"{p}: no labelled files recognised in this folder")
    if not p.exists():
        raise DataError(f"{p}: no such file")
    if name.endswith((".yml",)):
        return _load_gotestwaf(p)
    if name.endswith(".yaml"):
        return _load_crs(p)
    if "csic" in str(p).lower() or name.endswith(".txt.gz"):
        label = 0 if "normal" in name else 1
        for i, (method, url, body, ua) in enumerate(read_csic(p), 1):
            path_, query = split_target(url)
            if method == "POST" and body:
                query = body if query is None else f"{query}&{body}"
            out.append(LabeledRecord(make_record(method, path_, query, user_agent=ua, file=file, line=i), label,
                                     "other" if label else "", "csic"))
        return out
    head = p.read_text(encoding="utf-8-sig", errors="replace")[:4096]
    first = head.splitlines()[0] if head else ""
    if "\t" in first and _label_value(first.split("\t", 1)[0]) is not None:
        for i, line in enumerate(_lines(p), 1):
            lab, _, rest = line.partition("\t")
            value = _label_value(lab)
            rec = parse_line(rest, file=file, lineno=i)
            if value is None or rec is None:
                raise DataError(f"{p}:{i}: expected 'label<TAB>access-log line'")
            out.append(LabeledRecord(rec, value, "", "labeled_log"))
        return out
    if first.startswith('"payload"') or first.startswith("payload,"):
        return list(_payload_records(read_httpparams(p), "httpparams", file))
    if first.lower().startswith("query,label"):
        return list(_payload_records(read_kaggle(p), "kaggle", file))
    if name.endswith(".csv") and re.match(r"^\d+,\d+,", first):
        for i, (label, status, method, target, proto) in enumerate(read_secrepo(p), 1):
            path_, query = split_target(target)
            rec = make_record(method, path_, query, status=status, protocol=proto or None, file=file, line=i)
            out.append(LabeledRecord(rec, label, "", "secrepo"))
        return out
    if name == "badqueries.txt":
        for i, line in enumerate(_lines(p), 1):
            if line:
                path_, query = split_target(line)
                out.append(LabeledRecord(make_record("GET", path_, query, status=404, file=file, line=i), 1,
                                         "other", "fwaf"))
        return out
    if name.endswith(".txt"):
        rows = [(line, 1, category_of(p.parent.name)) for line in _lines(p) if line and not line.startswith("#")]
        return list(_payload_records(rows, "payload_list", file))
    raise DataError(f"{p}: unrecognised labelled format (see threatlens evaluate --help)")


def _load_gotestwaf(p: Path) -> list[LabeledRecord]:
    rng = random.Random(0)
    out: list[LabeledRecord] = []
    files = [p] if p.is_file() else sorted(p.rglob("*.yml"))
    for f in files:
        for i, (text, label, cat, src, places) in enumerate(read_gotestwaf(f if f.is_dir() else f.parent), 1):
            if f.is_file() and not src.endswith(f.stem):
                continue
            if "URLPath" in places and "URLParam" not in places:
                rec = make_record("GET", "/" + encode_value(text), None, file=str(f), line=i)
            else:
                query = _attack_query(rng, text)
                rec = make_record("GET", "/index.php", query, file=str(f), line=i)
            out.append(LabeledRecord(rec, label, cat, src))
    return out


def _load_crs(p: Path) -> list[LabeledRecord]:
    out: list[LabeledRecord] = []
    root = p if p.is_dir() else p.parent.parent
    only = None if p.is_dir() else p.stem
    for i, req in enumerate(read_crs(root), 1):
        if only is not None and req.rule != only and not req.rule.startswith(only):
            continue
        path, query = split_target(req.uri)
        if req.data and "=" in req.data:
            # a body is never in a log: evaluate the payload as if it had been sent in the query
            query = req.data if query is None else f"{query}&{req.data}"
        method = "GET" if req.method == "POST" else req.method
        rec = make_record(method, path, query, user_agent=req.user_agent or None, file=str(p), line=i)
        out.append(LabeledRecord(rec, req.label, req.category, f"crs/{req.rule}"))
    return out


# --- shipped signature lists ----------------------------------------------------------------------

_NOTICE = """Name lists derived from third-party data (see each file's header).

crowdsec_sec_lists: https://github.com/crowdsecurity/sec-lists (MIT licence, Copyright (c) CrowdSec);
  bad_user_agents from nginx-ultimate-bad-bot-blocker (MIT, Copyright (c) 2017 Mitchell Krog).
owasp_crs_data: https://github.com/coreruleset/coreruleset (Apache License 2.0, OWASP CRS project).
"""
#: Everyday files that the restricted-files list names but whose absence is no sign of a probe.
_MUNDANE = frozenset({"/package.json", "/package-lock.json", "/yarn.lock", "/composer.json", "/composer.lock",
                      "/gruntfile.js", "/webpack.config.js", "/bower.json", "bower.json", ".editorconfig",
                      ".prettierrc", "/packages.json", "setup.py", "pyproject.toml", "go.mod", "go.sum",
                      "cargo.toml", "dockerfile", ".gitignore", ".gitkeep", ".gitattributes", ".eslintignore",
                      ".dockerignore", ".hgignore", ".svnignore", ".aiignore", ".cursorignore", "coverage.xml",
                      "config.json", "config.xml", "config.yml", "config.yaml", "config.txt", ".coverage",
                      "pytest.ini", "compose.yml", "compose.yaml", ".bowerrc", ".jshintrc", ".eslintrc"})


def _entries(path: Path) -> list[str]:
    return [ln.strip() for ln in path.read_text(encoding="utf-8", errors="replace").splitlines()
            if ln.strip() and not ln.lstrip().startswith("#")]


def build_signature_lists(data_dir: Path, out_dir: Path) -> dict[str, int]:
    """(Re)write the shipped name lists in ``out_dir`` from ``data_dir/signatures``; return their sizes."""
    sig = data_dir / "signatures"
    cs, crs = sig / "crowdsec_sec_lists", sig / "owasp_crs_data"
    out_dir.mkdir(parents=True, exist_ok=True)
    lists: dict[str, tuple[str, list[str]]] = {}
    lists["agents_scanner.txt"] = ("OWASP CRS scanners-user-agents.data (Apache-2.0)",
                                   _entries(crs / "scanners-user-agents.data"))
    lists["agents_bad.txt"] = ("CrowdSec sec-lists bad_user_agents.txt (MIT, Mitchell Krog)",
                               [e for e in _entries(cs / "bad_user_agents.txt") if len(e) >= 4])
    lists["webshells.txt"] = ("CrowdSec sec-lists backdoors.txt (MIT)", _entries(cs / "backdoors.txt"))
    sensitive = [e for e in _entries(cs / "sensitive_data.txt") + _entries(crs / "restricted-files.data")
                 if e.lower() not in _MUNDANE and not e.lower().startswith(("proc/", "sys/"))]
    lists["sensitive_files.txt"] = ("CrowdSec sec-lists sensitive_data.txt (MIT) and OWASP CRS "
                                    "restricted-files.data (Apache-2.0)", sorted(set(sensitive)))
    probes: list[str] = []
    for e in _entries(cs / "admin_interfaces.txt"):
        probes.append(f"contains\t{e}")
    for line in (cs / "technology_probing.json").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("{"):
            item = json.loads(line)
            if item.get("type") in ("equals", "contains") and str(item.get("pattern", "")).startswith("/"):
                probes.append(f"{item['type']}\t{item['pattern']}")
    for line in (cs / "trendy_cves_uris.json").read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("{"):
            uri = json.loads(line).get("uri", "")
            if uri.startswith("/") and "%" not in uri and len(uri) > 4:
                probes.append(f"equals\t{uri}")
    lists["probe_paths.txt"] = ("CrowdSec sec-lists admin_interfaces.txt, technology_probing.json, "
                                "trendy_cves_uris.json (MIT)", sorted(set(probes)))
    sizes = {}
    for name, (origin, entries) in lists.items():
        header = f"# Derived from {origin}; see NOTICE. Regenerated by `threatlens train`.\n"
        (out_dir / name).write_text(header + "\n".join(entries) + "\n", encoding="utf-8")
        sizes[name] = len(entries)
    (out_dir / "NOTICE").write_text(_NOTICE, encoding="utf-8")
    return sizes
