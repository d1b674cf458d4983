"""Every error ThreatLens raises for something the user can fix, under one base class.

The program boundaries (``threatlens`` and its subcommands, ``threatlens-tui``) catch
:class:`ThreatLensError` and nothing broader: its ``str()`` is printed as one line on stderr and
the exit status is 2. Any other exception is a bug and keeps its traceback. Code that turns an
``OSError`` or a library's ``ValueError`` into one of these does so where the call is made, so
the message can say which file or option was at fault.
"""

from __future__ import annotations

import os

__all__ = [
    "AllowlistError",
    "ConfigError",
    "DataError",
    "ExportError",
    "FieldError",
    "FilterError",
    "FormatError",
    "ModelError",
    "ParseError",
    "ReadError",
    "SourceError",
    "ThreatLensError",
    "UnknownFormatError",
    "UsageError",
]


class ThreatLensError(Exception):
    """Base class: the user's input, options, files or environment are at fault, not the code."""


class UsageError(ThreatLensError):
    """Command-line options that contradict each other or are out of range."""


class ConfigError(ThreatLensError):
    """A config file that cannot be used; ``str()`` is ``path:line: message``."""

    def __init__(self, path: str | os.PathLike[str], line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


class AllowlistError(ThreatLensError):
    """An allowlist entry that is not an address, a network, ``path:GLOB`` or ``agent:GLOB``."""


class FormatError(ThreatLensError):
    """A log format (preset name, Apache LogFormat, nginx log_format, nginx.conf) that cannot be used."""


class UnknownFormatError(FormatError):
    """The log format of a file could not be detected from its first lines."""


class ParseError(ThreatLensError):
    """Raised by ``LineParser.parse`` for a line that does not match; carries the line."""

    def __init__(self, reason: str, line: str | bytes) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


class FieldError(ThreatLensError):
    """A field of a log line holds a value of the wrong kind; the line becomes ``Unparsed``."""


class FilterError(ThreatLensError):
    """A filter expression typed by the user that cannot be parsed; names the bad term."""


class SourceError(ThreatLensError):
    """An input log that cannot be opened or read to the end."""


class ReadError(SourceError):
    """Reading one input stopped: it could not be opened (``line`` 0) or failed after line ``line``.

    ``threatlens scan`` reports it and goes on with the next input. It travels between processes
    (``-j``, Dask) with its fields, so every mode reports it alike.
    """

    def __init__(self, file: str, line: int, reason: str, text: str | None = None) -> None:
        self.file = file
        self.line = line
        self.reason = reason
        where = f"after line {line}" if line else "before its first line"
        super().__init__(text or f"{file}: read error {where}: {reason}")

    def __reduce__(self) -> tuple[type[ReadError], tuple[str, int, str, str]]:
        return type(self), (self.file, self.line, self.reason, str(self))


class ModelError(ThreatLensError):
    """A model or behaviour-baseline file that cannot be used, or a threshold out of range."""


class ExportError(ThreatLensError):
    """An export or block list that cannot be written as asked (format, name, destination)."""


class DataError(ThreatLensError):
    """Labelled or historical data for training and evaluation that cannot be used."""
