"""End to end in tmux: the real ``threatlens-tui`` on a growing file, driven by keys, read with capture-pane."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tui_support import line

ATTACKER = "203.0.113.66"
ATTACKS = [
    "/index.php?id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--",
    "/../../../../etc/passwd",
    "/search?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E",
    "/cgi-bin/test.cgi?cmd=;cat%20/etc/passwd",
]
PAGES = ["/", "/about", "/static/css/main.css", "/products/42", "/blog/2026/03/spring-sale/", "/contact"]
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"


def _command() -> Path:
    exe = Path(sys.executable).parent / "threatlens-tui"
    if not exe.exists():
        pytest.skip(f"{exe} is not installed (pip install -e .)")
    return exe


@pytest.fixture
def tmux(tmp_path: Path):
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install tmux; .ci/run installs it)")
    try:
        from threatlens.models.detection import Detection

        Detection.load()
    except Exception as exc:
        pytest.skip(f"the shipped model cannot be loaded ({exc}); the end-to-end test needs real detection")
    name = f"tl-e2e-{time.monotonic_ns()}"
    socket = str(tmp_path / "tmux.sock")
    base = ["tmux", "-S", socket]
    yield name, base
    subprocess.run([*base, "kill-server"], capture_output=True, check=False)


def _capture(base: list[str], name: str) -> str:
    return subprocess.run([*base, "capture-pane", "-p", "-t", name], capture_output=True, text=True,
                          check=True).stdout


def _wait_screen(base: list[str], name: str, text: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _capture(base, name)
        if text in screen:
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared on screen:\n{screen}")


def test_real_command_in_tmux(tmp_path: Path, tmux) -> None:
    name, base = tmux
    log = tmp_path / "access.log"
    exports = tmp_path / "exports"
    exports.mkdir()
    now = datetime.now(UTC).replace(microsecond=0)
    normal = [line(f"198.51.100.{i % 5 + 10}", PAGES[i % len(PAGES)], when=now, agent=BROWSER,
                   referer="https://shop.example.com/") for i in range(30)]
    log.write_text("".join(f"{x}\n" for x in normal))
    attacks: list[str] = []
    written = [len(normal)]
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set() and i < 30:
            batch = [line(f"198.51.100.{(i + k) % 5 + 10}", PAGES[(i + k) % len(PAGES)], when=now, agent=BROWSER,
                          referer="https://shop.example.com/") for k in range(3)]
            attack = line(ATTACKER, ATTACKS[i % len(ATTACKS)], when=now, agent="sqlmap/1.7.2#stable")
            batch.insert(i % 3, attack)
            attacks.append(attack)
            with open(log, "a", encoding="utf-8") as fh:
                fh.write("".join(f"{x}\n" for x in batch))
            written[0] += len(batch)
            i += 1
            time.sleep(0.1)

    cmd = (f"{_command()} --from-start --export-dir {exports} --config {tmp_path / 'config.toml'} "
           f"--geoip-db '' {log}")
    shell = f"{cmd}; echo monitor-exit-status=$?; sleep 30"
    subprocess.run([*base, "new-session", "-d", "-s", name, "-x", "150", "-y", "45", shell], check=True,
                   env={"PATH": "/usr/bin:/bin", "TERM": "xterm-256color", "HOME": str(tmp_path), "LANG": "C.UTF-8"})
    _wait_screen(base, name, "lines/s")
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        _wait_screen(base, name, "model threatlens-model")
    finally:
        thread.join()
    screen = _wait_screen(base, name, f"lines {written[0]}  parsed {written[0]}  unparsed 0")
    assert f"flagged {len(attacks)} " in screen

    def keys(*k: str) -> None:
        subprocess.run([*base, "send-keys", "-t", name, *k], check=True)

    keys("s")  # order the top IPs by flagged: the attacker is the first row
    screen = _wait_screen(base, name, "Top IPs by flagged")
    rows = [r for r in screen.splitlines() if r.startswith("│ ") and "." in r]
    assert ATTACKER in rows[0]
    keys("Enter")
    _wait_screen(base, name, f"IP {ATTACKER}")
    screen = _wait_screen(base, name, "/../../../../etc/passwd")  # the requests fill in once the table is laid out
    assert f"requests {len(attacks)}  flagged {len(attacks)}" in screen
    assert "sqlmap/1.7.2#stable" in screen
    keys("Escape")
    _wait_screen(base, name, "Top IPs by flagged")
    keys("e")
    _wait_screen(base, name, "Written atomically")
    keys("Tab", "Tab", "Enter")
    screen = _wait_screen(base, name, "exported")
    assert f"exported {len(attacks)} flagged" in screen
    keys("q")
    screen = _wait_screen(base, name, "monitor-exit-status=")
    assert "monitor-exit-status=0" in screen
    assert "Top IPs" not in screen  # back on the normal screen: the terminal was restored
    files = list(exports.iterdir())
    assert len(files) == 1 and files[0].name.startswith("threatlens-flagged-") and files[0].suffix == ".log"
    assert files[0].read_text(encoding="utf-8") == "".join(f"{a}\n" for a in attacks)


@pytest.mark.parametrize("size", [(80, 24), (120, 34)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_real_command_fits_the_readme_sizes(tmp_path: Path, tmux, size: tuple[int, int]) -> None:
    """At 80x24 and 120x34 the attacker's row shows IP, score in words, tier and what it did; ``? Help`` shows."""
    name, base = tmux
    log = tmp_path / "access.log"
    now = datetime.now(UTC).replace(microsecond=0)
    lines = [line(f"198.51.100.{i % 5 + 10}", PAGES[i % len(PAGES)], when=now, agent=BROWSER) for i in range(20)]
    lines += [line(ATTACKER, ATTACKS[i % len(ATTACKS)], when=now, agent="sqlmap/1.7.2#stable") for i in range(8)]
    log.write_text("".join(f"{x}\n" for x in lines))
    cmd = f"{_command()} --from-start --config {tmp_path / 'config.toml'} --geoip-db '' {log}; sleep 30"
    subprocess.run([*base, "new-session", "-d", "-s", name, "-x", str(size[0]), "-y", str(size[1]), cmd],
                   check=True, env={"PATH": "/usr/bin:/bin", "TERM": "xterm-256color", "HOME": str(tmp_path),
                                    "LANG": "C.UTF-8"})
    _wait_screen(base, name, "model threatlens-model")
    _wait_screen(base, name, f"lines {len(lines)}  parsed")
    subprocess.run([*base, "send-keys", "-t", name, "s"], check=True)
    screen = _wait_screen(base, name, "Top IPs by flagged")
    row = next(r for r in screen.splitlines() if ATTACKER in r)
    assert "HIGH" in row and "attack" in row and "alert" in row, row
    assert any(cat in row for cat in ("scanner", "sqli", "path_tr", "xss", "cmd_inj")), row  # what it did
    footer = screen.rstrip("\n").splitlines()[-1]
    assert footer.rstrip().endswith("? Help") and "Blocklist" in footer, footer


def test_keys_and_escape_through_the_terminal(tmp_path: Path, tmux) -> None:
    """The monitor's own input loop (``tui.terminal_driver``) in a real terminal: arrow keys arrive as arrows
    (their escape sequences are not cut into Esc + text by the shorter Esc delay), Esc closes the help and the IP
    screen, and the help screen, made once, opens, closes with ``?`` and opens again."""
    name, base = tmux
    log = tmp_path / "access.log"
    now = datetime.now(UTC).replace(microsecond=0)
    rows = [line(f"198.51.100.{10 + i}", PAGES[k % len(PAGES)], when=now, agent=BROWSER)
            for i in range(6) for k in range(12 - i)]  # .10 has the most requests, then .11, .12 ...
    log.write_text("".join(f"{x}\n" for x in rows))
    cmd = f"{_command()} --from-start --config {tmp_path / 'config.toml'} --geoip-db '' {log}"
    subprocess.run([*base, "new-session", "-d", "-s", name, "-x", "150", "-y", "45", f"{cmd}; sleep 30"],
                   check=True, env={"PATH": "/usr/bin:/bin", "TERM": "xterm-256color", "HOME": str(tmp_path),
                                    "LANG": "C.UTF-8"})
    _wait_screen(base, name, f"lines {len(rows)}  parsed {len(rows)}")

    def keys(*k: str) -> None:
        subprocess.run([*base, "send-keys", "-t", name, *k], check=True)

    for _ in range(2):  # the second time shows the screen made the first time
        keys("?")
        _wait_screen(base, name, "ThreatLens keys")
        keys("Escape")
        screen = _wait_screen(base, name, "Top IPs by requests")
        assert "ThreatLens keys" not in screen
    keys("?")
    _wait_screen(base, name, "ThreatLens keys")
    keys("?")  # ? closes it too
    screen = _wait_screen(base, name, "Top IPs by requests")
    assert "ThreatLens keys" not in screen
    keys("Down", "Down", "Enter")  # two arrows, as escape sequences: the third client's screen
    screen = _wait_screen(base, name, "IP 198.51.100.12")
    assert "requests 10 " in screen
    keys("Escape")
    screen = _wait_screen(base, name, "Top IPs by requests")
    assert "IP 198.51.100.12 " not in screen.splitlines()[0]
    keys("Up", "Enter")
    _wait_screen(base, name, "IP 198.51.100.11")


def test_the_esc_wait_is_escdelay_within_bounds() -> None:
    """``ESCDELAY`` sets the Esc wait as for curses programs, within 1-1000 ms: a huge value would leave every key
    after an Esc waiting with it, Ctrl+C included (seen with ESCDELAY=99999999)."""
    from threatlens.tui.main import ESCAPE_DELAY_MS, escape_delay_ms

    assert escape_delay_ms(None) == ESCAPE_DELAY_MS == 30
    assert escape_delay_ms("25") == 25
    assert escape_delay_ms("99999999") == 1000
    assert escape_delay_ms("0") == 1 and escape_delay_ms("-5") == 1
    assert escape_delay_ms("fast") == ESCAPE_DELAY_MS


def test_an_esc_whose_wait_is_over_is_the_esc_key_whatever_came_since() -> None:
    """The input thread may read again only after the next key's byte is there (the UI held the GIL drawing a
    frame): the Esc whose wait is over is still the Esc key, not Alt+ that key (Enter, Esc, Enter, Esc pressed
    50 ms apart left the IP screen open)."""
    import time

    from textual import constants, events
    from textual._xterm_parser import XTermParser

    from threatlens.tui.terminal_driver import parse

    def keys(found: list) -> list[str]:
        return [e.key for e in found if isinstance(e, events.Key)]

    ours, textuals = XTermParser(), XTermParser()
    assert parse(ours, ["\x1b"]) == [] and list(textuals.feed("\x1b")) == []  # an escape sequence or Esc?
    time.sleep(constants.ESCAPE_DELAY + 0.05)  # the wait is over, unseen: nothing woke the thread meanwhile
    assert keys(parse(ours, ["\r"])) == ["escape", "enter"]
    assert keys(list(textuals.feed("\r")) + list(textuals.tick())) != ["escape", "enter"]  # Textual's order
    assert keys(parse(ours, ["\x1b[A"])) == ["up"]  # a sequence read at once is still one key
