"""A monitor whose terminal goes away ends within a second and leaves nothing behind (real processes, tmux)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tui_support import normal_lines, write_log

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tmux(tmp_path: Path):
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install tmux; .ci/run installs it)")
    name = f"tl-hup-{time.monotonic_ns()}"
    base = ["tmux", "-S", str(tmp_path / "tmux.sock")]
    yield name, base
    subprocess.run([*base, "kill-server"], capture_output=True, check=False)


def _start(base: list[str], name: str, command: str, tmp_path: Path) -> psutil.Process:
    """Run ``command`` through ``bash -c`` (as make or ssh would) in a 100x30 pane; return the monitor's process."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    subprocess.run([*base, "new-session", "-d", "-s", name, "-x", "100", "-y", "30", "bash", "-c", command],
                   check=True, env=env)
    pane = int(subprocess.run([*base, "display", "-p", "-t", name, "#{pane_pid}"], capture_output=True, text=True,
                              check=True).stdout)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        screen = subprocess.run([*base, "capture-pane", "-p", "-t", name], capture_output=True, text=True).stdout
        procs = [p for p in psutil.Process(pane).children(recursive=True) if "threatlens" in " ".join(p.cmdline())]
        if procs and "Top IPs" in screen:
            return procs[0]
        time.sleep(0.2)
    raise AssertionError(f"the monitor did not start:\n{screen}")


def _gone_within(proc: psutil.Process, seconds: float) -> float:
    """Seconds until ``proc`` exited; fails (after killing it) if it still runs after ``seconds``."""
    start = time.monotonic()
    try:
        proc.wait(timeout=seconds)
    except psutil.TimeoutExpired:
        cpu = proc.cpu_percent(interval=1.0)
        proc.kill()
        raise AssertionError(f"still running {seconds} s after its terminal went away, at {cpu:.0f}% CPU") from None
    return time.monotonic() - start


def _demo(tmp_path: Path) -> str:
    return f"cd {ROOT} && {sys.executable} -m threatlens.demo --no-detect --rate 20; echo ended"


def _through_make(tmp_path: Path, command: str) -> str:
    """``make`` as the session leader: it neither forwards SIGHUP nor stops its child (the ``make demo`` case)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    (tmp_path / "Makefile").write_text(f"run:\n\t{command}\n")
    return f"cd {tmp_path} && make run"


def test_demo_ends_when_its_tmux_session_is_killed(tmp_path: Path, tmux) -> None:
    name, base = tmux
    command = _through_make(tmp_path, f"cd {ROOT} && {sys.executable} -m threatlens.demo --no-detect --rate 20")
    proc = _start(base, name, command, tmp_path)
    assert list(tmp_path.glob("threatlens-demo-*"))
    subprocess.run([*base, "kill-session", "-t", name], check=True)
    # The budget is 1 s; the margin is for a loaded machine (2 shared cores).
    _gone_within(proc, 3.0)
    assert not list(tmp_path.glob("threatlens-demo-*"))
    assert (tmp_path / "threatlens-exports-demo").is_dir()  # exports go there, never into the repository


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_demo_removes_its_directory_on_signal(tmp_path: Path, tmux, signum: int) -> None:
    name, base = tmux
    proc = _start(base, name, _demo(tmp_path), tmp_path)
    proc.send_signal(signum)
    _gone_within(proc, 3.0)
    assert not list(tmp_path.glob("threatlens-demo-*"))


def test_monitor_started_through_make_ends_when_the_session_is_killed(tmp_path: Path, tmux) -> None:
    name, base = tmux
    log = write_log(tmp_path / "access.log", normal_lines(50))
    tui = Path(sys.executable).parent / "threatlens-tui"
    proc = _start(base, name, _through_make(tmp_path, f"{tui} --no-detect --from-start {log}"), tmp_path)
    children = proc.children(recursive=True)  # the ingestion process (and multiprocessing's resource tracker)
    assert children, "the monitor runs its ingestion in a child process"
    subprocess.run([*base, "kill-session", "-t", name], check=True)
    _gone_within(proc, 3.0)
    for child in children:  # no orphan keeps following the log
        _gone_within(child, 3.0)
