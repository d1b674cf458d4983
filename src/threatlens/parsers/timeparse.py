"""Timestamp parsing for access logs, with bounded caches (timestamps repeat line after line)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
_CACHE_MAX = 50_000
_TZ_CACHE: dict[str, timezone] = {}


def tz_from_offset(text: str) -> timezone:
    """``+0530`` / ``-07:00`` / ``Z`` to a fixed-offset timezone (cached)."""
    tz = _TZ_CACHE.get(text)
    if tz is None:
        if text in ("Z", "z", "+0000", "+00:00", "-0000"):
            tz = UTC
        else:
            digits = text[1:].replace(":", "")
            if (len(digits) != 4 or not digits.isascii() or not digits.isdigit() or text[0] not in "+-"
                    or int(digits[2:]) > 59 or int(digits[:2]) > 23):
                raise ValueError(f"bad UTC offset {text!r}")
            delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            tz = timezone(-delta if text[0] == "-" else delta)
        _TZ_CACHE[text] = tz
    return tz


class TimeParser:
    """Parses one timestamp style; remembers recent strings (logs repeat each second many times)."""

    __slots__ = ("_convert", "cache")

    def __init__(self, style: str) -> None:
        self.cache: dict[str, datetime] = {}
        self._convert: Callable[[str], datetime]
        if style == "clf":
            self._convert = parse_clf
        elif style == "iso":
            self._convert = parse_iso
        elif style == "epoch":
            self._convert = parse_epoch
        elif style.startswith("strftime:"):
            fmt = style[len("strftime:"):]
            self._convert = lambda s: _aware(datetime.strptime(s, fmt))
        else:
            raise ValueError(f"unknown time style {style!r}")

    def __call__(self, text: str) -> datetime:
        """Parse ``text``; raise ``ValueError`` if it is not a valid timestamp."""
        cache = self.cache
        value = cache.get(text)
        if value is None:
            value = self._convert(text)
            if len(cache) >= _CACHE_MAX:
                cache.clear()
            cache[text] = value
        return value


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


_MINUTES: dict[str, datetime] = {}


def parse_clf(text: str) -> datetime:
    """``10/Oct/2000:13:55:36 -0700`` (with or without the surrounding brackets).

    The minute is cached (a log has few distinct minutes), so a new second costs one ``replace``.
    """
    if text[:1] == "[":
        text = text[1:-1]
    if len(text) != 26 or text[2] != "/" or text[6] != "/" or text[11] != ":" or text[17] != ":" or text[20] != " ":
        raise ValueError(f"not a common-log timestamp: {text!r}")
    seconds = text[18:20]
    if not seconds.isdigit():
        raise ValueError(f"bad seconds in {text!r}")
    key = text[:17] + text[20:]
    minute = _MINUTES.get(key)
    if minute is None:
        month = MONTHS.get(text[3:6])
        if month is None:
            raise ValueError(f"bad month in {text!r}")
        minute = datetime(int(text[7:11]), month, int(text[0:2]), int(text[12:14]), int(text[15:17]),
                          tzinfo=tz_from_offset(text[21:]))
        if len(_MINUTES) >= _CACHE_MAX:
            _MINUTES.clear()
        _MINUTES[key] = minute
    return minute.replace(second=int(seconds))


def parse_iso(text: str) -> datetime:
    """ISO 8601 (``2024-05-01T10:00:00+02:00``, ``...Z``, nanosecond fractions trimmed)."""
    body = text.strip()
    if "." in body:
        # Python accepts at most 6 fractional digits; Go/Traefik write 9.
        head, _, rest = body.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        body = f"{head}.{rest[:min(digits, 6)].ljust(6, '0')}{rest[digits:]}" if digits else head + rest
    return _aware(datetime.fromisoformat(body))


def parse_epoch(text: str | float) -> datetime:
    """Seconds since the epoch (``1700000000.123``), as nginx ``$msec`` or Caddy ``ts`` write it."""
    return datetime.fromtimestamp(float(text), tz=UTC)
