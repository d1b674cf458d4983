"""Log parsing: access-log format compiler, firewall logs, presets, auto-detection, typed records."""

from __future__ import annotations

from threatlens.errors import FormatError, ParseError, UnknownFormatError
from threatlens.parsers.base import MAX_LINE_BYTES, LineParser
from threatlens.parsers.detect import FormatGuess, detect_format
from threatlens.parsers.firewall import FirewallParser, FirewallRecord
from threatlens.parsers.jsonlines import JsonParser
from threatlens.parsers.presets import AUTO_CANDIDATES, COMBINED, COMMON, PRESETS, VHOST_COMBINED, get_parser
from threatlens.parsers.record import LogRecord, ParseResult, RawLine, Unparsed
from threatlens.parsers.regex_parser import RegexParser

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
