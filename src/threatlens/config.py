"""The user's config file: defaults for command-line options and the allowlist.

``~/.config/threatlens/config.toml`` (``$XDG_CONFIG_HOME`` honoured; ``--config`` overrides)::

    log_format = "combined"      # any --log-format value
    threshold = 0.8              # 0..1; unset: the model's calibrated threshold
    model = "~/models/site.skops"
    geoip_db = "/usr/share/GeoIP/GeoLite2-Country.mmdb"
    export_dir = "~/threatlens-exports"
    poll = false                 # true, or a polling interval in seconds
    backfill = 500               # start with the last N lines
    min_severity = "attack"      # attack, suspicious or nuisance: what flagged output and block lists include
    allowlist = ["203.0.113.7", "10.0.0.0/8", "path:/healthz", "path:/static/*", "agent:*UptimeRobot*"]

Read with :mod:`tomllib`, rewritten with :mod:`tomlkit`. A missing file gives the defaults; a malformed one raises
:class:`ConfigError` naming the file and line. :meth:`Config.save_allowlist` rewrites only the
``allowlist`` key, keeping every other byte of the file (comments included), atomically.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from threatlens.errors import AllowlistError, ConfigError
from threatlens.export import atomic_write
from threatlens.models.allowlist import Allowlist, normalise_entry
from threatlens.models.verdict import SEVERITIES

__all__ = [
    "OPTION_KEYS",
    "Config",
    "ConfigError",
    "default_config_path",
    "default_data_dir",
    "normalize_allowlist_entry",
]

#: Keys that hold command-line defaults; each equals the argparse ``dest`` of its option.
OPTION_KEYS: tuple[str, ...] = ("log_format", "threshold", "model", "geoip_db", "export_dir", "poll", "backfill",
                                "min_severity")
_KNOWN_KEYS = (*OPTION_KEYS, "allowlist")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/threatlens/config.toml``, else ``~/.config/threatlens/config.toml``."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return root / "threatlens" / "config.toml"


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/threatlens``, else ``~/.local/share/threatlens``: where ``train`` writes models."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_DATA_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".local" / "share"
    return root / "threatlens"


def normalize_allowlist_entry(entry: str) -> str:
    """Validate one allowlist entry and return its canonical text (raises ``AllowlistError``).

    An IP address, a CIDR network (host bits cleared: ``10.1.2.3/8`` -> ``10.0.0.0/8``),
    ``path:GLOB`` (request path without query) or ``agent:GLOB`` (user agent, any case): the
    vocabulary of :class:`threatlens.models.allowlist.Allowlist`, which does the matching.
    """
    return normalise_entry(_allowlist_text(entry))[0]


def _allowlist_text(entry: str) -> str:
    """The entry's text for :func:`normalise_entry` once the config's own rules are checked (raises ``AllowlistError``).

    A string without control characters, blanks trimmed (also after ``path:`` and ``agent:``), not empty
    and not a ``#`` comment.
    """
    if not isinstance(entry, str):
        raise AllowlistError(f"allowlist entries are strings, got {entry!r}")
    text = entry.strip()
    if _CONTROL_RE.search(text):
        raise AllowlistError(f"allowlist entry {entry!r} contains control characters")
    for prefix in ("path:", "agent:"):
        if text.startswith(prefix):
            text = prefix + text[len(prefix) :].strip()
    if not text or text.startswith("#"):
        raise AllowlistError(f"allowlist entry {entry!r} is empty")
    return text


@dataclass(frozen=True)
class Config:
    """Settings from the config file; an option left out of the file is ``None``."""

    path: Path
    log_format: str | None = None
    threshold: float | None = None
    model: str | None = None
    geoip_db: str | None = None
    export_dir: str | None = None
    poll: bool | float | None = None
    backfill: int | None = None
    min_severity: str | None = None
    allowlist: tuple[str, ...] = ()
    exists: bool = field(default=False, compare=False)
    #: ``allowlist`` read into an :class:`Allowlist` (give it to ``Allowlist.parse(..., built=)``)
    parsed_allowlist: Allowlist | None = field(default=None, compare=False, repr=False)

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> Config:
        """Read ``path`` (default: :func:`default_config_path`); missing file -> defaults."""
        target = Path(path).expanduser() if path is not None else default_config_path()
        try:
            data = target.read_bytes()
        except FileNotFoundError:
            return cls(path=target)
        except OSError as exc:
            raise ConfigError(target, None, f"cannot read: {exc.strerror or exc}") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise ConfigError(target, line, "not valid UTF-8") from None
        try:
            table = tomllib.loads(text)  # reading needs no round trip: tomlkit only where the file is rewritten
        except tomllib.TOMLDecodeError as exc:
            msg, line = _toml_error(str(exc), text)
            raise ConfigError(target, line, f"invalid TOML: {msg}") from None
        except RecursionError:  # a TOML parser without a depth limit, on arrays or tables nested 1,000 deep
            raise ConfigError(target, None, "invalid TOML: arrays or tables nested too deeply") from None
        return cls._from_table(target, text, table)

    @classmethod
    def _from_table(cls, path: Path, text: str, table: dict[str, Any]) -> Config:
        def fail(key: str, message: str) -> ConfigError:
            return ConfigError(path, _line_of_key(text, key), message)

        for key in table:
            if key not in _KNOWN_KEYS:
                raise fail(key, f"unknown key {key!r}; known keys: {', '.join(_KNOWN_KEYS)}")
        values: dict[str, Any] = {}
        for key in ("log_format", "model", "geoip_db", "export_dir"):
            if key in table:
                value = table[key]
                if not isinstance(value, str) or not value.strip():
                    raise fail(key, f"{key} must be a non-empty string")
                values[key] = os.path.expanduser(value) if key != "log_format" else value
        if "threshold" in table:
            value = table["threshold"]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise fail("threshold", "threshold must be a number from 0 to 1")
            values["threshold"] = float(value)
        if "poll" in table:
            value = table["poll"]
            if not isinstance(value, bool) and (not isinstance(value, int | float) or value <= 0):
                raise fail("poll", "poll must be true, false or an interval in seconds (> 0)")
            values["poll"] = value if isinstance(value, bool) else float(value)
        if "backfill" in table:
            value = table["backfill"]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise fail("backfill", "backfill must be a whole number of lines (>= 0)")
            values["backfill"] = value
        if "min_severity" in table:
            value = table["min_severity"]
            if value not in SEVERITIES:
                raise fail("min_severity", f"min_severity must be one of {', '.join(SEVERITIES)}")
            values["min_severity"] = value
        if "allowlist" in table:
            entries = table["allowlist"]
            if not isinstance(entries, list):
                raise fail("allowlist", "allowlist must be an array of strings")
            try:  # one reading of the entries, into the allowlist the run matches with (no second one there)
                allow = Allowlist.parse([_allowlist_text(entry) for entry in entries])
            except AllowlistError:  # again one by one, for the first bad entry and its line
                for entry in entries:
                    try:
                        normalize_allowlist_entry(entry)
                    except AllowlistError as exc:
                        line = _line_of_value(text, entry) or _line_of_key(text, "allowlist")
                        raise ConfigError(path, line, str(exc)) from None
                raise  # pragma: no cover - the entries failed together but not one by one: a bug
            values["allowlist"] = tuple(allow.entries)
            values["parsed_allowlist"] = allow
        return cls(path=path, exists=True, **values)

    def defaults(self) -> dict[str, Any]:
        """The options this file sets, keyed by argparse ``dest`` (see :func:`threatlens.options.resolve_options`)."""
        return {key: getattr(self, key) for key in OPTION_KEYS if getattr(self, key) is not None}

    def save_allowlist(self, entries: Iterable[str]) -> Config:
        """Validate ``entries`` and write them as the file's ``allowlist``; return the new Config.

        Only the ``allowlist = [...]`` assignment changes (or is added before the first table);
        the rest of the file is kept byte for byte. The file and its directory are created if
        missing. Raises :class:`AllowlistError` for a bad entry and :class:`ConfigError` if the current
        file is malformed.
        """
        normalised = tuple(dict.fromkeys(normalize_allowlist_entry(e) for e in entries))
        current = Config.load(self.path)  # refuses to rewrite a file we cannot parse
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = "# ThreatLens configuration (see the README for every key)\n"
        new_text = _with_allowlist(text, normalised)
        check = tomllib.loads(new_text)
        if tuple(check.get("allowlist", ())) != normalised:  # pragma: no cover - a bug guard
            raise RuntimeError(f"{self.path}: allowlist did not round-trip")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = new_text.encode("utf-8")
        atomic_write(self.path, lambda fh: fh.write(payload), overwrite=True)
        return replace(current, allowlist=normalised, parsed_allowlist=None, exists=True)


# ---- locating a key or value for error messages ------------------------------------------------
_TOML_WHERE = re.compile(r" \((?:at line (\d+), column \d+|at end of document)\)$")


def _toml_error(message: str, text: str) -> tuple[str, int | None]:
    """(message without its position, line) of a :mod:`tomllib` error."""
    where = _TOML_WHERE.search(message)
    if where is None:
        return message, None
    line = int(where.group(1)) if where.group(1) else text.count("\n") + (not text.endswith("\n"))
    return message[:where.start()], line


def _line_of_key(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^[ \t]*(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')\s*=", re.M)
    m = pattern.search(text)
    return text.count("\n", 0, m.start()) + 1 if m else None


def _line_of_value(text: str, value: Any) -> int | None:
    if not isinstance(value, str) or not value:
        return None
    import tomlkit  # only for a message: reading a config does not import it

    for quoted in (tomlkit.string(value).as_string(), f"'{value}'"):
        pos = text.find(quoted)
        if pos >= 0:
            return text.count("\n", 0, pos) + 1
    return None


def _with_allowlist(text: str, entries: tuple[str, ...]) -> str:
    """``text`` with its top-level ``allowlist`` set to ``entries``, every other byte kept (tomlkit).

    An existing assignment is replaced where it stands; a new one goes before the first table.
    """
    import tomlkit

    doc = tomlkit.parse(text)
    array = tomlkit.array()
    array.extend(entries)
    array.multiline(bool(entries))
    doc["allowlist"] = array
    return tomlkit.dumps(doc)
