"""Turning values into display text: log strings always become ``rich.text.Text`` (never markup)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.style import Style
from rich.text import Text

from threatlens.stats.countries import country_label
from threatlens.textsafe import visible

__all__ = ["BAND_LABELS", "TIER_LABELS", "count", "country", "paths", "safe", "score_text", "tier", "when"]

#: The meaning of a score band in words, so it survives monochrome and NO_COLOR terminals.
BAND_LABELS = {"high": "HIGH", "flagged": "FLAG", "elevated": "warn", "low": "", "none": ""}
#: Severity tiers as the tables print them (at most 8 columns wide); ``""`` (not flagged) prints nothing.
TIER_LABELS = {"attack": "attack", "suspicious": "suspic.", "nuisance": "nuisance", "": ""}


def safe(value: object, style: str | Style = "") -> Text:
    """Log content as literal text: control characters escaped, no markup interpretation."""
    return Text(visible("-" if value is None else str(value)), style=style, no_wrap=True, end="")


def count(n: float) -> str:
    """Compact count: 999, 1.2k, 35k, 1.2M; the unit is chosen after rounding (9,999 is 10k, never 10.0k)."""
    n = float(n)
    if round(n) < 1000:
        return f"{n:.0f}"
    if round(n / 1000, 1) < 10:
        return f"{n / 1000:.1f}k"
    if round(n / 1000) < 1000:
        return f"{n / 1000:.0f}k"
    return f"{n / 1e6:.1f}M"


def score_text(score: float | None, band: str) -> str:
    """``0.93 HIGH`` style score text (``-`` when unscored)."""
    if score is None:
        return "-"
    label = BAND_LABELS.get(band, "")
    return f"{score:.2f} {label}".rstrip()


def tier(severity: str) -> str:
    """A severity tier in a table cell: ``attack``, ``suspic.``, ``nuisance`` or empty."""
    return TIER_LABELS.get(severity, severity[:8])


def when(t: datetime | None, with_date: bool = False) -> str:
    """Log time for tables (local wall clock of the log: HH:MM:SS)."""
    if t is None:
        return "-"
    return t.strftime("%Y-%m-%d %H:%M:%S %z" if with_date else "%H:%M:%S")


def country(code: str | None, long: bool = False) -> str:
    """Country code (or its label, ``DE Germany``) for display."""
    if long:
        return country_label(code)
    if code is None:
        return "-"
    return {"private": "priv", "reserved": "rsvd", "unknown": "-"}.get(code, code)


def paths(names: Sequence[str], width: int) -> str:
    """File names joined with ``, `` in at most ``width`` cells, each cut in the middle of its directory part.

    ``/var/log/nginx/…/access.log`` keeps the start of the path and the whole file name; when even ``…/name``
    does not fit, the file names alone; a file name longer than its share is cut in its middle. ``width``
    below what the names need at their shortest is not met.
    """
    names = [visible(n) for n in names]
    joined = ", ".join(names)
    if len(joined) <= width or not names:
        return joined
    room = max(0, width - 2 * (len(names) - 1))
    # First every file name whole ("…/access.log"), then the start of each directory as room allows.
    shares = [min(len(n), len(n.rpartition("/")[2]) + 2) for n in names]
    if sum(shares) > room:
        bare = ", ".join(n.rpartition("/")[2] for n in names)  # the file names alone, if they fit
        if len(bare) <= width:
            return bare
        shares = [room // len(names)] * len(names)
    extra = room - sum(shares)
    while extra > 0 and any(s < len(n) for s, n in zip(shares, names, strict=True)):
        for i, n in enumerate(names):
            if extra > 0 and shares[i] < len(n):
                shares[i] += 1
                extra -= 1
    return ", ".join(_middle_path(n, s) for n, s in zip(names, shares, strict=True))


def _middle_path(path: str, width: int) -> str:
    if len(path) <= width:
        return path
    head, sep, name = path.rpartition("/")
    keep = width - len(name) - 2  # room for the start of the directory before "…/"
    if sep and keep >= 0:
        return f"{head[:keep]}…/{name}"
    if width < 2:
        return "…"
    left = (width - 1) // 2
    return f"{path[:left]}…{path[len(path) - (width - 1 - left):]}"
