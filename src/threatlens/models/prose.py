"""A call-looking word inside prose is content; a call with code around it is not.

Forum spam, search terms and article titles quote programming prose: ``i never really liked c's
assert() feature``. Read as code, ``assert()`` is a PHP call; read as what it is, it is a word in a
sentence. A call counts as *prose* only when all of its context is prose: at least two plain words
before it (letters of any script, an apostrophe inside a word), no argument or only plain words
between its parentheses, and after it a plain word (or the end), at most one punctuation mark
between. Anything that code needs to run the call breaks that shape: a separator or operator
(``; | & = $ . < > { } ` '``), a number or a variable as argument (``sleep(5)``, ``eval($_GET)``),
a nested call, a value starting with the call, a quote, an SQL or shell operator word next to it
(``1 or not version() like 0x35``). So no site-specific word list is involved, and an attacker
gains nothing by writing prose around a call: prose around it is exactly what keeps it from running.

Used by the attack-syntax gate (:mod:`threatlens.models.units`) and the fragments
(:mod:`threatlens.models.signatures`), on normalised (decoded, lower-cased) text.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: A plain word: letters of any script, optionally one apostrophe inside (``c's``, ``don't``).
_WORD = r"[^\W\d_]+(?:'[^\W\d_]+)?"
#: Words that make the text next to a call an expression rather than a sentence (SQL, shell, script operators).
_OPERATORS = frozenset({
    "and", "or", "xor", "not", "like", "rlike", "regexp", "is", "in", "between", "div", "mod", "select", "union",
    "from", "where", "having", "order", "group", "by", "limit", "into", "case", "when", "then", "else", "end",
    "echo", "print", "return", "new", "typeof", "void", "exec", "execute", "declare", "sounds", "function",
    "returns", "procedure", "create", "replace", "call", "def", "var", "let", "const",
})


@lru_cache(maxsize=2)
def _prose_call(plus: bool) -> re.Pattern[str]:
    space = r"[\s+]" if plus else r"\s"
    sep = space + "+"
    return re.compile(
        rf"(?:^|(?<={space}))(?P<before>{_WORD}{sep}(?P<last>{_WORD}){sep})"  # two plain words before the call
        rf"(?P<name>[^\W\d]\w{{0,40}})\s*\(\s*(?P<args>{_WORD}(?:(?:{sep}|,\s*){_WORD}){{0,8}})?\s*\)"
        rf"(?=[.,!?:]?(?:{sep}(?P<after>[^\W\d_]+)|$))"  # then a plain word, or the end
    )


def without_prose_calls(text: str, *, plus: bool = False) -> str:
    """``text`` with the parentheses of every call in prose dropped (``assert() feature`` → ``assert feature``).

    ``plus``: a ``+`` between words stands for a space (a path, where forms and spammers encode spaces so).
    Text with no call in prose is returned as it is.
    """
    if "(" not in text:
        return text
    return _prose_call(plus).sub(_words_only, text)


def _words_only(m: re.Match[str]) -> str:
    if m.group("last") in _OPERATORS or m.group("after") in _OPERATORS:
        return m.group(0)
    args = m.group("args")
    return f"{m.group('before')}{m.group('name')} {args}" if args else f"{m.group('before')}{m.group('name')}"
