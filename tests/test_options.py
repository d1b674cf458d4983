"""One resolver for scan and the monitor: command line over config file over defaults."""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

from test_scan_cli import SAMPLES, _wait_for_lines
from threatlens.cli import build_parser as scan_parser
from threatlens.config import Config
from threatlens.options import RunOptions, resolve_options
from threatlens.tui.main import build_parser as monitor_parser
from threatlens.tui.main import options_from_args

CONFIG = """\
log_format = "combined"
threshold = 0.8
model = "/srv/models/site.skops"
geoip_db = "/srv/geo/country.mmdb"
export_dir = "/srv/exports"
poll = 2.5
backfill = 500
allowlist = ["203.0.113.7"]
"""


def _both(tmp_path: Path, *typed: str) -> tuple[RunOptions, RunOptions]:
    conf = tmp_path / "config.toml"
    conf.write_text(CONFIG)
    config = Config.load(conf)
    scan_args = scan_parser().parse_args(["scan", "--config", str(conf), *typed, "access.log"])
    monitor_args = monitor_parser().parse_args(["--config", str(conf), *typed, "access.log"])
    return resolve_options(config, scan_args), options_from_args(monitor_args, config)


def test_the_same_config_gives_scan_and_the_monitor_the_same_settings(tmp_path: Path) -> None:
    scan, monitor = _both(tmp_path)
    for f in fields(RunOptions):
        assert getattr(scan, f.name) == getattr(monitor, f.name), f.name
    assert scan.backfill == 500 and scan.poll and scan.poll_interval == 2.5  # scan ignored these before
    assert (scan.log_format, scan.threshold, scan.model) == ("combined", 0.8, "/srv/models/site.skops")
    assert scan.geoip_db == "/srv/geo/country.mmdb" and scan.export_dir == Path("/srv/exports")
    assert scan.allowlist == ["203.0.113.7"] and scan.config_path == tmp_path / "config.toml"


def test_typed_options_win_over_the_config(tmp_path: Path) -> None:
    typed = ("--threshold", "0.3", "--log-format", "common", "--from-start", "--no-detect")
    scan, monitor = _both(tmp_path, *typed)
    for opts in (scan, monitor):
        assert opts.threshold == 0.3 and opts.log_format == "common" and not opts.detect
        assert opts.from_start and opts.backfill is None  # --from-start replaces the config's backfill


def test_defaults_without_a_config(tmp_path: Path) -> None:
    config = Config.load(tmp_path / "none.toml")
    opts = resolve_options(config, scan_parser().parse_args(["scan", "access.log"]))
    assert opts == RunOptions(export_dir=opts.export_dir, config_path=tmp_path / "none.toml")
    assert opts.log_format == "auto" and opts.detect and not opts.poll and opts.backfill is None


def test_scan_follow_honours_backfill_from_the_config(tmp_path: Path) -> None:
    src = (SAMPLES / "combined.log").read_bytes().splitlines(keepends=True)
    log, out, conf = tmp_path / "access.log", tmp_path / "out.jsonl", tmp_path / "config.toml"
    log.write_bytes(b"".join(src[:5]))
    conf.write_text("backfill = 2\npoll = 0.1\n")
    with out.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "threatlens", "scan", "--follow", "--no-detect", "--config",
                                 str(conf), "-o", "jsonl", str(log)], stdout=sink, stderr=subprocess.PIPE)
        try:
            _wait_for_lines(out, 2)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=30)
        finally:
            proc.kill()
    rows = _wait_for_lines(out, 2)
    assert proc.returncode == 0 and b"Traceback" not in err
    assert [r["line"] for r in rows] == [4, 5]


def test_min_severity_resolves_alike_for_scan_the_monitor_and_serve(tmp_path: Path) -> None:
    from threatlens.cli import build_parser

    conf = tmp_path / "config.toml"
    conf.write_text('min_severity = "nuisance"\n')
    config = Config.load(conf)
    scan = resolve_options(config, scan_parser().parse_args(["scan", "--config", str(conf), "a.log"]))
    monitor = options_from_args(monitor_parser().parse_args(["--config", str(conf), "a.log"]), config)
    serve = options_from_args(build_parser().parse_args(["serve", "--config", str(conf), "a.log"]), config)
    assert scan.min_severity == monitor.min_severity == serve.min_severity == "nuisance"
    typed = options_from_args(monitor_parser().parse_args(["--min-severity", "suspicious", "a.log"]), config)
    assert typed.min_severity == "suspicious"
    assert resolve_options(Config.load(tmp_path / "none.toml"),
                           scan_parser().parse_args(["scan", "a.log"])).min_severity == "attack"
