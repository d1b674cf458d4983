"""Read a named ``log_format`` from a real nginx.conf (including ``include``-free multi-line forms)."""

from __future__ import annotations

import re
from pathlib import Path

from threatlens.parsers.tokens import FormatError

_LOG_FORMAT = re.compile(r"(?:^|[;{}\s])log_format\s+(?P<name>[A-Za-z0-9_.-]+)\s+(?P<body>[^;]*);")
_STRING = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"|([^\s'\"]+)")
_COMMENT = re.compile(r"(?m)#[^\n]*$")


def read_log_formats(path: str | Path) -> dict[str, tuple[str, str | None]]:
    """All ``log_format`` definitions in the file: name to (format, escape= value or None)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise FormatError(f"cannot read nginx config {path}: {exc.strerror or exc}") from None
    text = _COMMENT.sub("", text)
    found: dict[str, tuple[str, str | None]] = {}
    for match in _LOG_FORMAT.finditer(text):
        escape = None
        pieces: list[str] = []
        for single, double, bare in _STRING.findall(match.group("body")):
            if bare and bare.startswith("escape="):
                escape = bare.split("=", 1)[1]
                continue
            piece = single or double or bare
            pieces.append(piece.replace('\\"', '"').replace("\\'", "'"))
        found[match.group("name")] = ("".join(pieces), escape)
    return found


def log_format_from_conf(path: str | Path, name: str | None = None) -> tuple[str, str, str | None]:
    """Pick one format: ``name``, else the only one, else ``main``. Returns (name, format, escape)."""
    formats = read_log_formats(path)
    if not formats:
        raise FormatError(f"no log_format directive in {path} (the built-in 'combined' needs none: "
                          "use --log-format nginx)")
    if name is None:
        name = next(iter(formats)) if len(formats) == 1 else ("main" if "main" in formats else None)
        if name is None:
            raise FormatError(f"{path} defines several log formats ({', '.join(formats)}): "
                              "choose one with --nginx-conf FILE:NAME")
    if name not in formats:
        raise FormatError(f"no log_format named {name!r} in {path} (found: {', '.join(formats)})")
    fmt, escape = formats[name]
    return name, fmt, escape
