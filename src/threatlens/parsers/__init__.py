"""Log parsing: access-log format compiler, firewall logs, presets, auto-detection, typed records."""

from __future__ import annotations

from typing import TYPE_CHECKING

from threatlens.errors import FormatError, ParseError, UnknownFormatError
from threatlens.lazy import lazy_exports

if TYPE_CHECKING:
    from threatlens.parsers.base import MAX_LINE_BYTES, LineParser
    from threatlens.parsers.detect import FormatGuess, detect_format
    from threatlens.parsers.firewall import FirewallParser, FirewallRecord
    from threatlens.parsers.jsonlines import JsonParser
    from threatlens.parsers.presets import AUTO_CANDIDATES, COMBINED, COMMON, PRESETS, VHOST_COMBINED, get_parser
    from threatlens.parsers.record import LogRecord, ParseResult, RawLine, Unparsed
    from threatlens.parsers.regex_parser import RegexParser

#: Where each name lives: a submodule is imported when one of its names is first used, so importing
#: ``threatlens.parsers.record`` (the monitor's UI does, for the types) does not compile every format.
_LAZY = {
    "MAX_LINE_BYTES": "base", "LineParser": "base",
    "FormatGuess": "detect", "detect_format": "detect",
    "FirewallParser": "firewall", "FirewallRecord": "firewall",
    "JsonParser": "jsonlines",
    "AUTO_CANDIDATES": "presets", "COMBINED": "presets", "COMMON": "presets", "PRESETS": "presets",
    "VHOST_COMBINED": "presets", "get_parser": "presets",
    "LogRecord": "record", "ParseResult": "record", "RawLine": "record", "Unparsed": "record",
    "RegexParser": "regex_parser",
}

__getattr__ = lazy_exports(__name__, _LAZY)


__all__ = [
    "AUTO_CANDIDATES",
    "COMBINED",
    "COMMON",
    "MAX_LINE_BYTES",
    "PRESETS",
    "VHOST_COMBINED",
    "FirewallParser",
    "FirewallRecord",
    "FormatError",
    "FormatGuess",
    "JsonParser",
    "LineParser",
    "LogRecord",
    "ParseError",
    "ParseResult",
    "RawLine",
    "RegexParser",
    "UnknownFormatError",
    "Unparsed",
    "detect_format",
    "get_parser",
]
