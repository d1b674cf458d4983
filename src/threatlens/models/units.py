"""What the payload model reads of a request, and whether a text could carry an attack at all.

A request is cut into *units*: its normalised path, and each query parameter (``name=value``) on its
own, so one injected parameter cannot hide among fourteen ordinary ones. The model only ever decides
about a unit that has *attack syntax*: a metacharacter or fragment that can carry a payload (quotes
next to SQL, markup, shell and statement separators, calls, dot segments, schemes, comments).
Words, whitespace (encoded or not), ``+``, letters of any script and ordinary punctuation are
content: a folder named ``Annual Report`` or a search for ``rock 'n' roll`` is never the model's
call to make; nor is a call-looking word inside prose (``liked c's assert() feature``, see
:mod:`threatlens.models.prose`).

This module is on the runtime path; the training readers (``dataset.py``) import it, never the
reverse.
"""

from __future__ import annotations

import re

from threatlens.models.normalize import normalise
from threatlens.models.prose import without_prose_calls

#: A path of only these characters carries no payload.
PLAIN_PATH = re.compile(r"[a-z0-9/._~+-]*")
#: A query of only these characters (words, numbers, ``=``, ``&``) carries no payload either.
PLAIN_QUERY = re.compile(r"[a-z0-9=&_.,~\[\]-]*")
#: Most parameters scored per query; the rest are scored together as one unit.
MAX_PARAMS = 32

#: Parameter separators: ``&``, and ``;`` when a ``name=`` follows (``?C=M;O=D``).
_PARAM_SPLIT = re.compile(r"&|;(?=[A-Za-z_][\w.\[\]-]{0,40}=)")
#: A parameter name a site would use.
_PLAIN_NAME = re.compile(r"[\w.\[\]-]{0,80}")
#: A quote that touches SQL: followed by the end, an operator or comment, or an SQL keyword.
_QUOTE = (r"['\"`]\s*(?:$|[-)(;,=<>|&+#*/]|\b(?:or|and|xor|not|union|select|insert|update|delete|drop|"
          r"exec|execute|having|order|group|like|rlike|regexp|is|in|between|waitfor|sleep|benchmark|into|"
          r"from|where|limit|procedure|declare|case|when|then)\b)")
_VALUE_SYNTAX = re.compile(
    r"[<>{}|$\\;\x00\r\n]"          # markup, templates, shell, statement separators, control characters
    r"|\w\s*\(|\(\s*\)"             # calls: alert(1), sleep(5), char(; and shellshock's ()
    r"|" + _QUOTE +
    r"|\.\.(?:/|\\|$)"              # dot segments
    r"|://|^\w{2,10}:(?://|/)"      # schemes (remote inclusion, SSRF, wrappers)
    r"|--|/\*|\*/|#|@@|&&"          # comments, server variables, chained commands
    r"|="                           # an operator inside a value (1 or 1=1)
    r"|%[0-9a-f]{2}|%u[0-9a-f]{4}"  # still encoded after three rounds of decoding
    # a file of the server's own: system directories, drive letters, dot-files, scripts and configs (inclusion)
    r"|^(?:[a-z]:)?[/\\]+(?:etc|proc|var|usr|bin|sbin|boot|root|home|windows|winnt|inetpub|opt|dev|sys|tmp)\b"
    r"|^[a-z]:[/\\]|(?:^|/)\.[a-z_]"
    r"|\.(?:php\d?|phtml|asp|aspx|jsp|cgi|pl|conf|cnf|ini|log|asa|inc|bak|sh|htaccess|htpasswd|passwd)$"
)
_PATH_SYNTAX = re.compile(
    r"[<>{}|$\\\x00\r\n`]"
    r"|\(\s*\)|\(\s*select\b"
    r"|" + _QUOTE.replace(r"|[-)(;,=<>|&+#*/]", r"|[)(;=<>|#*]") +
    r"|\.\.(?:/|\\|;|$)"
    r"|://|\b[a-z]{3,6}:/"            # a scheme, even with its // folded
    r"|;(?![\w-]{1,40}=[\w.-]*(?:[/;]|$))"  # a statement separator, not a path parameter (;jsessionid=...)
    r"|/\*|\*/|#"
    r"|%[0-9a-f]{2}|%u[0-9a-f]{4}"
)


def query_text(raw_query: str | None) -> str:
    """The normalised form of a raw query string (what the payload model reads)."""
    return normalise(raw_query, plus=True) if raw_query else ""


def path_text(raw_path: str | None) -> str:
    """The normalised form of a raw path."""
    return normalise(raw_path, path=True) if raw_path else ""


def query_params(raw_query: str | None) -> list[str]:
    """The raw ``name=value`` pieces of a query string, empty pieces dropped.

    Past :data:`MAX_PARAMS` pieces, the rest stay together as the last piece (a long query is still
    read whole, never dropped).
    """
    if not raw_query:
        return []
    parts = [p for p in _PARAM_SPLIT.split(raw_query, maxsplit=MAX_PARAMS) if p]
    if len(parts) > MAX_PARAMS:
        parts[MAX_PARAMS - 1:] = ["&".join(parts[MAX_PARAMS - 1:])]
    return parts


def param_has_syntax(unit: str) -> bool:
    """True when a normalised ``name=value`` unit has syntax that can carry an attack."""
    name, eq, value = unit.partition("=")
    if not eq:
        return _VALUE_SYNTAX.search(without_prose_calls(name)) is not None
    return not _PLAIN_NAME.fullmatch(name) or _VALUE_SYNTAX.search(without_prose_calls(value)) is not None


def path_has_syntax(text: str) -> bool:
    """True when a normalised path has syntax that can carry an attack."""
    return _PATH_SYNTAX.search(without_prose_calls(text, plus=True)) is not None
