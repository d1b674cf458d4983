"""``--log-format auto``: try the presets on the first lines and pick the most specific that parses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from threatlens.errors import UnknownFormatError
from threatlens.parsers.base import LineParser
from threatlens.parsers.firewall import FirewallParser, FirewallRecord
from threatlens.parsers.presets import AUTO_CANDIDATES, get_parser
from threatlens.parsers.record import LogRecord, RawLine

SAMPLE_LINES = 50


@dataclass
class FormatGuess:
    """The outcome of auto-detection: the chosen parser and how each candidate fared."""

    parser: LineParser
    parsed: int
    sampled: int
    scores: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        """One line for the user: which format was chosen and on what evidence."""
        return (f"log format: {self.parser.name} (auto-detected: {self.parsed}/{self.sampled} "
                f"sample lines parse)")


def detect_format(lines: Sequence[bytes], *, source: str = "-") -> FormatGuess:
    """Choose a parser for ``lines`` (raw bytes without newlines; blank lines are skipped)."""
    sample = [line for line in lines if line.strip()][:SAMPLE_LINES]
    if not sample:
        raise UnknownFormatError(f"{source}: no non-empty lines to detect the log format from")
    best: tuple[int, int, int] | None = None
    chosen: LineParser | None = None
    scores: dict[str, int] = {}
    for rank, name in enumerate(AUTO_CANDIDATES):
        parser = get_parser(name)
        ok = sum(isinstance(parser.parse_raw(RawLine(source, i + 1, 0, line)), (LogRecord, FirewallRecord))
                 for i, line in enumerate(sample))
        scores[name] = ok
        key = (ok, parser.specificity, -rank)
        if ok and (best is None or key > best):
            best, chosen = key, parser
    if chosen is None or best is None:
        kernel = FirewallParser()
        if sum(map(kernel.looks_like_kernel_log, sample)) * 2 >= len(sample):
            # a kernel log (kern.log, journalctl -k) whose first lines hold no packet yet
            return FormatGuess(kernel, 0, len(sample), scores)
        first = sample[0].decode("utf-8", "backslashreplace")
        if len(first) > 200:
            first = first[:200] + "…"
        raise UnknownFormatError(
            f"{source}: no known log format parses the first {len(sample)} lines "
            f"(tried {', '.join(AUTO_CANDIDATES)}). First line: {first!r}. "
            "Pass --log-format with a preset name, an Apache LogFormat or nginx log_format string, "
            "or --nginx-conf /etc/nginx/nginx.conf")
    return FormatGuess(chosen, best[0], len(sample), scores)
