"""Feature vectors of payload units (a request's normalised query or path).

Character n-grams are hashed (:class:`~sklearn.feature_extraction.text.HashingVectorizer`, so memory
is fixed and nothing is fitted), then a few dozen numeric features are appended: length, counts of
special characters and of SQL / script / shell keywords, entropy, path depth, number of parameters,
extension class, and which part of the request the text came from.

Training builds the sparse matrix with scikit-learn (:func:`unit_matrix`); the scorer needs only the
dot product of those rows with the model's weights, which :func:`gram_dot` computes with NumPy alone
(the same MurmurHash3 buckets, counts and L2 norm), so a scan never imports scikit-learn or SciPy.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

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

_VECTORIZER: Any = None
#: What HashingVectorizer folds before cutting n-grams (runs of two or more whitespace characters).
_WHITE_SPACES = re.compile(r"\s\s+")
_C1, _C2 = np.uint32(0xCC9E2D51), np.uint32(0x1B873593)


def _vectorizer() -> Any:
    global _VECTORIZER
    if _VECTORIZER is None:
        from sklearn.feature_extraction.text import HashingVectorizer

        _VECTORIZER = HashingVectorizer(
            analyzer="char",
            ngram_range=NGRAMS,
            n_features=N_HASH,
            alternate_sign=False,
            lowercase=False,
            norm="l2",
            dtype=np.float32,
        )
    return _VECTORIZER


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def murmur3_32(keys: list[bytes]) -> np.ndarray:
    """Signed MurmurHash3 (x86, 32 bit, seed 0) of each key of at most 16 bytes, as scikit-learn hashes features."""
    n = len(keys)
    lengths = np.fromiter(map(len, keys), dtype=np.uint32, count=n)
    padded = np.frombuffer(b"".join(k.ljust(16, b"\0") for k in keys), dtype="<u4").reshape(n, 4)
    h = np.zeros(n, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for block in range(4):
            k = padded[:, block] * _C1
            k = _rotl(k, 15) * _C2
            full = lengths >= 4 * (block + 1)
            tail = ~full & (lengths > 4 * block)
            mixed = _rotl(h ^ k, 13) * np.uint32(5) + np.uint32(0xE6546B64)
            h = np.where(full, mixed, np.where(tail, h ^ k, h))
        h ^= lengths
        h ^= h >> np.uint32(16)
        h *= np.uint32(0x85EBCA6B)
        h ^= h >> np.uint32(13)
        h *= np.uint32(0xC2B2AE35)
        h ^= h >> np.uint32(16)
    return h.view(np.int32)


def _char_ngrams(text: str) -> list[str]:
    text = _WHITE_SPACES.sub(" ", text)
    n = len(text)
    grams = list(text)
    for size in range(2, min(NGRAMS[1], n) + 1):
        grams.extend(text[i:i + size] for i in range(n - size + 1))
    return grams


def gram_dot(texts: Sequence[str], weights: np.ndarray) -> np.ndarray:
    """Each text's L2-normalised hashed n-gram counts times ``weights`` (length :data:`N_HASH`).

    The same value as ``unit_parts(texts, ...)[0] @ weights`` (HashingVectorizer's buckets, float32
    cells), with NumPy only.
    """
    out = np.zeros(len(texts))
    grams: list[bytes] = []
    rows: list[int] = []
    for row, text in enumerate(texts):
        cut = [g.encode("utf-8") for g in _char_ngrams(text)]
        grams.extend(cut)
        rows.extend([row] * len(cut))
    if not grams:
        return out
    h = murmur3_32(grams).astype(np.int64)
    index = np.where(h == -(1 << 31), (2**31 - 1 - (N_HASH - 1)) % N_HASH, np.abs(h) % N_HASH)
    cells, counts = np.unique(np.asarray(rows, dtype=np.int64) * N_HASH + index, return_counts=True)
    cell_rows = cells // N_HASH
    counts = counts.astype(np.float64)
    norms = np.sqrt(np.bincount(cell_rows, weights=counts * counts, minlength=len(texts)))
    values = (counts / norms[cell_rows]).astype(np.float32).astype(np.float64)
    products = (values * weights[cells % N_HASH]).tolist()
    bounds = np.flatnonzero(np.r_[True, cell_rows[1:] != cell_rows[:-1], True]).tolist()
    # summed left to right in index order, as SciPy's sparse product does: the same float64, bit for bit
    for start, end in itertools.pairwise(bounds):
        out[cell_rows[start]] = functools.reduce(operator.add, products[start:end])
    return out


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


def numeric_matrix(texts: Sequence[str], kinds: Sequence[str]) -> np.ndarray:
    """The numeric features of each text, one float32 row each."""
    numeric = np.asarray([numeric_row(t, k) for t, k in zip(texts, kinds, strict=True)], dtype=np.float32)
    if numeric.size == 0:
        numeric = np.zeros((len(texts), N_NUMERIC), dtype=np.float32)
    return numeric


def unit_parts(texts: Sequence[str], kinds: Sequence[str]) -> tuple[sp.csr_matrix, np.ndarray]:
    """The two blocks of the model input: hashed n-grams (sparse, scikit-learn) and numeric features (dense)."""
    return _vectorizer().transform(texts), numeric_matrix(texts, kinds)


def unit_matrix(texts: Sequence[str], kinds: Sequence[str]) -> sp.csr_matrix:
    """The model input for normalised texts: hashed n-grams then numeric features, one row each."""
    import scipy.sparse as sp

    grams, numeric = unit_parts(texts, kinds)
    return sp.hstack([grams, sp.csr_matrix(numeric)], format="csr", dtype=np.float32)
