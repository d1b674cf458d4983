"""Evidence that explains a score: attack fragments, probe paths and tool user agents.

Two kinds of knowledge live here:

* regular expressions over *normalised* text (see :mod:`threatlens.models.normalize`) that pull out
  the fragment a human needs to see (``union select``, ``../../etc/passwd``, ``<script``) and give
  its category;
* name lists shipped in ``signature_data/`` (derived from the CrowdSec sec-lists, MIT, and the OWASP
  Core Rule Set data files, Apache-2.0; see ``signature_data/NOTICE``): web-shell file names,
  sensitive files, software-specific probe paths, scanner and bad-bot user agents.

Lookups are set and dict based (per path segment, per extension), never a scan over every pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from threatlens.models.prose import without_prose_calls


class Evidence(NamedTuple):
    """One piece of evidence: its category, a short human reason and how strong it is."""

    category: str
    reason: str
    strong: bool


#: Payload patterns over normalised text: (category, strong, regex). ``strong`` ones are unambiguous
#: enough to raise a score on their own; the others only explain a score the model gave.
_PAYLOAD_PATTERNS: tuple[tuple[str, bool, str], ...] = (
    ("sqli", True, r"\bunion\b[\s/*()+]*(?:all|distinct)?[\s/*()+]*select\b"),
    ("sqli", True, r"\b(?:sleep|pg_sleep)\s*\(\s*\d+(?:\.\d+)?\s*\)|\bbenchmark\s*\(\s*\d+\s*,|"
     r"\b(?:load_file|extractvalue|updatexml|dbms_pipe\.receive_message)\s*\(|\bwaitfor\s+delay\b|\binformation_schema\b|\bxp_cmdshell\b|\bsysobjects\b|\butl_inaddr\b"),
    # a quote (or bracket) closing a string, then an SQL statement: ' DELETE FROM, '; INSERT INTO
    ("sqli", True, r"['\"`)](?:\s*;\s*|\s+)(?:delete\s+from|insert\s+into|update\s+[\w.`\"\[\]]{1,40}\s+set\b|"
     r"drop\s+(?:table|database|view)|truncate\s+table|alter\s+table|create\s+(?:table|user)|"
     r"exec(?:ute)?\s+(?:xp_|sp_|master\.))"),
    # tautologies: ' or 'a'='a, " or 1=1, 1 or 1=1
    ("sqli", True, r"['\"`]\s*(?:or|xor|\|\|)\s*(['\"`]?)([\w.]{1,20})\1\s*(?:=|like)\s*\1\2(?![\w.])"),
    ("sqli", True, r"\b(?:or|xor)\s+(\d{1,10})\s*=\s*\1(?!\w)"),
    # stacked queries: ; DROP TABLE, ; SELECT ... FROM, ; EXEC, ; SHUTDOWN
    ("sqli", True, r";\s*(?:drop\s+(?:table|database)|delete\s+from|insert\s+into|select\b.{1,80}?\bfrom\b|"
     r"exec(?:ute)?\s+\w|shutdown\b|declare\s+@|waitfor\s+delay)"),
    ("sqli", False, r"['\"`)]\s*(?:\|\||&&|\b(?:or|and|xor|having|order\s+by|group\s+by)\b)\s*[(\s'\"]*[\w'\"@]+"
     r"[\s'\")]*(?:=|<|>|\blike\b|\bis\b|\bbetween\b)"),
    ("sqli", False, r"\b(?:or|and)\b\s+\(?\d+\s*(?:=|<|>)\s*\(?\d+"),
    ("sqli", False, r"['\")]\s*;?\s*(?:--|#|/\*)"),
    ("sqli", False, r";\s*(?:drop|insert|update|delete|select|exec|execute|shutdown|declare|create)\b"),
    ("sqli", False, r"\bselect\b.{1,80}?\bfrom\b|\binsert\s+into\b|\bdrop\s+table\b|\bconcat(?:_ws)?\s*\(|"
     r"\bchar\s*\(\s*\d|\b0x[0-9a-f]{6,}\b|@@version|\bcast\s*\(|\bconvert\s*\("),
    ("sqli", False, r"\[\$(?:ne|gt|lt|regex|where|exists|nin)\]|\$where\b"),
    ("xss", True, r"<\s*/?\s*script\b|\bjavascript\s*:|\bvbscript\s*:|<[^>]*\bon[a-z]{3,20}\s*=|"
     r"\bon(?:error|load|mouseover|focus|click|toggle|begin|animationstart)\s*="),
    ("xss", False, r"<\s*(?:img|svg|iframe|frame|body|object|embed|video|audio|details|input|style|meta|link|"
     r"base|form|math|marquee|isindex|xss|a)\b|\b(?:alert|prompt|confirm)\s*[(`]|document\s*\.\s*"
     r"(?:cookie|location|write|domain)|\bexpression\s*\(|\bsrcdoc\s*=|string\.fromcharcode"),
    ("path_traversal", True, r"(?:\.{2,}/+){2,}[^\s&?]{0,40}|(?:\.\./)+(?:etc|windows|winnt|boot\.ini|proc|"
     r"usr|var|bin|root|home)\b[^\s&?]{0,30}"),
    ("path_traversal", True, r"/\.\.;/|/\.\.(?:/|$)"),  # dot segments a browser would have resolved
    ("path_traversal", False, r"\.\./"),
    ("sensitive_file", True, r"/etc/(?:passwd|shadow|group|hosts|issue|master\.passwd)\b|/proc/self/"
     r"(?:environ|cmdline|fd)|\bboot\.ini\b|\bwin\.ini\b|\bsystem32\b|\bweb-inf/web\.xml"),
    ("file_inclusion", True, r"\b(?:php|file|zip|data|expect|phar|glob|gopher|dict|jar|compress\.zlib)://"
     r"[^\s&]{0,40}"),
    ("file_inclusion", False, r"=\s*(?:https?|ftp)://[^\s&]+\?{1,2}(?:&|$)|=\s*(?:https?|ftp)://[^\s&]+"
     r"\.(?:txt|php|jpg|gif)\?"),
    ("cmd_injection", True, r"\$\{\s*(?:jndi|env|sys|lower|upper|date|ctx|main|java|::-)[^}]{0,40}\}?|"
     r"\(\s*\)\s*\{\s*:?\s*;?\s*\}\s*;|\$\{ifs\}|/bin/(?:ba|z|k|c|tc)?sh\b|\bcmd(?:\.exe)?\s*/c\b|"
     r"\bpowershell\b.{0,20}-(?:enc|e|c)\b"),
    ("cmd_injection", True, r"(?:[;|`\n&]|\$\(|\|\|)\s*(?:cat|ls|id|uname|whoami|wget|curl|nc|ncat|netcat|bash|"
     r"sh|ping|nslookup|echo|rm|chmod|python3?|perl|php|ifconfig|sleep|tftp|telnet|busybox)\b[^&]{0,30}"),
    ("cmd_injection", True, r"\b(?:call_user_func(?:_array)?|invokefunction|create_function|shell_exec|"
     r"proc_open|passthru|pcntl_exec)\b|\bphpinfo\s*\(|\b(?:eval|assert|system)\s*\(\s*\$_(?:get|post|request)"),
    ("cmd_injection", False, r"\$\([^)]{1,60}\)|`[^`]{1,60}`|\b(?:system|exec|passthru|shell_exec|popen|"
     r"proc_open|eval|assert|base64_decode)\s*\("),
    ("other", False, r"\{\{.{1,60}\}\}|\{%.{1,60}%\}|<%=?.{1,60}%>|<!--\s*#\s*(?:exec|include|echo)\b|"
     r"<!entity\b|<!doctype\b[^>]*\[|\$\{[^}]{1,60}\}"),
    ("protocol_abuse", True, r"[\r\n]\s*(?:set-cookie|location|content-(?:type|length)|http/1)"),
)
_COMPILED = tuple((cat, strong, re.compile(rx, re.DOTALL)) for cat, strong, rx in _PAYLOAD_PATTERNS)
#: Characters without which none of the payload patterns can match (the cheap benign fast path).
_TRIGGER = re.compile(r"[<>'\"`;|$(){}\[\]\\\r\n#@]|\.\.|://|/etc/|/proc/|/bin/|\b(?:union|select|or|and|"
                      r"sleep|benchmark|waitfor|boot\.ini|win\.ini|system32|web-inf|cmd|powershell|"
                      r"call_user_func\w*|invokefunction|phpinfo|"
                      r"information_schema|xp_cmdshell|insert|drop|concat|char|0x|alert|prompt|confirm|"
                      r"document|on[a-z]+|javascript|vbscript|expression|cast|convert)\b")
#: Longest reason text; the fragment is cut there.
REASON_LEN = 60


def _clean(fragment: str) -> str:
    """Make a matched fragment printable and short (control characters are shown escaped)."""
    fragment = " ".join(fragment.split())
    out = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in fragment)
    return out[:REASON_LEN]


def payload_evidence(text: str, *, plus: bool = False) -> list[Evidence]:
    """Every payload pattern that matches normalised ``text``, one evidence per category at most.

    A call-looking word inside prose is no fragment (:mod:`threatlens.models.prose`); ``plus``: a ``+``
    between words stands for a space (path text).
    """
    if not text or not _TRIGGER.search(text):
        return []
    text = without_prose_calls(text, plus=plus)
    found: list[Evidence] = []
    seen: set[str] = set()
    for cat, strong, rx in _COMPILED:
        if cat in seen:
            continue
        m = rx.search(text)
        if m:
            seen.add(cat)
            found.append(Evidence(cat, _clean(m.group(0)), strong))
    return found


# --- name lists -----------------------------------------------------------------------------------

_DATA_PACKAGE = "threatlens.models"
_DATA_DIR = "signature_data"
#: Sensitive names so dangerous that a request for one is flagged even when the site answers it.
_HARD_SENSITIVE = frozenset(
    {".env", ".git", ".htpasswd", ".htaccess", ".ssh", ".aws", ".svn", ".hg", ".bash_history", ".git-credentials",
     "wp-config.php", "id_rsa", "id_dsa", ".netrc", ".pgpass", ".my.cnf", ".mysql_history", ".s3cfg", "shadow",
     "passwd", ".docker", ".kube", "web.config", ".ds_store"}
)
_ARCHIVE_EXT = (".zip", ".tar", ".tar.gz", ".tgz", ".gz", ".rar", ".7z", ".bz2", ".sql", ".bak", ".old", ".swp",
                ".save", ".orig", ".backup", ".sql.gz", ".sql.zip", ".tar.bz2")
_BACKUP_STEM = re.compile(r"^(?:backup|backups|bak|db|database|dump|site|www|wwwroot|web|html|public_html|"
                          r"htdocs|data|sql|mysql|old|new|test|temp|tmp|archive|home|root|admin|\d{1,8}|"
                          r"[a-z0-9-]+\.(?:com|net|org|de|ru|cn|io))$")


#: Path segments of widespread software that scanners and spam bots look for (our own list).
_EXTRA_PROBES = {
    seg: f"/{seg}"
    for seg in ("wp-login", "wp-admin", "xmlrpc", "wp-includes", "wp-content", "wordpress", "administrator",
                "phpmyadmin", "pma", "myadmin", "phpmyadmin2", "mysqladmin", "sqladmin", "adminer", "phpinfo",
                "fckeditor", "ckfinder", "kcfinder", "elfinder", "filemanager", "webdav", "cgi-bin", "vendor",
                "joomla", "drupal", "magento", "typo3", "umbraco", "solr", "jmx-console", "web-console",
                "invoker", "actuator", "console", "manager", "setup.php", "install.php", "shell", "boaform",
                "hnap1", "owa", "ecp", "autodiscover", "remote", "telescope", "_ignition", "horde", "roundcube",
                "webmail", "cpanel", "whm", "plesk", "admin.php", "admin", "login.action", "struts")
}
_EXTRA_PROBE_PAIRS = {"/user/register/": "/user/register (Drupal)", "/node/add/": "/node/add (Drupal)",
                      "/index.php/admin/": "/index.php/admin", "/admin/config.php/": "/admin/config.php"}


def _read_list(name: str) -> list[str]:
    text = resources.files(_DATA_PACKAGE).joinpath(_DATA_DIR).joinpath(name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@dataclass
class _PathIndex:
    """Per-segment indexes of the probe, sensitive and web-shell name lists."""

    webshell: frozenset[str] = frozenset()
    sensitive_names: frozenset[str] = frozenset()
    sensitive_pairs: frozenset[str] = frozenset()
    sensitive_suffixes: tuple[str, ...] = ()
    probe_equals: dict[str, str] = field(default_factory=dict)
    probe_contains: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


class PathHit(NamedTuple):
    """A path that matched a list: ``kind`` is ``webshell``, ``sensitive``, ``hard`` or ``probe``."""

    kind: str
    category: str
    reason: str


@lru_cache(maxsize=1)
def _path_index() -> _PathIndex:
    idx = _PathIndex()
    idx.webshell = frozenset(s.lower() for s in _read_list("webshells.txt"))
    names: set[str] = set()
    pairs: set[str] = set()
    suffixes: list[str] = []
    for entry in _read_list("sensitive_files.txt"):
        e = entry.lower().strip("/")
        if not e:
            continue
        if "/" in e:
            pairs.add(e)
        elif e.startswith(".") and e.count(".") >= 2 and not e.startswith(".env"):
            suffixes.append(e)  # .sql.gz style extensions
        else:
            names.add(e)
    idx.sensitive_names = frozenset(names)
    idx.sensitive_pairs = frozenset(pairs)
    idx.sensitive_suffixes = tuple(sorted(set(suffixes)))
    for entry in _read_list("probe_paths.txt"):
        kind, _, pattern = entry.partition("\t")
        pattern = pattern.lower()
        label = pattern.strip("/")
        if kind == "equals":
            idx.probe_equals[pattern.rstrip("/") or "/"] = label
        else:
            segs = [s for s in pattern.split("/") if s]
            if segs:
                idx.probe_contains.setdefault(segs[0], []).append((pattern, label))
    return idx


_ASSET_EXT = frozenset(("js", "mjs", "css", "map", "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "woff", "woff2",
                        "ttf", "eot", "json", "txt", "xml", "pdf", "mp4", "webm", "mp3"))


def _stem_may_probe(segment: str) -> bool:
    """True unless ``segment`` names a static asset (its stem then says nothing about software)."""
    return segment.rpartition(".")[2] not in _ASSET_EXT


def path_hits(path: str) -> list[PathHit]:
    """Probe, sensitive-file and web-shell names in a normalised ``path`` (lower case, ``/`` folded)."""
    idx = _path_index()
    hits: list[PathHit] = []
    segs = [s for s in path.split("/") if s]
    if not segs:
        return hits
    base = segs[-1]
    if base in idx.webshell:
        hits.append(PathHit("webshell", "scanner", f"web-shell name {base}"))
    sensitive = None
    for i, seg in enumerate(segs):
        if seg in _HARD_SENSITIVE or (seg.startswith(".env") and len(seg) <= 24) or seg.startswith("wp-config"):
            sensitive = PathHit("hard", "sensitive_file", f"sensitive file {'/'.join(segs[i:i + 2])}")
            break
        if seg in idx.sensitive_names:
            sensitive = PathHit("sensitive", "sensitive_file", f"sensitive file {seg}")
        elif i + 1 < len(segs) and f"{seg}/{segs[i + 1]}" in idx.sensitive_pairs:
            sensitive = PathHit("sensitive", "sensitive_file", f"sensitive file {seg}/{segs[i + 1]}")
    if sensitive is None and "." in base:
        for suf in idx.sensitive_suffixes:
            if base.endswith(suf):
                sensitive = PathHit("sensitive", "sensitive_file", f"database dump {base}")
                break
        else:
            stem, dot, ext = base.partition(".")
            if dot and ("." + ext) in _ARCHIVE_EXT and _BACKUP_STEM.match(stem):
                sensitive = PathHit("sensitive", "sensitive_file", f"backup archive {base}")
            elif base.endswith(("~", ".bak", ".old", ".swp", ".orig", ".save")) and len(segs) <= 4:
                sensitive = PathHit("sensitive", "sensitive_file", f"backup copy {base}")
    if sensitive is not None:
        hits.append(sensitive)
    norm = "/" + "/".join(segs)
    label = idx.probe_equals.get(norm)
    if label is not None:
        hits.append(PathHit("probe", "scanner", f"probe for /{label}"))
        return hits
    with_slash = norm + "/"
    for seg in segs:
        stem = seg.split(".", 1)[0]
        for key in (seg, stem) if stem != seg else (seg,):
            for pattern, label in idx.probe_contains.get(key, ()):
                if pattern in with_slash:
                    hits.append(PathHit("probe", "scanner", f"probe for /{label}"))
                    return hits
        # a stem counts only for scripts and extensionless names: /static/js/vendor.c0ffee.js is an asset
        label = _EXTRA_PROBES.get(seg) or (_EXTRA_PROBES.get(stem) if _stem_may_probe(seg) else None)
        if label is not None:
            hits.append(PathHit("probe", "scanner", f"probe for {label}"))
            return hits
    for pair, label in _EXTRA_PROBE_PAIRS.items():
        if pair in with_slash:
            hits.append(PathHit("probe", "scanner", f"probe for {label}"))
            return hits
    return hits


# --- user agents ----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _agent_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    def build(entries: list[str]) -> re.Pattern[str]:
        alts = sorted({re.escape(e.replace("\\ ", " ").lower()) for e in entries if len(e) >= 3}, key=len,
                      reverse=True)
        return re.compile(r"(?<![a-z0-9])(?:" + "|".join(alts) + r")(?![a-z0-9])")

    return build(_read_list("agents_scanner.txt")), build(_read_list("agents_bad.txt"))


def agent_evidence(user_agent: str | None) -> Evidence | None:
    """Scanner or bad-bot user agent evidence (``strong`` for attack tools), else ``None``."""
    if not user_agent:
        return None
    ua = user_agent.lower()
    scanner, bad = _agent_patterns()
    m = scanner.search(ua)
    if m:
        return Evidence("scanner", f"{m.group(0)} user agent", True)
    m = bad.search(ua)
    if m and not is_known_crawler(ua):  # one crawler list: a known crawler is never also a "bad bot"
        return Evidence("bad_bot", f"{m.group(0)} user agent", False)
    return None


def is_known_crawler(user_agent: str | None) -> bool:
    """True when the agent names a well-known search, SEO, archive or feed crawler (the behaviour list)."""
    from threatlens.models.behaviour.vocabulary import GOOD_CRAWLER, classify_agent

    return bool(user_agent) and classify_agent(user_agent) == GOOD_CRAWLER
