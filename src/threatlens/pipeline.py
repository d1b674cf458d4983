"""Parse → score → aggregate, one batch at a time: the engine shared by ``scan`` and the monitor."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from threatlens.models.allowlist import Allowlist
from threatlens.models.verdict import Alert, Verdict
from threatlens.parsers import FirewallRecord, LineParser, LogRecord, RawLine, Unparsed, detect_format, get_parser
from threatlens.parsers.detect import SAMPLE_LINES, UnknownFormatError


class DetectionLike(Protocol):
    """What the pipeline and the monitor use of detection (``threatlens.models.detection.Detection``).

    Detection owns the flag threshold and the allowlist: the monitor sets them here and reads the
    threshold back; allowlisted requests come out of ``process`` unflagged and raise no alert.
    """

    #: the per-request scorer (``None``: behaviour detectors only); its ``info`` names the model
    scorer: Any
    allowlist: Allowlist

    @property
    def threshold(self) -> float | None:
        """The score at or above which a request is flagged."""
        ...

    @threshold.setter
    def threshold(self, value: float) -> None: ...

    def process(self, records: Sequence[LogRecord]) -> tuple[list[Verdict], list[Alert]]:
        """Score a batch; return verdicts parallel to ``records`` and new alerts."""
        ...

    def flush(self) -> list[Alert]:
        """The input ended for good: the alerts that were waiting for log time to pass."""
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


def alert_positions(results: Sequence[LogRecord | FirewallRecord | Unparsed], alerts: Sequence[Alert]) -> list[int]:
    """Per alert, the index in ``results`` of the line that raised it (its ``file`` and ``last_line``).

    ``len(results)`` for an alert whose line is not in the batch (a flush at the end of the input).
    """
    wanted = {(a.file, a.last_line) for a in alerts}
    found: dict[tuple[str, int], int] = {}
    for index, item in enumerate(results):
        key = (item.file, item.line)
        if key in wanted and key not in found:
            found[key] = index
            if len(found) == len(wanted):
                break
    end = len(results)
    return [found.get((a.file, a.last_line), end) for a in alerts]


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
        #: file -> name of the format detected for it (also those detected by parallel parsers)
        self.formats: dict[str, str] = {}
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
        return sorted(set(self.formats.values()))

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
        self.formats[file] = found.parser.name
        self.on_message(f"{file}: {found.describe()}")
        return found.parser

    def process(self, batch: Sequence[RawLine], *, final: bool = False, ended: bool = False) -> Processed:
        """Parse, score and aggregate one batch. ``final`` flushes held lines (end of input).

        ``ended`` (with ``final``, for a scan of finished inputs, not a follow that merely stops) also
        flushes the detectors that wait for log time to pass (campaigns waiting for quiet members).
        """
        return self.complete(self.parse(batch, final=final), ended=ended)

    def parse(self, batch: Sequence[RawLine], *, final: bool = False) -> list[LogRecord | FirewallRecord | Unparsed]:
        """The parsing half of :meth:`process`: the batch's results in input order (held lines included)."""
        results: list[LogRecord | FirewallRecord | Unparsed] = []
        for file, lines in self._by_file(batch, final).items():
            parser = self._parser_or_hold(file, lines, final, results)
            if parser is not None:
                results.extend(_parse(parser, lines))
        return results

    def skip(self, batch: Sequence[RawLine]) -> None:
        """Keep the format detection and held lines exactly as :meth:`parse` would, without parsing.

        For a process that parses only some of the batches (``threatlens.parallel``): the lines of
        a batch whose parser is found here are someone else's to parse; its detection still counts.
        """
        for file, lines in self._by_file(batch, False).items():
            self._parser_or_hold(file, lines, False, [])

    def complete(self, results: list[LogRecord | FirewallRecord | Unparsed], *, ended: bool = False,
                 requests_only: bool = False) -> Processed:
        """The second half of :meth:`process`: score, watch and aggregate parsed ``results``.

        ``requests_only``: the caller knows every result is a ``LogRecord`` (no pass to sort them).
        """
        out = Processed(results=results)
        if requests_only:
            out.records = list(results)  # type: ignore[arg-type]
        else:
            self._split(out)
        if self.detection is not None and out.records:
            self._score(out)
        elif self.detection is not None:
            out.verdicts = []
        if self.detection is not None and ended:
            out.alerts.extend(self.detection.flush())
        if self.portscan is not None and out.packets:
            out.alerts.extend(self.portscan.observe(out.packets))
        if self.crossref is not None and (out.records or out.alerts):
            out.alerts.extend(self.crossref.observe(out.records, out.verdicts, out.alerts))
        if len(out.alerts) > 1:  # line order, so the monitor's feed numbers them as the output places them
            at = alert_positions(results, out.alerts)
            out.alerts = [out.alerts[i] for i in sorted(range(len(at)), key=at.__getitem__)]
        if self.stats is not None:
            self._aggregate(out)
        return out

    def held(self) -> dict[str, list[RawLine]]:
        """The lines held for format detection, per file (a copy)."""
        return {file: list(lines) for file, lines in self._held.items()}

    def hold(self, file: str, lines: Sequence[RawLine]) -> None:
        """Set the lines of ``file`` held for format detection (as reported by a process that parses for this one)."""
        self._held.pop(file, None)
        if lines:
            self._held[file] = list(lines)

    def _by_file(self, batch: Sequence[RawLine], final: bool) -> dict[str, list[RawLine]]:
        by_file: dict[str, list[RawLine]] = {}
        if batch and batch[0].file == batch[-1].file and len({raw.file for raw in batch}) == 1:
            by_file[batch[0].file] = list(batch)  # the usual case: one file per batch
        else:
            for raw in batch:
                by_file.setdefault(raw.file, []).append(raw)
        if final:
            for file in list(self._held):
                by_file.setdefault(file, [])
        return by_file

    def _parser_or_hold(self, file: str, lines: list[RawLine], final: bool,
                        results: list[LogRecord | FirewallRecord | Unparsed]) -> LineParser | None:
        """The parser for ``file``'s ``lines`` (held ones first, in place); ``None`` if they are held or unparsed."""
        held = self._held.pop(file, None)
        if held:
            lines[:0] = held
        if not lines:
            return None
        try:
            parser = self._resolve(file, lines, final)
        except UnknownFormatError as exc:
            if self.strict:
                raise
            if file not in self._unknown:  # say it once per file, not once per batch
                self._unknown.add(file)
                self.on_message(str(exc))
            reason = "unknown log format (see --log-format)"
            results.extend(Unparsed(r.data, reason, r.file, r.line, r.offset) for r in lines)
            return None
        if parser is None:
            self._held[file] = lines
        return parser

    @staticmethod
    def _split(out: Processed) -> None:
        records = out.records = []
        unparsed = out.unparsed = []
        packets = out.packets = []
        for item in out.results:
            kind = type(item)
            into: list[Any] = records if kind is LogRecord else packets if kind is FirewallRecord else unparsed
            into.append(item)

    def _score(self, out: Processed) -> None:
        """Score the batch; if that fails, score line by line and turn the failing lines into unparsed ones."""
        assert self.detection is not None
        try:
            out.verdicts, out.alerts = self.detection.process(out.records)
            return
        except Exception:  # one bad line must not stop the others: retried line by line below
            pass
        verdicts: list[Verdict] = []
        alerts: list[Alert] = []
        failed: dict[int, Unparsed] = {}
        for index, record in enumerate(out.records):
            try:
                one, new = self.detection.process([record])
            except Exception as exc:
                failed[index] = _failed(record, "scoring", exc)
                continue
            verdicts.extend(one)
            alerts.extend(new)
        _replace(out, failed)
        out.verdicts, out.alerts = verdicts, alerts

    def _aggregate(self, out: Processed) -> None:
        """Count the batch; if that fails, count line by line and turn the failing lines into unparsed ones.

        The aggregates are not transactional: lines of a batch that failed part-way may be counted
        twice. That path is for bugs; it keeps the monitor reading instead of stopping it.
        """
        stats = self.stats
        assert stats is not None
        try:
            stats.update(out.records, out.verdicts, out.alerts, out.unparsed, out.packets)
            return
        except Exception:  # retried line by line below
            pass
        failed: dict[int, Unparsed] = {}
        failed_packets: dict[int, Unparsed] = {}
        verdicts = out.verdicts
        for index, record in enumerate(out.records):
            try:
                stats.update([record], None if verdicts is None else [verdicts[index]], (), ())
            except Exception as exc:
                failed[index] = _failed(record, "counting", exc)
        alerts = []
        for alert in out.alerts:
            try:
                stats.update([], None if verdicts is None else [], [alert], ())
                alerts.append(alert)
            except Exception as exc:
                self.on_message(f"an alert for {alert.ip} could not be counted: {_describe(exc)}")
        for index, packet in enumerate(out.packets):
            try:
                stats.update([], None if verdicts is None else [], (), (), [packet])
            except Exception as exc:
                failed_packets[index] = _failed(packet, "counting", exc)
        out.alerts = alerts
        if verdicts is not None:
            out.verdicts = [v for i, v in enumerate(verdicts) if i not in failed]
        _replace(out, failed)
        _replace(out, failed_packets, FirewallRecord)
        if failed or failed_packets:
            stats.update([], None if verdicts is None else [], (), [*failed.values(), *failed_packets.values()])

    @property
    def held_lines(self) -> int:
        """Lines waiting for format detection."""
        return sum(len(v) for v in self._held.values())


def _describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:100]}" if text else type(exc).__name__


def _failed(item: LogRecord | FirewallRecord | RawLine, stage: str, exc: BaseException) -> Unparsed:
    """The unparsed record standing for a line whose ``stage`` raised ``exc``."""
    data = item.data if isinstance(item, RawLine) else item.raw
    return Unparsed(data, f"{stage} failed ({_describe(exc)})", item.file, item.line, item.offset)


def _parse(parser: LineParser, lines: list[RawLine]) -> list[LogRecord | Unparsed]:
    """Parse a batch; a line whose parser raises becomes unparsed instead of ending the batch."""
    try:
        return parser.parse_batch(lines)
    except Exception:
        results: list[LogRecord | Unparsed] = []
        for raw in lines:
            try:
                results.append(parser.parse_raw(raw))
            except Exception as exc:
                results.append(_failed(raw, "parsing", exc))
        return results


def _replace(out: Processed, failed: dict[int, Unparsed], kind: type = LogRecord) -> None:
    """Put ``failed[i]`` in place of the i-th ``kind`` item of ``out.results``, and split them again."""
    if not failed:
        return
    index = -1
    results = out.results
    for position, item in enumerate(results):
        if type(item) is kind:
            index += 1
            if index in failed:
                results[position] = failed[index]
    Pipeline._split(out)
