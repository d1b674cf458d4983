"""``python -m threatlens.demo`` (``make demo``): the live monitor on growing copies of the sample logs.

Copies ``sample_logs/combined.log`` and the same host's firewall log ``sample_logs/ufw.log`` (or
generates the same kind of traffic when the package was installed without the repository) into a
temporary directory, appends a realistic mix of browsing, crawlers and attacks to the access log and
the internet's knocks plus a port scan every minute and a half to the firewall log from background
threads, and opens ``threatlens-tui --from-start`` on both. Appended lines continue each log's own
timeline (the sample is from March 2026: the live lines follow its last line, at real-time pace, in
its time zone), so the rates, windows and "last seen" never jump to today. The temporary directory is removed on
exit. Exports and block lists go to ``$TMPDIR/threatlens-exports-demo`` (kept, never into the
repository); allowlist entries go to a temporary config that goes with the demo. Both are said at exit.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["Appender", "FirewallAppender", "log_end", "main", "prepare_firewall_log", "prepare_log"]

SAMPLE = Path(__file__).resolve().parents[2] / "sample_logs" / "combined.log"
FIREWALL_SAMPLE = SAMPLE.with_name("ufw.log")


def prepare_log(directory: Path) -> Path:
    """The demo's log file in ``directory``: a copy of the bundled sample (or 5,000 generated lines)."""
    target = directory / "access.log"
    if SAMPLE.is_file():
        shutil.copyfile(SAMPLE, target)
    else:
        from threatlens.samplegen import generate

        target.write_text("".join(f"{x}\n" for x in generate(5000, "combined", seed=7)), encoding="utf-8")
    return target


def prepare_firewall_log(directory: Path) -> Path:
    """The demo's firewall log in ``directory``: a copy of the bundled ufw.log (or the same, generated)."""
    target = directory / "ufw.log"
    if FIREWALL_SAMPLE.is_file():
        shutil.copyfile(FIREWALL_SAMPLE, target)
    else:
        from datetime import UTC, datetime

        from threatlens.samplegen.firewall import companion

        lines, _labels = companion(7, 5000, datetime(2026, 3, 14, 6, 0, tzinfo=UTC))
        target.write_text("".join(f"{x}\n" for x in lines), encoding="utf-8")
    return target


_UPTIME = re.compile(rb"kernel: \[ *(\d+\.\d+)\]")


def log_end(path: Path) -> tuple[datetime, float | None] | None:
    """The time of the last line of ``path`` that has one, and its kernel uptime if it shows one.

    ``None`` when no line near the end parses with a time (then the demo uses the current time).
    """
    from threatlens.parsers import RawLine, UnknownFormatError, detect_format

    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        fh.seek(max(0, size - 65536))
        lines = fh.read().splitlines()
    lines = [x for x in (lines[1:] if size > 65536 else lines) if x.strip()]
    try:
        parser = detect_format(lines[-50:]).parser
    except UnknownFormatError:
        return None
    for data in reversed(lines):
        when = getattr(parser.parse_raw(RawLine(str(path), 1, 0, data)), "time", None)
        if isinstance(when, datetime) and when.tzinfo is not None:
            uptime = _UPTIME.search(data)
            return when, float(uptime.group(1)) if uptime else None
    return None


class Appender(threading.Thread):
    """Appends ``live_lines()`` at real-time pace to a file until stopped.

    ``start`` (a log's last time, :func:`log_end`): the lines continue from one second after it, in
    its time zone; ``None``: they carry the current time.
    """

    def __init__(self, path: Path, rate: float, seed: int = 1, attack_share: float = 0.08,
                 start: datetime | None = None) -> None:
        super().__init__(name="threatlens-demo-writer", daemon=True)
        self.path = path
        self.rate = rate
        self.seed = seed
        self.attack_share = attack_share
        self.start_at = start
        #: seconds added to the wall clock to get the log's clock
        self.offset = 0.0 if start is None else start.timestamp() + 1.0 - time.time()
        self.stopping = threading.Event()
        self.written = 0

    def clock(self) -> float:
        """The log's clock: the wall clock moved to continue the log's timeline."""
        return time.time() + self.offset

    def run(self) -> None:
        """Run."""
        from threatlens.samplegen import live_lines

        def sleep(seconds: float) -> None:
            self.stopping.wait(seconds)

        zone = self.start_at.tzinfo if self.start_at is not None else None
        tz = zone if isinstance(zone, timezone) else None
        with open(self.path, "a", encoding="utf-8") as fh:
            for text in live_lines(self.seed, "combined", self.rate, attack_share=self.attack_share, sleep=sleep,
                                   clock=self.clock, tz=tz):
                if self.stopping.is_set():
                    return
                fh.write(text + "\n")
                fh.flush()
                self.written += 1

    def stop(self) -> None:
        """Stop appending (returns once the thread ended)."""
        self.stopping.set()
        self.join(timeout=5)


class FirewallAppender(Appender):
    """Appends live firewall lines (knocks, a port scan now and then), continuing the log's timeline.

    ``uptime``: the kernel uptime on the log's last line, so the appended lines' uptime goes on from it.
    """

    def __init__(self, path: Path, rate: float, seed: int = 1, start: datetime | None = None,
                 uptime: float | None = None) -> None:
        super().__init__(path, rate, seed, start=start)
        self.boot = None if start is None or uptime is None else start.timestamp() - uptime

    def run(self) -> None:
        """Run."""
        from threatlens.samplegen.firewall import format_packet, live_packets

        begin = self.clock()
        boot = self.boot if self.boot is not None else begin - 86400
        with open(self.path, "a", encoding="utf-8") as fh:
            for i, packet in enumerate(live_packets(self.seed, begin, knocks_per_minute=self.rate * 60)):
                delay = packet.t - self.clock()
                if delay > 0 and self.stopping.wait(delay):
                    return
                if self.stopping.is_set():
                    return
                fh.write(format_packet(packet, "ufw", boot=boot, ident=i % 65536) + "\n")
                fh.flush()
                self.written += 1


def exports_dir() -> Path:
    """``$TMPDIR/threatlens-exports-demo`` when it is this user's private directory.

    ``/tmp`` is shared: if another user (or a symlink) took the name first, or it is writable by others, the
    demo's exports go to a fresh private directory instead of into someone else's hands.
    """
    path = Path(tempfile.gettempdir()) / "threatlens-exports-demo"
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    info = os.lstat(path)
    if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022:
        return path
    return Path(tempfile.mkdtemp(prefix="threatlens-exports-demo-"))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; the temporary copy is deleted on exit."""
    parser = argparse.ArgumentParser(prog="python -m threatlens.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=4.0, help="lines appended per second (default 4)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated traffic")
    parser.add_argument("--no-detect", action="store_true", help="run without the model")
    args = parser.parse_args(argv)
    if args.rate <= 0:
        parser.error("--rate must be positive")
    from threatlens.tui.app import make_app
    from threatlens.tui.hangup import TerminalGuard

    workdir = Path(tempfile.mkdtemp(prefix="threatlens-demo-"))
    exports = exports_dir()
    appenders: list[Appender] = []

    def cleanup() -> None:
        for appender in appenders:
            appender.stopping.set()
        shutil.rmtree(workdir, ignore_errors=True)

    # From here on SIGHUP, SIGTERM or a terminal that hangs up end the demo and remove its directory.
    guard = TerminalGuard(None, cleanup=cleanup)
    try:
        with guard:
            log = prepare_log(workdir)
            firewall = prepare_firewall_log(workdir)
            log_last, fw_last = log_end(log), log_end(firewall)
            appenders.extend([Appender(log, args.rate, args.seed, start=log_last[0] if log_last else None),
                              FirewallAppender(firewall, args.rate / 4, args.seed,
                                               *(fw_last if fw_last else (None, None)))])
            for appender in appenders:
                appender.start()
            extra = {"detection": None} if args.no_detect else {}
            app = make_app([log, firewall], from_start=True, export_dir=exports,
                           config_path=workdir / "config.toml", ingest="process", **extra)
            guard.app = app
            if not guard.reason:
                app.run()
    finally:
        for appender in appenders:
            appender.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    with contextlib.suppress(OSError):  # the terminal may be gone
        print(f"demo finished; {sum(a.written for a in appenders)} live lines were appended. Exports and block "
              f"lists you wrote are in {exports}; allowlist entries were kept in the demo's temporary config, "
              "now removed.", file=sys.stderr)
    return guard.finish()


if __name__ == "__main__":
    raise SystemExit(main())
