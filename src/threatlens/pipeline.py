"""Parse → score → aggregate, one batch at a time: the engine shared by ``scan`` and the monitor."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from threatlens.models.verdict import Alert, Verdict
from threatlens.parsers import FirewallRecord, LineParser, LogRecord, RawLine, Unparsed, detect_format, get_parser
from threatlens.parsers.detect import SAMPLE_LINES, UnknownFormatError


class DetectionLike(Protocol):
    """What the pipeline needs from detection (``threatlens.models.detection.Detection``)."""

    def process(self, records: Sequence[LogRecord]) -> tuple[list[Verdict], list[Alert]]:
        """Score a batch; return verdicts parallel to ``records`` and new alerts."""
        ...


class PortScanLike(Protocol):
    """What the pipeline needs from port-scan detection (``threatlens.models.portscan.PortScanDetector``)."""

    def observe(self, records: Sequence[FirewallRecord]) -> list[Alert]:
        """Watch a batch of firewall records; return new alerts."""
        ...


class CrossSourceLike(Protocol):
    """What the pipeline needs to relate one IP's firewall and web activity (``models.crossref``)."""

    def observe(self, records: Sequence[LogRecord], verdicts: Sequence[Verdict] | None,
                alerts: Sequence[Alert]) -> list[Alert]:
        """Take a batch's requests, verdicts and alerts (web and port-scan); return new alerts."""
        ...


@dataclass
class Processed:
    """The outcome of one batch; ``results`` keeps input order (one entry per input line).

    ``records`` are the requests, ``packets`` the firewall records, ``unparsed`` the rest.
    """

    results: list[LogRecord | FirewallRecord | Unparsed] = field(default_factory=list)
    records: list[LogRecord] = field(default_factory=list)
    packets: list[FirewallRecord] = field(default_factory=list)
    unparsed: list[Unparsed] = field(default_factory=list)
    verdicts: list[Verdict] | None = None
    alerts: list[Alert] = field(default_factory=list)

    def verdict_by_result(self) -> list[Verdict | None]:
        """Verdicts aligned with ``results`` (``None`` for unparsed lines or without detection)."""
        if self.verdicts is None:
            return [None] * len(self.results)
        it = iter(self.verdicts)
        return [next(it) if isinstance(r, LogRecord) else None for r in self.results]


class Pipeline:
    """Turns batches of raw lines into records, verdicts and alerts, and feeds the aggregates.

    With ``log_format="auto"`` each file gets its own detected parser; lines of a file whose
    format is not known yet are held (never dropped) until detection has enough lines.
    """

    def __init__(
        self,
        *,
        log_format: str = "auto",
        nginx_conf: str | Path | None = None,
        detection: DetectionLike | None = None,
        portscan: PortScanLike | None = None,
        crossref: CrossSourceLike | None = None,
        stats: Any | None = None,
        on_message: Callable[[str], None] | None = None,
        strict: bool = True,
    ) -> None:
        self.log_format = log_format
        self.detection = detection
        #: port-scan detection over firewall records, and the web/firewall correlation (both optional)
        self.portscan = portscan
        self.crossref = crossref
        self.stats = stats
        self.on_message = on_message or (lambda _msg: None)
        self._fixed: LineParser | None = None
        if nginx_conf is not None or log_format != "auto":
            self._fixed = get_parser(log_format, nginx_conf=nginx_conf)
        self._parsers: dict[str, LineParser] = {}
        self._held: dict[str, list[RawLine]] = {}
        #: strict: a file whose format cannot be detected raises ``UnknownFormatError`` (scan stops with
        #: the message); not strict: its lines become unparsed ("unknown log format") and detection is
        #: tried again on the lines that follow (the live monitor keeps running).
        self.strict = strict
        self._unknown: set[str] = set()

    def parser_for(self, file: str) -> LineParser | None:
        """The parser in use for ``file`` (``None`` while auto-detection waits for lines)."""
        return self._fixed or self._parsers.get(file)

    @property
    def format_names(self) -> list[str]:
        """Names of the formats in use, for display."""
        if self._fixed is not None:
            return [self._fixed.name]
        return sorted({p.name for p in self._parsers.values()})

    def _resolve(self, file: str, lines: list[RawLine], final: bool) -> LineParser | None:
        parser = self.parser_for(file)
        if parser is not None:
            return parser
        sample = [r.data for r in lines if r.data.strip()]
        try:
            found = detect_format(sample, source=file)
        except UnknownFormatError:
            if not final and len(sample) < SAMPLE_LINES:
                return None
            raise
        self._parsers[file] = found.parser
        self.on_message(f"{file}: {found.describe()}")
        return found.parser

    def process(self, batch: Sequence[RawLine], *, final: bool = False) -> Processed:
        """Parse, score and aggregate one batch. ``final`` flushes held lines (end of input)."""
        out = Processed()
        by_file: dict[str, list[RawLine]] = {}
        if batch and batch[0].file == batch[-1].file and len({raw.file for raw in batch}) == 1:
            by_file[batch[0].file] = list(batch)  # the usual case: one file per batch
        else:
            for raw in batch:
                by_file.setdefault(raw.file, []).append(raw)
        if final:
            for file in list(self._held):
                by_file.setdefault(file, [])
        for file, lines in by_file.items():
            held = self._held.pop(file, None)
            if held:
                lines = held + lines
            if not lines:
                continue
            try:
                parser = self._resolve(file, lines, final)
            except UnknownFormatError as exc:
                if self.strict:
                    raise
                if file not in self._unknown:  # say it once per file, not once per batch
                    self._unknown.add(file)
                    self.on_message(str(exc))
                reason = "unknown log format (see --log-format)"
                out.results.extend(Unparsed(r.data, reason, r.file, r.line, r.offset) for r in lines)
                continue
            if parser is None:
                self._held[file] = lines
                continue
            out.results.extend(parser.parse_batch(lines))
        records = out.records
        unparsed = out.unparsed
        packets = out.packets
        for item in out.results:
            kind = type(item)
            into: list[Any] = records if kind is LogRecord else packets if kind is FirewallRecord else unparsed
            into.append(item)
        if self.detection is not None and records:
            out.verdicts, out.alerts = self.detection.process(records)
        elif self.detection is not None:
            out.verdicts = []
        if self.portscan is not None and packets:
            out.alerts.extend(self.portscan.observe(packets))
        if self.crossref is not None and (records or out.alerts):
            out.alerts.extend(self.crossref.observe(records, out.verdicts, out.alerts))
        if self.stats is not None:
            self.stats.update(records, out.verdicts, out.alerts, unparsed, packets)
        return out

    @property
    def held_lines(self) -> int:
        """Lines waiting for format detection."""
        return sum(len(v) for v in self._held.values())
