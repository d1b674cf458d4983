"""Feature vectors of payload units (a request's normalised query or path).

Character n-grams are hashed (:class:`~sklearn.feature_extraction.text.HashingVectorizer`, so memory
is fixed and nothing is fitted), then a few dozen numeric features are appended: length, counts of
special characters and of SQL / script / shell keywords, entropy, path depth, number of parameters,
extension class, and which part of the request the text came from.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

#: Hashed n-gram space (2**18 columns: 1 MB of float32 weights per class).
N_HASH = 1 << 18
NGRAMS = (1, 4)
_SPECIALS = "'\"<>();|&$`{}[]\\%*=-#/.:,!?@~^+"
_KEYWORDS = (
    re.compile(r"\b(?:select|union|insert|update|delete|drop|from|where|having|group|order|by|sleep|benchmark|"
               r"waitfor|delay|exec|execute|declare|cast|convert|concat|char|chr|ascii|substr|substring|"
               r"information_schema|null|table|database|version|like|case|when|then)\b"),
    re.compile(r"\b(?:or|and|xor|not)\b"),
    re.compile(r"\b(?:script|alert|prompt|confirm|javascript|vbscript|onerror|onload|onmouseover|onfocus|eval|"
               r"document|cookie|window|location|src|href|iframe|svg|img|body|style|expression|fromcharcode)\b"),
    re.compile(r"\b(?:cat|ls|id|uname|whoami|wget|curl|nc|bash|sh|ping|nslookup|echo|rm|chmod|python|perl|"
               r"php|powershell|cmd|passwd|shadow|etc|bin|proc|system32|win|ini|jndi|ldap|rmi)\b"),
    re.compile(r"--|/\*|\*/|#"),
    re.compile(r"\.\./|\.\.\\"),
    re.compile(r"[a-z]+://"),
    re.compile(r"%[0-9a-f]{2}"),
)
_EXT = re.compile(r"\.([a-z0-9]{1,5})$")
_EXT_CLASSES = {
    "static": {"css", "js", "png", "jpg", "jpeg", "gif", "svg", "ico", "woff", "woff2", "ttf", "eot", "webp",
               "map", "mp4", "mp3", "pdf", "txt", "xml", "json", "html", "htm", "md"},
    "script": {"php", "asp", "aspx", "jsp", "cgi", "pl", "py", "sh", "do", "action", "cfm"},
    "archive": {"zip", "gz", "tgz", "tar", "rar", "7z", "bz2", "xz", "sql", "bak", "old", "swp", "jar", "war"},
    "config": {"env", "ini", "conf", "cfg", "yml", "yaml", "config", "log", "htaccess", "htpasswd", "git"},
}
_EXT_LIST = tuple(_EXT_CLASSES)
N_NUMERIC = 8 + len(_SPECIALS) + len(_KEYWORDS) + len(_EXT_LIST) + 1

_VECTORIZER = HashingVectorizer(
    analyzer="char",
    ngram_range=NGRAMS,
    n_features=N_HASH,
    alternate_sign=False,
    lowercase=False,
    norm="l2",
    dtype=np.float32,
)


def _entropy(text: str) -> float:
    n = len(text)
    if n == 0:
        return 0.0
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def numeric_row(text: str, kind: str) -> list[float]:
    """The numeric features of one normalised unit (``kind`` is ``query`` or ``path``)."""
    n = len(text)
    log = math.log1p
    alnum = sum(ch.isalnum() for ch in text)
    row = [
        log(n) / 5.0,
        (n - alnum) / n if n else 0.0,
        sum(ch.isdigit() for ch in text) / n if n else 0.0,
        _entropy(text) / 6.0,
        log(text.count("/")) / 3.0,
        log(text.count("&") + (1 if "=" in text else 0)) / 3.0,
        1.0 if kind == "path" else 0.0,
        1.0 if any(ord(ch) > 127 or ord(ch) < 32 for ch in text) else 0.0,
    ]
    row.extend(log(text.count(ch)) / 2.0 for ch in _SPECIALS)
    row.extend(log(len(rx.findall(text))) / 2.0 for rx in _KEYWORDS)
    m = _EXT.search(text.split("?", 1)[0]) if kind == "path" else None
    ext = m.group(1) if m else ""
    row.extend(1.0 if ext in _EXT_CLASSES[c] else 0.0 for c in _EXT_LIST)
    row.append(1.0 if kind == "path" and not ext else 0.0)
    return row


def unit_parts(texts: Sequence[str], kinds: Sequence[str]) -> tuple[sp.csr_matrix, np.ndarray]:
    """The two blocks of the model input: hashed n-grams (sparse) and numeric features (dense)."""
    grams = _VECTORIZER.transform(texts)
    numeric = np.asarray([numeric_row(t, k) for t, k in zip(texts, kinds, strict=True)], dtype=np.float32)
    if numeric.size == 0:
        numeric = np.zeros((len(texts), N_NUMERIC), dtype=np.float32)
    return grams, numeric


def unit_matrix(texts: Sequence[str], kinds: Sequence[str]) -> sp.csr_matrix:
    """The model input for normalised texts: hashed n-grams then numeric features, one row each."""
    grams, numeric = unit_parts(texts, kinds)
    return sp.hstack([grams, sp.csr_matrix(numeric)], format="csr", dtype=np.float32)
