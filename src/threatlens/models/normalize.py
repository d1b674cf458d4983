"""Decode and normalise what a client sent, so evasions look like the attack they hide.

Attackers encode payloads (``%27``, double ``%2527``, ``%u0027``, overlong UTF-8 ``%c0%af``,
HTML entities, ``+`` for space, ``/./`` and ``//`` in paths). Everything the models look at goes
through :func:`normalise` first: URL-decoded repeatedly (up to three rounds), lower-cased, with
those forms folded to the character they stand for.
"""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

#: Overlong / non-shortest UTF-8 encodings of ``/``, ``.`` and ``\`` that old servers accepted.
_OVERLONG = re.compile(
    r"%c0%af|%e0%80%af|%c0%2f|%c1%9c|%c1%pc|%c0%9v|%c0%ae|%e0%80%ae|%c0%2e|%f0%80%80%af|%c1%1c",
    re.IGNORECASE,
)
_OVERLONG_MAP = {
    "%c0%af": "/",
    "%e0%80%af": "/",
    "%c0%2f": "/",
    "%f0%80%80%af": "/",
    "%c1%9c": "\\",
    "%c1%pc": "\\",
    "%c1%1c": "\\",
    "%c0%9v": "/",
    "%c0%ae": ".",
    "%e0%80%ae": ".",
    "%c0%2e": ".",
}
_PCT_U = re.compile(r"%u([0-9a-fA-F]{4})")
_ENTITY = re.compile(r"&#?[0-9a-zA-Z]{1,8};?")
_DOT_SEG = re.compile(r"/(?:\./)+")
_SLASHES = re.compile(r"/{2,}")
#: Characters whose presence means the text may need decoding.
MAX_ROUNDS = 3
#: Longest text the models read; longer input keeps its first and last halves of this.
MAX_LEN = 2048


def _overlong(match: re.Match[str]) -> str:
    return _OVERLONG_MAP.get(match.group(0).lower(), match.group(0))


def url_decode(text: str, *, plus: bool = False) -> str:
    """Decode ``text`` up to :data:`MAX_ROUNDS` times (``%XX``, ``%uXXXX``, overlong forms).

    ``plus`` turns ``+`` into a space first (query strings and form values).
    """
    if plus and "+" in text:
        text = text.replace("+", " ")
    for _ in range(MAX_ROUNDS):
        if "%" not in text:
            break
        before = text
        if "%u" in text or "%U" in text:
            text = _PCT_U.sub(lambda m: chr(int(m.group(1), 16)), text)
        if "%c" in text or "%C" in text or "%e" in text or "%E" in text or "%f" in text or "%F" in text:
            text = _OVERLONG.sub(_overlong, text)
        text = unquote(text, errors="replace")
        if text == before:
            break
    return text


def normalise(text: str | None, *, plus: bool = False, path: bool = False) -> str:
    r"""Return the decoded, lower-cased, folded form of ``text`` that features are computed on.

    ``path`` also folds ``\\`` to ``/``, ``/./`` to ``/`` and runs of ``/`` to one.
    Never raises: undecodable bytes become U+FFFD.
    """
    if not text:
        return ""
    if len(text) > MAX_LEN:  # keep both ends: padding is a classic way to push a payload past a limit
        half = MAX_LEN // 2
        text = f"{text[:half]} {text[-half:]}"
    text = url_decode(text, plus=plus)
    if "&" in text and _ENTITY.search(text):
        text = html.unescape(text)
    text = text.lower()
    if path or "\\" in text:
        text = text.replace("\\", "/")
    if "/." in text:
        text = _DOT_SEG.sub("/", text)
    if "//" in text and path:
        text = _SLASHES.sub("/", text)
    if "\x00" in text:
        text = text.replace("\x00", " \\0 ")
    return text


