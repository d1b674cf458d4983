from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

import pytest

from threatlens.config import Config, ConfigError, default_config_path, normalize_allowlist_entry
from threatlens.errors import AllowlistError
from threatlens.models.allowlist import Allowlist

FULL = """\
# my settings
log_format = "combined"   # apache
threshold = 0.8
model = "~/models/site.skops"
geoip_db = "/usr/share/GeoIP/GeoLite2-Country.mmdb"
export_dir = "/var/tmp/exports"
poll = 2
backfill = 500
allowlist = [
    "203.0.113.7",  # office
    "10.1.2.3/8",
    'path:/healthz',
]
# trailing comment
"""


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    cfg = Config.load(tmp_path / "nope.toml")
    assert cfg.threshold is None and cfg.allowlist == () and not cfg.exists
    assert cfg.defaults() == {}


def test_full_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(FULL)
    cfg = Config.load(path)
    assert cfg.exists
    assert cfg.log_format == "combined"
    assert cfg.threshold == 0.8
    assert cfg.model == str(Path.home() / "models/site.skops")
    assert cfg.poll == 2.0
    assert cfg.backfill == 500
    assert cfg.allowlist == ("203.0.113.7", "10.0.0.0/8", "path:/healthz")
    defaults = cfg.defaults()
    assert set(defaults) == {"log_format", "threshold", "model", "geoip_db", "export_dir", "poll", "backfill"}
    parser = argparse.ArgumentParser()
    parser.add_argument("--threshold", type=float)
    parser.add_argument("--backfill", type=int)
    parser.set_defaults(**defaults)
    assert parser.parse_args([]).threshold == 0.8
    assert parser.parse_args(["--threshold", "0.3"]).threshold == 0.3


def test_xdg_config_home(tmp_path: Path) -> None:
    assert default_config_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "threatlens" / "config.toml"
    assert default_config_path({}) == Path.home() / ".config" / "threatlens" / "config.toml"
    assert default_config_path({"XDG_CONFIG_HOME": "relative"}) == Path.home() / ".config/threatlens/config.toml"


def test_load_default_path_honours_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "threatlens").mkdir()
    (tmp_path / "threatlens" / "config.toml").write_text("backfill = 7\n")
    assert Config.load().backfill == 7


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("threshold = 0.5\nbackfill = \n", 2, "invalid TOML"),
        ('log_format = "x"\nthreshold = 1.5\n', 2, "threshold"),
        ("threshold = true\n", 1, "threshold"),
        ("\n\nbackfill = -1\n", 3, "backfill"),
        ('poll = "fast"\n', 1, "poll"),
        ("threshhold = 0.5\n", 1, "unknown key"),
        ('allowlist = "1.2.3.4"\n', 1, "array"),
        ('allowlist = [\n  "1.2.3.4",\n  "not-an-ip",\n]\n', 3, "not-an-ip"),
        ('allowlist = ["path:"]\n', 1, "empty path pattern"),
        ('model = ""\n', 1, "model"),
    ],
)
def test_malformed_file_names_file_and_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        Config.load(path)
    assert err.value.path == str(path)
    assert err.value.line == line
    assert words in str(err.value)
    assert str(err.value).startswith(f"{path}:{line}: ")


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'threshold = 0.5\nmodel = "\xff"\n')
    with pytest.raises(ConfigError, match="UTF-8") as err:
        Config.load(path)
    assert err.value.line == 2


def test_save_allowlist_preserves_everything_else(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(FULL)
    cfg = Config.load(path).save_allowlist(["198.51.100.0/24", "2001:DB8::1", 'path:/a"b', "198.51.100.0/24"])
    assert cfg.allowlist == ("198.51.100.0/24", "2001:db8::1", 'path:/a"b')
    text = path.read_text()
    head, _, _ = FULL.partition("allowlist = [")
    assert text.startswith(head)
    assert text.endswith("\n# trailing comment\n")
    assert 'allowlist = [\n    "198.51.100.0/24",\n    "2001:db8::1",\n    "path:/a\\"b",\n]' in text
    reloaded = Config.load(path)
    assert reloaded.allowlist == cfg.allowlist
    assert reloaded.threshold == 0.8 and reloaded.backfill == 500
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_save_allowlist_round_trips_many_times_and_empty(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('threshold = 0.9 # keep\nallowlist = ["1.2.3.4"] # inline\nbackfill = 3\n')
    cfg = Config.load(path)
    for entries in (["5.6.7.8"], [], ["path:/static/*", "10.0.0.0/8"], ["9.9.9.9"]):
        cfg = cfg.save_allowlist(entries)
        assert Config.load(path).allowlist == tuple(entries)
    assert path.read_text() == 'threshold = 0.9 # keep\nallowlist = [\n    "9.9.9.9",\n] # inline\nbackfill = 3\n'


def test_save_allowlist_creates_file_and_dirs(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "threatlens" / "config.toml"
    cfg = Config.load(path)
    cfg.save_allowlist(["203.0.113.1"])
    assert tomllib.loads(path.read_text()) == {"allowlist": ["203.0.113.1"]}


def test_save_allowlist_appends_when_absent(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("text = 1\n".replace("text", "backfill") + 'model = """multi\nallowlist = ["x"]\n"""')
    # A multi-line string that looks like an allowlist must not be touched.
    Config.load(path).save_allowlist(["192.0.2.9"])
    data = tomllib.loads(path.read_text())
    assert data["model"] == 'multi\nallowlist = ["x"]\n'
    assert data["allowlist"] == ["192.0.2.9"]


def test_save_allowlist_rejects_bad_entries_and_keeps_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(FULL)
    with pytest.raises(AllowlistError):
        Config.load(path).save_allowlist(["1.2.3.4", "1.2.3.4; drop"])
    assert path.read_text() == FULL


def test_save_allowlist_refuses_malformed_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("threshold = \n")
    with pytest.raises(ConfigError):
        Config(path=path).save_allowlist(["1.2.3.4"])
    assert path.read_text() == "threshold = \n"


def test_normalize_allowlist_entry() -> None:
    assert normalize_allowlist_entry(" 10.1.2.3/8 ") == "10.0.0.0/8"
    assert normalize_allowlist_entry("2001:DB8::1") == "2001:db8::1"
    assert normalize_allowlist_entry("path: /healthz") == "path:/healthz"
    assert normalize_allowlist_entry("agent:*UptimeRobot*") == "agent:*UptimeRobot*"
    for bad in ("example.com", "path:", "1.2.3.4/33", "path:/a\nb", "", "1.2.3.4; drop"):
        with pytest.raises(AllowlistError):
            normalize_allowlist_entry(bad)


def test_config_allowlist_is_the_detection_allowlist(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('allowlist = ["203.0.113.7", "10.0.0.0/8", "path:/static/*", "agent:*uptimerobot*"]\n')
    allow = Allowlist.parse(Config.load(path).allowlist)
    assert isinstance(allow, Allowlist)
    assert allow.matches_ip("203.0.113.7")
    assert allow.matches_ip("10.200.1.1")
    assert not allow.matches_ip("11.0.0.1")
    assert allow.entries == ["203.0.113.7", "10.0.0.0/8", "path:/static/*", "agent:*uptimerobot*"]


def test_deeply_nested_arrays_are_a_config_error_not_a_traceback(tmp_path: Path) -> None:
    """1,000 nested arrays: a ConfigError naming the file, also where the parser runs out of stack first."""
    import subprocess
    import sys

    cfg = tmp_path / "config.toml"
    cfg.write_text("allowlist = " + "[" * 1000 + "]" * 1000 + "\n")
    with pytest.raises(ConfigError, match="nested"):
        Config.load(cfg)
    cfg.write_text("allowlist = " + "[" * 90 + "]" * 90 + "\n")
    probe = ("import sys; from threatlens.config import Config, ConfigError\n"
             "sys.setrecursionlimit(len(__import__('inspect').stack()) + 120)\n"
             f"try: Config.load({str(cfg)!r})\n"
             "except ConfigError as exc: print('ConfigError', exc)\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr[-500:]
    assert out.stdout.startswith("ConfigError") and "nested too deeply" in out.stdout
