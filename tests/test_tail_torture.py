"""Torture: writers append numbered lines at full speed through every kind of rotation.

Every line must arrive exactly once, whole, and in order per file. The writers only wait
where a real deployment waits too (a server finishes with the renamed file before it
reopens; copytruncate runs while the writer pauses), and those waits are conditions with
timeouts, never fixed sleeps.
"""

from __future__ import annotations

import os
import random
import shutil
import threading
from pathlib import Path

import pytest

from tail_support import Collector, check_numbering, follow

KINDS = ("rename", "copytruncate", "delete")


class Writer(threading.Thread):
    """Appends numbered lines to ``path`` in random-sized writes that split lines anywhere."""

    def __init__(self, path: Path, col: Collector, *, rounds: int, burst: int, seed: int) -> None:
        super().__init__(name=f"writer-{path.name}", daemon=True)
        self.path = path
        self.col = col
        self.rng = random.Random(seed)
        self.schedule = [k for _ in range(rounds) for k in KINDS]
        self.rng.shuffle(self.schedule)
        self.burst_lines = burst
        self.expected: list[bytes] = []
        self.error: BaseException | None = None
        self.pending = b""

    def line(self) -> bytes:
        n = len(self.expected)
        data = f"{self.path.name} seq={n:07d} ".encode() + b"x" * self.rng.randrange(0, 120)
        self.expected.append(data)
        return data + b"\n"

    def burst(self, fh: object, n: int) -> None:
        buf = self.pending + b"".join(self.line() for _ in range(n))
        while buf:
            cut = self.rng.randrange(1, 4000)
            fh.write(buf[:cut])  # type: ignore[attr-defined]
            buf = buf[cut:]
        self.pending = b""

    def delivered(self, n: int) -> None:
        name = str(self.path)
        self.col.wait(lambda c: len(c.data(name)) >= n, f"{name}: {n} lines delivered")

    def delivered_all(self) -> None:
        self.delivered(len(self.expected))

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:
            self.error = exc

    def _run(self) -> None:
        p = self.path
        fh = open(p, "ab", buffering=0)  # noqa: SIM115
        first_of_file = 0
        for i, kind in enumerate(self.schedule):
            self.burst(fh, self.burst_lines)
            # A file created and rotated away again before the follower ever looked at it
            # cannot be followed (as with tail -F); real rotations are hours apart.
            self.delivered(first_of_file + 1)
            first_of_file = len(self.expected)
            rotated = p.with_name(f"{p.name}.{i}")
            if kind == "rename":  # logrotate's default: rename, create; the server reopens later
                os.rename(p, rotated)
                p.write_bytes(b"")
                self.burst(fh, self.burst_lines // 4)  # still writing to the renamed inode
                self.delivered_all()
                first_of_file = len(self.expected)
                fh.close()
                fh = open(p, "ab", buffering=0)  # noqa: SIM115
            elif kind == "copytruncate":  # the writer pauses while the copy is made
                self.delivered_all()
                shutil.copyfile(p, rotated)
                os.truncate(p, 0)
            else:  # deleted (a clean-up job), the server keeps writing, then recreates it
                os.unlink(p)
                self.burst(fh, self.burst_lines // 4)
                self.delivered_all()
                first_of_file = len(self.expected)
                fh.close()
                fh = open(p, "ab", buffering=0)  # noqa: SIM115
        self.burst(fh, self.burst_lines)
        fh.close()
        self.delivered_all()


def run_torture(tmp_path: Path, *, files: int, rounds: int, burst: int, **options: object) -> None:
    paths = [tmp_path / f"site{i}.log" for i in range(files)]
    for p in paths:
        p.write_bytes(b"")
    col = Collector()
    f = follow(paths, col, **options)
    writers = [Writer(p, col, rounds=rounds, burst=burst, seed=1000 + i) for i, p in enumerate(paths)]
    try:
        for w in writers:
            w.start()
        for w in writers:
            w.join(120)
            assert not w.is_alive(), "writer did not finish"
            if w.error is not None:
                raise w.error
    finally:
        f.stop()
    assert not [m for m in col.messages if m[0] == "error"], col.messages
    for w in writers:
        name = str(w.path)
        got = [r for r in col.lines if r.file == name]
        assert len(got) == len(w.expected)
        assert [r.data for r in got] == w.expected  # exactly once, whole, in order
        check_numbering(got)
        # line numbers restart at 1 once per file the path named (one per rotation)
        assert sum(r.line == 1 for r in got) == len(w.schedule) + 1


def test_torture_inotify(tmp_path: Path) -> None:
    run_torture(tmp_path, files=2, rounds=4, burst=4000, recheck_interval=0.5)


@pytest.mark.parametrize("poll_interval", [0.02])
def test_torture_poll(tmp_path: Path, poll_interval: float) -> None:
    run_torture(tmp_path, files=2, rounds=2, burst=2000, poll=True, poll_interval=poll_interval)
