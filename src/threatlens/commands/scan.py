"""``threatlens scan``: the headless run, for cron, pipes and large archives."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TextIO

from threatlens.config import Config
from threatlens.csvrow import request_csv, row_line
from threatlens.errors import ExportError, ReadError, SourceError, UsageError
from threatlens.export import CSV_COLUMNS, alert_block_ips
from threatlens.models.verdict import Alert, Verdict, at_least
from threatlens.options import RunOptions, add_run_options, check_run_options, resolve_options
from threatlens.parsers import FirewallRecord, LogRecord, Unparsed
from threatlens.pipeline import Pipeline, Processed, alert_positions
from threatlens.scanner import build_pipeline, scan_paths
from threatlens.serialize import (
    REQUEST_COLUMNS,
    alert_dict,
    interrupted_dict,
    json_line,
    packet_dict,
    read_error_dict,
    request_dict,
    request_json,
    unparsed_dict,
)
from threatlens.sources import check_readable, is_stream
from threatlens.tail import FollowerError

OUTPUTS = ("table", "jsonl", "csv")
#: ``-j`` when not given.
DEFAULT_JOBS = "auto"


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``scan``."""
    p = sub.add_parser(
        "scan",
        help="parse and score access logs and firewall logs headless (files, .gz archives, stdin)",
        description="Parse every line of the given access logs and firewall logs, score each request, watch "
        "each client IP for attacks and port scans, and print a summary table, JSON lines or CSV. PATH may be "
        "a plain file, a .gz rotated archive, or - for standard input.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
        "  threatlens scan /var/log/nginx/access.log\n"
        "  threatlens scan --output jsonl --only-flagged access.log.*.gz > flagged.jsonl\n"
        "  threatlens scan --only-flagged --min-severity nuisance -o jsonl access.log  # bots and floods too\n"
        "  zcat access.log.2.gz | threatlens scan -\n"
        "  threatlens scan /var/log/nginx/access.log /var/log/ufw.log\n"
        "  journalctl -k -o short-iso | threatlens scan -\n"
        "  threatlens scan --follow /var/log/nginx/access.log\n"
        "exit status: 0 done (also Ctrl-C with --follow), 1 a bug (please report its traceback), 2 bad arguments\n"
        "  or unreadable input (an input that cannot be opened or read to its end is reported and skipped, the\n"
        "  others are scanned; the output says which), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM)",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="log file, .gz archive, or - for stdin")
    groups = add_run_options(p, follow_note="with --follow: ")
    groups["following"].add_argument(
        "--follow", "-f", action="store_true",
        help="keep reading as the files grow and rotate (like tail -F) until interrupted")
    par = p.add_argument_group("parallel scan")
    par.add_argument("--jobs", "-j", type=_jobs, default=DEFAULT_JOBS, metavar="N",
                     help="processes to use: N-1 parse the input, one scores, watches and counts in input order; "
                     "the output is byte for byte that of -j 1 (one process). auto (the default): one per free core, "
                     "at most 3; one for under 8 MB of input, and one when other programs leave less than 1.25 cores "
                     "free (measured over 0.1 s at the start). Standard input (-), pipes, FIFOs and --follow always "
                     "use one process")
    par.add_argument("--dask", metavar="SCHEDULER",
                     help="parse as Dask tasks on the cluster at SCHEDULER (tcp://host:8786), or local: a Dask "
                     "LocalCluster on this machine; the scan and its output stay here, identical to -j 1 "
                     "(pip install 'threatlens[dask]'; the workers must see the files at the same paths)")
    par.add_argument("--dask-workers", type=int, default=None, metavar="N",
                     help="worker processes of --dask local (default: one per core)")
    out = p.add_argument_group("output")
    out.add_argument("--output", "-o", choices=OUTPUTS, default="table",
                     help="table: summary with flagged requests and alerts (default); jsonl: one JSON object "
                     "per input line plus alert objects; csv: one row per input line (requests and unparsed "
                     "lines; alerts only in table and jsonl)")
    out.add_argument("--only-flagged", action="store_true",
                     help="print only flagged requests and alerts at --min-severity or above (jsonl/csv), "
                     "counts still cover every line")
    out.add_argument("--top", type=int, default=10, metavar="N", help="rows in each summary table (default 10)")
    exp = p.add_argument_group("export")
    exp.add_argument("--export-flagged", metavar="FILE",
                     help="write the flagged requests at --min-severity or above to FILE")
    exp.add_argument("--export-format", choices=("raw", "jsonl", "csv"), default="raw",
                     help="raw: the original lines byte for byte (default); jsonl; csv")
    exp.add_argument("--blocklist", metavar="FILE",
                     help="write the IPs with a flagged request or an alert at --min-severity or above to FILE")
    exp.add_argument("--blocklist-format", default="plain", metavar="FMT",
                     help="plain, nftables, ipset, nginx, apache, fail2ban or crowdsec (default plain)")
    exp.add_argument("--force", action="store_true", help="overwrite existing export files")
    exp.add_argument("--include-private", action="store_true",
                     help="keep loopback, private and link-local addresses in the block list (left out by default)")
    p.set_defaults(func=run)


def _jobs(text: str) -> str | int:
    """``-j``: ``auto`` or a number of processes from 1."""
    if text == "auto":
        return text
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of processes or auto, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"at least 1 process, got {n}")
    return n


def kept(verdict: Verdict | None, min_severity: str) -> bool:
    """Whether a request goes into flagged output: flagged, and of tier ``min_severity`` or above."""
    return verdict is not None and verdict.flagged and at_least(verdict.severity, min_severity)


def kept_alert(alert: Alert, min_severity: str) -> bool:
    """Whether an alert goes into flagged output and block lists (tier ``min_severity`` or above)."""
    return at_least(alert.severity, min_severity)


class Writer:
    """Writes each processed batch in the chosen output format, in input order.

    With ``only_flagged``, only requests and alerts of tier ``min_severity`` or above are written.
    """

    def __init__(self, output: str, only_flagged: bool, stream: TextIO, country: Callable[[str | None], Any],
                 min_severity: str = "attack") -> None:
        self.output = output
        self.only_flagged = only_flagged
        self.min_severity = min_severity
        self.stream = stream
        self.country = country
        self.csv = output == "csv"
        if self.csv:
            stream.write(",".join(CSV_COLUMNS) + "\r\n")

    def write(self, batch: Processed) -> None:
        """Print the lines of one batch; each alert right after the line that raised it."""
        if self.output == "table":
            return
        lines: list[str] = []
        alerts = [] if self.csv else batch.alerts
        if self.only_flagged:
            alerts = [a for a in alerts if kept_alert(a, self.min_severity)]
        after: dict[int, list[str]] = {}
        for at, alert in zip(alert_positions(batch.results, alerts) if alerts else (), alerts, strict=True):
            after.setdefault(at, []).append(json_line(alert_dict(alert, self.country(alert.ip))) + "\n")
        verdicts = batch.verdict_by_result()
        for index, (item, verdict) in enumerate(zip(batch.results, verdicts, strict=True)):
            if self.only_flagged and (type(item) is not LogRecord or not kept(verdict, self.min_severity)):
                pass
            else:
                try:
                    text = self._format(item, verdict)
                except Exception as exc:  # one line that cannot be written must not end the output
                    text = self._format(_output_failed(item, exc), None)
                lines.append(text)
            if after and index in after:
                lines.extend(after.pop(index))
        for rest in after.values():  # alerts whose line is not in the batch: flushed at the end of the input
            lines.extend(rest)
        if lines:
            self.stream.write("".join(lines))

    def note(self, row: dict[str, Any]) -> None:
        """Write a record about the input itself (a read error, an interruption), also with ``only_flagged``."""
        if self.output != "table":
            self.stream.write(row_line(row, CSV_COLUMNS) if self.csv else json_line(row) + "\n")

    def _format(self, item: LogRecord | FirewallRecord | Unparsed, verdict: Verdict | None) -> str:
        """One output line (with its newline) for ``item``."""
        kind = type(item)
        if kind is LogRecord:
            if self.csv:
                return request_csv(item, verdict, self.country(item.ip))  # type: ignore[arg-type]
            return request_json(item, verdict, self.country(item.ip)) + "\n"  # type: ignore[arg-type]
        row = packet_dict(item, self.country(item.src)) if kind is FirewallRecord else unparsed_dict(item)  # type: ignore[union-attr, arg-type]
        return row_line(row, CSV_COLUMNS) if self.csv else json_line(row) + "\n"


def _output_failed(item: LogRecord | FirewallRecord | Unparsed, exc: BaseException) -> Unparsed:
    """The unparsed record written in place of a line whose output failed."""
    return Unparsed(item.raw, f"output failed ({type(exc).__name__})", item.file, item.line, item.offset)


def run(args: argparse.Namespace) -> int:
    """Run the scan."""
    from threatlens.commands.scan_ui import ScanUi

    if (args.from_start or args.backfill is not None or args.poll) and not args.follow:
        raise UsageError("--from-start, --backfill and --poll go with --follow")
    check_run_options(args)
    if args.dask_workers is not None and (args.dask != "local" or args.dask_workers < 1):
        raise UsageError("--dask-workers N (N >= 1) goes with --dask local")
    if args.dask and args.jobs != DEFAULT_JOBS:
        raise UsageError("-j N and --dask do not go together: with --dask the cluster's workers parse "
                         "(--dask-workers N sets how many with --dask local)")
    config = Config.load(args.config)
    if args.config and not config.exists:
        raise UsageError(f"config file {args.config} does not exist")
    opts = resolve_options(config, args)
    if not args.follow:
        _check_inputs(args.paths)
    tolerant(sys.stdout)
    tolerant(sys.stderr)
    ui = ScanUi(enabled=args.output == "table" or not sys.stdout.isatty())
    exports = _Exports(args, opts.min_severity)  # checks the targets and opens the export's temporary file
    try:
        return _run(args, opts, ui, exports)
    except BaseException:
        exports.abort()
        raise


def _check_inputs(paths: list[str]) -> None:
    """Fail before anything starts when none of ``paths`` can be opened (else the scan reports each as it meets it)."""
    errors: list[ReadError] = []
    for path in paths:
        try:
            check_readable(path)
        except ReadError as exc:
            errors.append(exc)
    if errors and len(errors) == len(paths):
        raise SourceError("; ".join(dict.fromkeys(map(str, errors))))


def _run(args: argparse.Namespace, opts: RunOptions, ui: Any, exports: _Exports) -> int:
    parsers = _start_parsers(args, opts, ui)  # before the model loads: they start while it does
    try:
        return _run_with(args, opts, ui, exports, parsers)
    finally:
        if parsers is not None:
            parsers.close()


def _start_parsers(args: argparse.Namespace, opts: RunOptions, ui: Any) -> Any:
    """The parsing processes of ``-j N`` or ``--dask`` (``None``: this process does it all).

    What ``-j auto`` chose for a large input is said on a terminal, beside the progress bar.
    """
    nginx_conf = None if opts.nginx_conf is None else str(opts.nginx_conf)
    if args.dask:
        if args.follow or any(map(is_stream, args.paths)):
            raise UsageError("--dask scans regular files: not standard input (-), a pipe or a FIFO, not --follow")
        from threatlens.parallel.cluster import DaskParsers
        from threatlens.parallel.units import ParseSpec

        return DaskParsers(args.paths, ParseSpec(opts.log_format, nginx_conf), args.dask, workers=args.dask_workers)
    if args.jobs == 1 or args.follow or any(map(is_stream, args.paths)):  # a pipe or FIFO: read once, by one
        return None
    from threatlens.parallel.jobs import choose_jobs

    jobs, why = choose_jobs(args.jobs, args.paths)
    if why is not None and ui.show_progress:
        ui.info(f"-j auto: {jobs} process{'es' if jobs > 1 else ''} ({why})")
    if jobs < 2:
        return None
    from threatlens.parallel.local import LocalParsers
    from threatlens.parallel.units import ParseSpec

    return LocalParsers(args.paths, ParseSpec(opts.log_format, nginx_conf), jobs - 1)


def _run_with(args: argparse.Namespace, opts: RunOptions, ui: Any, exports: _Exports, parsers: Any) -> int:
    pipeline = build_pipeline(
        log_format=opts.log_format, nginx_conf=opts.nginx_conf, detect=opts.detect, model=opts.model,
        threshold=opts.threshold, baseline=opts.baseline, allowlist=opts.allowlist,
        parsed_allowlist=opts.parsed_allowlist, geoip_db=opts.geoip_db,
        on_message=ui.info, on_warning=ui.warn)
    stats = pipeline.stats
    geo = stats.geo

    def country(ip: str | None) -> str | None:
        return geo.country(ip) if ip else None

    writer = Writer(args.output, args.only_flagged, sys.stdout, country, opts.min_severity)
    exports.country = country
    ui.restart_clock()  # throughput in the summary counts from the first line, after start-up
    status = 0
    failed: list[ReadError] = []

    def on_error(error: ReadError) -> None:  # the input's lines before it are out: say so, go on with the next
        failed.append(error)
        ui.error(str(error))
        with _uninterrupted():
            writer.note(read_error_dict(error))
            writer.stream.flush()

    previous = signal.signal(signal.SIGTERM, _terminate)  # systemd's stop: finish the exports, then exit
    previous_int = signal.signal(signal.SIGINT, _interrupt)
    try:
        if args.follow:
            _follow(args.paths, opts, pipeline, writer, exports, ui)
        else:
            def on_batch(done: Processed, lines: int) -> None:
                ui.count(lines)  # first: a signal held while the batch is written takes effect after it
                _emit(done, writer, exports)

            if parsers is not None:
                from threatlens.parallel.local import scan_units

                scan_units(pipeline, args.paths, parsers.units(), on_batch=on_batch, progress=ui.progress_for,
                           on_error=on_error)
            else:
                scan_paths(pipeline, args.paths, on_batch=on_batch, progress=ui.progress_for, on_error=on_error)
    except FollowerError as exc:  # the follower's reader thread failed: a read error is the user's to fix
        if not isinstance(exc.__cause__, OSError):
            raise
        raise SourceError(f"following stopped: {exc}") from None
    except KeyboardInterrupt:
        status = 0 if args.follow else 130
    except _Terminated:
        status = 128 + signal.SIGTERM
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
    # a scan of whole inputs that a signal stopped covers part of them (a follow has no end to reach)
    stopped_by = None if args.follow else {130: "SIGINT", 128 + signal.SIGTERM: "SIGTERM"}.get(status)
    if stopped_by is not None:
        with _uninterrupted():
            writer.note(interrupted_dict(stopped_by, ui.lines))
    exports.finish(ui, interrupted=status != 0, incomplete=[e.file for e in failed])
    if args.output == "table":
        if status and not ui.lines:  # stopped before a line came (a FIFO without a writer): no empty tables
            ui.info("interrupted before any line was processed")
        else:
            ui.summary(stats, pipeline, top=args.top, files=len(set(args.paths)), incomplete=failed,
                       interrupted=stopped_by)
    return status or (2 if failed else 0)


class _Terminated(BaseException):
    """SIGTERM arrived (a BaseException, so the per-line error handling never takes it for a bad line)."""


class _Hold:
    """Whether output is being written, and the stop that arrived meanwhile (raised when it is done)."""

    depth = 0
    pending: BaseException | None = None


def _stop(exc: BaseException) -> None:
    if _Hold.depth:  # the kernel gave the signal to another thread: Python still runs us in the main one
        _Hold.pending = _Hold.pending or exc
        return
    raise exc


def _terminate(_signum: int, _frame: Any) -> None:
    _stop(_Terminated())


def _interrupt(_signum: int, _frame: Any) -> None:
    _stop(KeyboardInterrupt())


@contextlib.contextmanager
def _uninterrupted() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block is done; they take effect right after it.

    A signal that interrupts a blocked write to a pipe makes Python's buffered writer drop the
    rest of its buffer: output would end inside a line. Blocked, the signal waits for the write.
    The mask holds only this thread: a signal the kernel hands to a follower thread still runs its
    Python handler here, which then only notes it, so stdout and the exports always get the same
    batches.
    """
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    _Hold.depth += 1
    try:
        yield
    finally:
        _Hold.depth -= 1
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        pending, _Hold.pending = _Hold.pending, None
        if pending is not None and not _Hold.depth:
            raise pending


def tolerant(stream: TextIO) -> TextIO:
    """``stream``, set to write text it cannot encode as escapes rather than raise mid-output."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")
    return stream


def _follow(paths: list[str], opts: RunOptions, pipeline: Pipeline, writer: Writer, exports: _Exports,
            ui: Any) -> None:
    from threatlens.tail import Follower

    start = "start" if opts.from_start else "end"
    timing = {"poll_interval": opts.poll_interval} if opts.poll_interval else {}
    follower = Follower(paths, start=start, backfill=opts.backfill, poll=opts.poll,
                        on_message=lambda level, text: ui.info(text), **timing)
    terminated = False
    try:
        with follower:  # ends at Ctrl-C or SIGTERM, or when standard input (-) was the only input and it ended
            for batch in follower.batches():
                _emit(pipeline.process(batch), writer, exports)
    except KeyboardInterrupt:
        pass  # stop() has run: it read what was in the files and queued any unfinished last line
    except _Terminated:
        terminated = True
    while (batch := follower.get_batch(0)) is not None and batch:
        _emit(pipeline.process(batch), writer, exports)
    _emit(pipeline.process([], final=True), writer, exports)
    if terminated:
        raise _Terminated


def _emit(done: Processed, writer: Writer, exports: _Exports) -> None:
    with _uninterrupted():
        writer.write(done)
        writer.stream.flush()
        exports.add(done)


class _Exports:
    """Streams flagged lines to ``--export-flagged`` as they come; collects IPs for ``--blocklist``.

    Both keep requests and alerts of tier ``min_severity`` or above.
    """

    def __init__(self, args: argparse.Namespace, min_severity: str) -> None:
        from threatlens.export import BLOCKLIST_FORMATS, ExportStream, writable_target

        self.args = args
        self.min_severity = min_severity
        self.ips: set[str] = set()
        self.country: Callable[[str | None], str | None] = lambda _ip: None  # set once geo is loaded
        self.wanted = bool(args.export_flagged or args.blocklist)
        self.stream: ExportStream | None = None
        if args.blocklist and args.blocklist_format not in BLOCKLIST_FORMATS:
            raise UsageError(f"unknown --blocklist-format {args.blocklist_format!r}: "
                             f"use one of {', '.join(BLOCKLIST_FORMATS)}")
        try:
            if args.blocklist:
                writable_target(args.blocklist, overwrite=args.force)
            if args.export_flagged:
                self.stream = ExportStream(args.export_flagged, args.export_format, columns=REQUEST_COLUMNS,
                                           overwrite=args.force)
        except FileExistsError as exc:
            raise ExportError(f"{exc.filename} exists: choose another name or pass --force to overwrite") from None

    def add(self, done: Processed) -> None:
        """Write the batch's flagged lines to the export; note the IPs for the block list."""
        if not self.wanted or done.verdicts is None:
            return
        stream = self.stream
        raw = self.args.export_format == "raw"
        for record, verdict in zip(done.records, done.verdicts, strict=True):
            if kept(verdict, self.min_severity):
                self.ips.add(record.ip or "")
                if stream is not None:
                    stream.add(record.raw if raw else request_dict(record, verdict, self.country(record.ip)))
        for alert in done.alerts:
            if kept_alert(alert, self.min_severity):
                self.ips.update(alert_block_ips(alert))
        self.ips.discard("")

    def finish(self, ui: Any, *, interrupted: bool = False, incomplete: Sequence[str] = ()) -> None:
        """Put the export in place and write the block list (atomically), also after an interruption.

        ``incomplete``: the inputs not read to their end (their lines before that are in).
        """
        from threatlens import export

        args = self.args
        so_far = " (interrupted: what was read until then)" if interrupted else ""
        if incomplete:
            so_far += f" (input incomplete: {', '.join(incomplete)} not read to the end)"
        tier = "attack tier" if self.min_severity == "attack" else f"{self.min_severity} tier and above"
        try:
            if self.stream is not None:
                n = self.stream.commit()
                ui.info(f"exported {n} flagged lines ({tier}) to {args.export_flagged}{so_far}")
            if args.blocklist:
                private = args.include_private
                n = export.write_blocklist(args.blocklist, sorted(self.ips), args.blocklist_format,
                                           overwrite=args.force, include_private=private)
                left = export.left_out_notice(export.blockable(self.ips, include_private=private)[1])
                if left:
                    ui.info(left)
                ui.info(f"wrote {n} IPs ({args.blocklist_format}, {tier}) to {args.blocklist}{so_far}")
        except (OSError, ExportError) as exc:
            raise ExportError(f"export failed: {exc}") from None

    def abort(self) -> None:
        """Drop the unfinished export (an error ended the scan)."""
        if self.stream is not None:
            self.stream.abort()
