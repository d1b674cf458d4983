"""The live monitor's ``/`` filter as a pure predicate over (record, verdict, country).

Syntax: whitespace-separated terms (quote a term that contains spaces)::

    ip:1.2.3.0/24 path:/wp- country:CN cat:sqli status:404 score>=0.8

* ``ip:ADDR`` or ``ip:CIDR``: the client address (IPv4 or IPv6);
* ``path:TEXT``: substring of path?query, case-insensitive;
* ``country:CC``: ISO code, or ``private`` / ``reserved`` / ``unknown``;
* ``cat:NAME`` (or ``category:``): one of the verdict's categories;
* ``status:404``, ``status:4xx``, ``status:400-499``;
* ``score>=0.8``, ``score>0.8``, ``score<=0.2``, ``score<0.2``, ``score:0.8`` (means ``>=``);
* ``method:POST``, ``ua:TEXT`` (user-agent substring), ``vhost:TEXT``, ``port:443``;
* a bare term: an address or CIDR if it parses as one, else a path substring;
* ``-term`` or ``!term`` negates it.

Terms on the same field are alternatives (OR); different fields must all hold (AND); negated
terms must all fail. A term a subject cannot answer (a ``path:`` term for an alert, a ``score``
term for an unscored request) does not match.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from threatlens.errors import FilterError
from threatlens.models.verdict import CATEGORIES, Alert, Verdict
from threatlens.parsers.record import LogRecord

__all__ = ["FilterError", "RecordFilter"]


_SCORE_RE = re.compile(r"^score\s*(>=|<=|>|<|:|=)\s*([0-9]*\.?[0-9]+)$", re.IGNORECASE)
_STATUS_RANGE = re.compile(r"^(\d{3})-(\d{3})$", re.ASCII)
_STATUS_CLASS = re.compile(r"^([1-5])xx$", re.IGNORECASE)
_FIELDS = {
    "ip": "ip",
    "path": "path",
    "url": "path",
    "country": "country",
    "cc": "country",
    "cat": "cat",
    "category": "cat",
    "status": "status",
    "method": "method",
    "ua": "ua",
    "agent": "ua",
    "vhost": "vhost",
    "host": "vhost",
    "port": "port",
    "score": "score",
}

Subject = tuple[LogRecord | None, Verdict | Alert | None, str | None]
Test = Callable[[Any, Any, Any], bool | None]  # None = cannot tell (counts as no match)
#: The country of a subject nobody looked up (a campaign member without a lookup at hand).
_UNTOLD = object()


@lru_cache(maxsize=4096)
def _addr(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(ip.partition("%")[0])
    except ValueError:
        return None


def _ip_test(value: str) -> Test:
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise FilterError(f"ip:{value}: not an address or CIDR") from exc

    def test(rec: Any, ver: Any, cc: Any, _net: Any = net) -> bool | None:
        ip = rec.ip if rec is not None else (ver.ip if isinstance(ver, Alert) else None)
        if ip is None:
            return None
        addr = _addr(ip)
        return addr is not None and addr.version == _net.version and addr in _net

    return test


def _substr(attr: str, value: str) -> Test:
    needle = value.lower()

    def test(rec: Any, ver: Any, cc: Any) -> bool | None:
        if rec is None:
            return None
        text = rec.target if attr == "target" else getattr(rec, attr)
        return text is not None and needle in text.lower()

    return test


def _country_test(value: str) -> Test:
    want = value.lower()
    want_none = want in ("unknown", "none", "-")

    def test(rec: Any, ver: Any, cc: Any) -> bool | None:
        if cc is None:
            return want_none
        if cc is _UNTOLD:
            return None
        return cc.lower() == want

    return test


def _cat_test(value: str) -> Test:
    cat = value.lower()
    if cat not in CATEGORIES:
        raise FilterError(f"cat:{value}: unknown category (one of {', '.join(CATEGORIES)})")

    def test(rec: Any, ver: Any, cc: Any) -> bool | None:
        if ver is None:
            return None
        return cat in ver.categories

    return test


def _digits(value: str, most: int) -> bool:
    """``value`` is 1 to ``most`` ASCII digits (``str.isdigit`` also accepts ``²`` and ``٣``)."""
    return 0 < len(value) <= most and value.isascii() and value.isdigit()


def _status_test(value: str) -> Test:
    m = _STATUS_CLASS.match(value)
    if m:
        lo = int(m.group(1)) * 100
        hi = lo + 99
    elif (m := _STATUS_RANGE.match(value)) is not None:
        lo, hi = int(m.group(1)), int(m.group(2))
    elif _digits(value, 3):
        lo = hi = int(value)
    else:
        raise FilterError(f"status:{value[:20]}: expected a code (404), a class (4xx) or a range (400-499)")

    def test(rec: Any, ver: Any, cc: Any) -> bool | None:
        if rec is None or rec.status is None:
            return None
        return lo <= rec.status <= hi

    return test


def _port_test(value: str) -> Test:
    if not _digits(value, 5):
        raise FilterError(f"port:{value[:20]}: expected a number (0-65535)")
    port = int(value)

    def test(rec: Any, ver: Any, cc: Any) -> bool | None:
        if rec is None or rec.server_port is None:
            return None
        return rec.server_port == port

    return test


def _method_test(value: str) -> Test:
    want = value.upper()

    def test(rec: Any, ver: Any, cc: Any) -> bool | None:
        if rec is None or rec.method is None:
            return None
        return rec.method.upper() == want

    return test


def _score_test(op: str, value: str) -> Test:
    try:
        limit = float(value)
    except ValueError as exc:  # pragma: no cover - the regex only lets numbers through
        raise FilterError(f"score: {value!r} is not a number") from exc
    if op in (":", "="):
        op = ">="
    cmp: Callable[[float], bool] = {
        ">=": lambda s: s >= limit,
        ">": lambda s: s > limit,
        "<=": lambda s: s <= limit,
        "<": lambda s: s < limit,
    }[op]

    def test(rec: Any, ver: Any, cc: Any) -> bool | None:
        if ver is None:
            return None
        return cmp(ver.score)

    return test


def _bare_test(value: str) -> tuple[str, Test]:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return "path", _substr("target", value)
    return "ip", _ip_test(value)


@dataclass(frozen=True)
class _Term:
    kind: str  # which field of the subject; terms of one kind are alternatives
    text: str
    negated: bool
    test: Test = field(compare=False, repr=False)


@dataclass(frozen=True)
class RecordFilter:
    """A parsed filter; ``RecordFilter.parse("...")`` builds one, ``str()`` gives it back."""

    text: str
    terms: tuple[_Term, ...] = ()

    @classmethod
    def parse(cls, text: str) -> RecordFilter:
        """Parse a filter string; raises ``FilterError`` naming the bad term."""
        try:
            words = shlex.split(text)
        except ValueError as exc:
            raise FilterError(f"filter: {exc}") from exc
        terms: list[_Term] = []
        for word in words:
            negated = word[:1] in ("-", "!") and len(word) > 1
            body = word[1:] if negated else word
            terms.append(cls._term(body, negated))
        return cls(text=" ".join(words), terms=tuple(terms))

    @staticmethod
    def _term(body: str, negated: bool) -> _Term:
        m = _SCORE_RE.match(body)
        if m:
            return _Term("score", body, negated, _score_test(m.group(1), m.group(2)))
        name, sep, value = body.partition(":")
        fld = _FIELDS.get(name.lower()) if sep else None
        if fld is None:
            kind, test = _bare_test(body)
            if kind == "path" and sep and name.isalpha():
                known = ", ".join(sorted(set(_FIELDS)))
                raise FilterError(f"{body}: unknown field {name!r} (known: {known}); for a path use path:{body}")
            return _Term(kind, body, negated, test)
        if not value:
            raise FilterError(f"{body}: empty value")
        builders: dict[str, Callable[[str], Test]] = {
            "ip": _ip_test,
            "path": lambda v: _substr("target", v),
            "country": _country_test,
            "cat": _cat_test,
            "status": _status_test,
            "method": _method_test,
            "ua": lambda v: _substr("user_agent", v),
            "vhost": lambda v: _substr("vhost", v),
            "port": _port_test,
            "score": lambda v: _score_test(">=", v),
        }
        return _Term(fld, body, negated, builders[fld](value))

    @property
    def empty(self) -> bool:
        """True when the filter has no terms (everything matches)."""
        return not self.terms

    def __str__(self) -> str:
        return self.text

    def _check(self, rec: Any, ver: Any, cc: Any) -> bool:
        groups: dict[str, bool] = {}
        for term in self.terms:
            got = term.test(rec, ver, cc)
            if term.negated:
                if got:
                    return False
                continue
            groups[term.kind] = groups.get(term.kind, False) or bool(got)
        return all(groups.values())

    def matches(self, record: LogRecord, verdict: Verdict | None = None, country: str | None = None) -> bool:
        """Whether a request passes the filter."""
        return self._check(record, verdict, country)

    def matches_alert(self, alert: Alert, country: str | None = None,
                      country_of: Callable[[str], str | None] | None = None) -> bool:
        """Whether a behaviour alert passes (``ip``, ``country``, ``cat`` and ``score`` terms apply).

        ``country`` is the country of ``alert.ip``. A campaign passes when any of its member IPs does;
        ``country_of`` gives a member's country (without it, ``country:`` terms cannot tell for the others).
        """
        if len(alert.members) < 2:
            return self._check(None, alert, country)
        for ip in alert.members:
            if ip == alert.ip:
                cc: Any = country
            else:
                cc = country_of(ip) if country_of is not None else _UNTOLD
            if self._check(None, alert._replace(ip=ip), cc):
                return True
        return False

    def select(
        self,
        records: Sequence[LogRecord],
        verdicts: Sequence[Verdict] | None,
        countries: Sequence[str | None],
    ) -> list[int]:
        """Indices of the matching requests of a batch."""
        if not self.terms:
            return list(range(len(records)))
        check = self._check
        if verdicts is None:
            return [i for i, (r, c) in enumerate(zip(records, countries, strict=True)) if check(r, None, c)]
        return [
            i for i, (r, v, c) in enumerate(zip(records, verdicts, countries, strict=True)) if check(r, v, c)
        ]
