"""Country names for ISO 3166-1 alpha-2 codes (table shipped as ``countries.tsv``)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

#: Labels ``GeoLookup.country`` gives instead of a country code, with their display names.
SPECIAL_NAMES: dict[str, str] = {
    "private": "Private network",
    "reserved": "Reserved range",
}

UNKNOWN_NAME = "Unknown"


@cache
def country_names() -> dict[str, str]:
    """The whole table: ``{"DE": "Germany", ...}`` (read once from the package data)."""
    text = files(__package__).joinpath("countries.tsv").read_text(encoding="utf-8")
    table: dict[str, str] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        code, _, name = line.partition("\t")
        table[code] = name
    return table


def country_name(code: str | None) -> str:
    """English name of a code: ``"DE"`` → ``"Germany"``, ``"private"`` → ``"Private network"``.

    ``None`` gives ``"Unknown"``; a code not in the table is returned as is.
    """
    if code is None:
        return UNKNOWN_NAME
    special = SPECIAL_NAMES.get(code)
    if special is not None:
        return special
    return country_names().get(code.upper(), code)


def country_label(code: str | None) -> str:
    """Code and name for display: ``"DE Germany"``; special labels and None give the name only."""
    if code is None or code in SPECIAL_NAMES:
        return country_name(code)
    name = country_name(code)
    return code if name == code else f"{code} {name}"
