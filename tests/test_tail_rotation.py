"""Life events a followed log goes through: rotation, truncation, deletion, symlinks, bad paths."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tail_support import Collector, append, can_symlink, follow, join_lines, numbered, wait_bytes_read

MODES = [pytest.param(False, id="inotify"), pytest.param(True, id="poll")]


def poll_opts(poll: bool) -> dict[str, object]:
    return {"poll": True, "poll_interval": 0.05} if poll else {}


@pytest.mark.parametrize("poll", MODES)
def test_rename_and_create_drains_the_old_file_then_follows_the_new(tmp_path: Path, poll: bool) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(b"")
    col = Collector()
    f = follow([log], col, **poll_opts(poll))
    try:
        server = open(log, "ab", buffering=0)  # noqa: SIM115 - the "server" keeps its descriptor
        server.write(b"a 1\na 2\n")
        col.wait_count(2)
        os.rename(log, tmp_path / "access.log.1")  # logrotate: rename...
        log.write_bytes(b"")  # ...and create
        server.write(b"a 3\na 4 without newline")  # the server still writes to the old inode
        col.wait_message("rotated")
        col.wait_count(3)
        server.close()
        server = open(log, "ab", buffering=0)  # noqa: SIM115 - the server reopens its log
        server.write(b"b 1\nb 2\n")
        col.wait_data([b"a 1", b"a 2", b"a 3", b"a 4 without newline", b"b 1", b"b 2"])
        assert [r.line for r in col.lines] == [1, 2, 3, 4, 1, 2]
        assert all(r.file == str(log) for r in col.lines)
        server.close()
    finally:
        f.stop()


@pytest.mark.parametrize("poll", MODES)
def test_copytruncate_restarts_at_zero(tmp_path: Path, poll: bool) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(b"")
    col = Collector()
    f = follow([log], col, **poll_opts(poll))
    try:
        append(log, join_lines(numbered("before", 0, 50)))
        col.wait_count(50)
        shutil.copyfile(log, tmp_path / "access.log.1")  # logrotate copytruncate: copy...
        os.truncate(log, 0)  # ...then truncate in place
        col.wait_message("truncated")
        append(log, b"after 0\nafter 1\n")
        col.wait_data([*numbered("before", 0, 50), b"after 0", b"after 1"])
        assert [(r.line, r.offset) for r in col.lines[-2:]] == [(1, 0), (2, 8)]
    finally:
        f.stop()


def test_truncated_and_regrown_past_our_offset_is_noticed(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(b"")
    col = Collector()
    # No notifications and a long poll: nothing happens until check_now(), so the
    # truncation and the regrowth happen entirely between two looks.
    f = follow([log], col, poll=True, poll_interval=3600)
    try:
        append(log, b"short 1\n")
        f.check_now()
        col.wait_data([b"short 1"])
        os.truncate(log, 0)
        append(log, join_lines(numbered("a much longer line after the truncation", 0, 3)))
        f.check_now()
        col.wait_count(4)
        assert col.data()[1:] == numbered("a much longer line after the truncation", 0, 3)
        assert col.lines[1].line == 1 and col.lines[1].offset == 0
        assert col.has_message("rewritten in place")
    finally:
        f.stop()


def test_copytruncate_with_a_writer_that_does_not_append(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(b"")
    col = Collector()
    f = follow([log], col, poll=True, poll_interval=3600)
    try:
        writer = open(log, "r+b", buffering=0)  # noqa: SIM115 - no O_APPEND, like some daemons
        writer.write(join_lines(numbered("first", 0, 20)))
        f.check_now()
        col.wait_count(20)
        os.truncate(log, 0)
        writer.write(b"second 0\n")  # lands at the old offset: a hole of zero bytes before it
        writer.close()
        f.check_now()
        col.wait_count(21)
        last = col.lines[-1]
        assert last.data == b"second 0" and last.line == 1 and last.offset == log.stat().st_size - 9
        assert col.has_message("zero bytes")
    finally:
        f.stop()


@pytest.mark.parametrize("poll", MODES)
def test_deleted_then_recreated(tmp_path: Path, poll: bool) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(b"")
    col = Collector()
    f = follow([log], col, **poll_opts(poll), recheck_interval=0.2)
    try:
        server = open(log, "ab", buffering=0)  # noqa: SIM115
        server.write(b"x 1\n")
        col.wait_count(1)
        os.unlink(log)
        server.write(b"x 2\n")  # written to the deleted file: still ours to read
        col.wait_message("was deleted")
        col.wait_count(2)
        server.close()
        log.write_bytes(b"y 1\n")
        col.wait_message("appeared")
        col.wait_data([b"x 1", b"x 2", b"y 1"])
    finally:
        f.stop()


def test_missing_at_start_is_awaited_and_read_from_its_start(tmp_path: Path) -> None:
    log = tmp_path / "later" / "access.log"  # even its directory does not exist yet
    col = Collector()
    f = follow([log], col)  # start="end" applies only to files present at start
    try:
        assert col.has_message("waiting for", str(log))  # reported before start() returns
        log.parent.mkdir()
        log.write_bytes(b"first\nsecond\n")
        col.wait_data([b"first", b"second"])
        assert f.stats()[str(log)].status == "following"
    finally:
        f.stop()


def test_symlink_whose_target_changes(tmp_path: Path) -> None:
    if not can_symlink(tmp_path):
        pytest.skip("symlinks are not available here")
    (tmp_path / "releases").mkdir()
    t1, t2 = tmp_path / "releases" / "v1.log", tmp_path / "releases" / "v2.log"
    t1.write_bytes(b"")
    t2.write_bytes(b"")
    link = tmp_path / "current.log"
    link.symlink_to(t1)
    col = Collector()
    f = follow([link], col)
    try:
        append(t1, b"v1 a\n")  # written through the target's own name, in another directory
        col.wait_data([b"v1 a"])
        tmp_link = tmp_path / "current.log.tmp"
        tmp_link.symlink_to(t2)
        os.replace(tmp_link, link)  # atomic switch, like a deploy
        col.wait_message("symlink now points to", str(t2))
        append(t2, b"v2 a\n")
        col.wait_data([b"v1 a", b"v2 a"])
        assert [(r.file, r.line) for r in col.lines] == [(str(link), 1), (str(link), 1)]
    finally:
        f.stop()


def test_replaced_by_a_directory_other_paths_go_on(tmp_path: Path) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_bytes(b"")
    b.write_bytes(b"")
    col = Collector()
    f = follow([a, b], col)
    try:
        append(a, b"a 1\n")
        col.wait_count(1)
        a.unlink()
        a.mkdir()
        col.wait_message(str(a), "is a directory")
        append(b, b"b 1\n")
        col.wait_data([b"b 1"], file=str(b))
        a.rmdir()
        a.write_bytes(b"a again\n")
        col.wait_data([b"a 1", b"a again"], file=str(a))
    finally:
        f.stop()


def test_directory_given_at_start_is_reported(tmp_path: Path) -> None:
    col = Collector()
    f = follow([tmp_path], col)
    try:
        assert col.has_message(str(tmp_path), "is a directory")
        assert "directory" in f.stats()[str(tmp_path)].status
    finally:
        f.stop()


_PERMISSION_SCRIPT = textwrap.dedent(
    """
    import json, sys, threading
    from threatlens.tail import Follower

    secret, ok = sys.argv[1], sys.argv[2]
    lines, msgs, cond = [], [], threading.Condition()
    def on_batch(b):
        with cond:
            lines.extend((r.file, r.data.decode()) for r in b); cond.notify_all()
    def on_message(level, text):
        with cond:
            msgs.append([level, text]); cond.notify_all()
    def wait(pred):
        with cond:
            assert cond.wait_for(pred, 20), (lines, msgs)
    f = Follower([secret, ok], on_batch=on_batch, on_message=on_message, poll=True, poll_interval=0.05,
                 batch_interval=0.01).start()
    wait(lambda: any("permission denied" in t for _, t in msgs))
    with open(ok, "ab") as fh:
        fh.write(b"still here\\n")
    wait(lambda: len(lines) == 1)
    print("READY", flush=True)
    sys.stdin.readline()  # the parent makes the secret readable
    wait(lambda: len(lines) == 2)
    f.stop()
    print(json.dumps({"lines": lines, "msgs": msgs}), flush=True)
    """
)


def _unprivileged(secret: Path) -> list[str]:
    """Command prefix under which ``secret`` (mode 000) is unreadable, or skip."""
    if os.geteuid() != 0:
        return []
    # root reads every file; drop the capabilities that let it (the uid stays 0)
    prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a file unreadable")
    probe = subprocess.run([*prefix, sys.executable, "-c", f"open({str(secret)!r}, 'rb')"], capture_output=True)
    if b"PermissionError" not in probe.stderr:
        pytest.skip(f"cannot drop root's file capabilities here: {probe.stderr[-200:]!r}")
    return prefix


def test_permission_denied_is_reported_and_other_paths_go_on(tmp_path: Path) -> None:
    secret, ok = tmp_path / "secret.log", tmp_path / "ok.log"
    secret.write_bytes(b"")
    secret.chmod(0o000)
    ok.write_bytes(b"")
    prefix = _unprivileged(secret)
    proc = subprocess.Popen(
        [*prefix, sys.executable, "-c", _PERMISSION_SCRIPT, str(secret), str(ok)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        first = proc.stdout.readline()
        assert first.strip() == "READY", first + proc.communicate(timeout=30)[1]
        secret.chmod(0o644)
        secret.write_bytes(b"now readable\n")
        out, err = proc.communicate("go\n", timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    result = json.loads(out.splitlines()[-1])
    assert result["lines"] == [[str(ok), "still here"], [str(secret), "now readable"]]
    texts = [t for _, t in result["msgs"]]
    assert any("permission denied" in t and str(secret) in t for t in texts)
    assert any("is readable now" in t for t in texts)


def test_rotated_file_compressed_right_away(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(b"")
    col = Collector()
    f = follow([log], col)
    try:
        server = open(log, "ab", buffering=0)  # noqa: SIM115
        server.write(join_lines(numbered("old", 0, 10)))
        col.wait_count(10)
        rotated = tmp_path / "access.log.1"
        os.rename(log, rotated)
        log.write_bytes(b"")
        server.write(b"old late\n")
        # delaycompress off: gzip the rotated file at once and delete it
        with open(rotated, "rb") as src, gzip.open(tmp_path / "access.log.1.gz", "wb") as dst:
            shutil.copyfileobj(src, dst)
        rotated.unlink()
        server.close()
        append(log, b"new 0\n")
        col.wait_data([*numbered("old", 0, 10), b"old late", b"new 0"])
        assert not any(level == "error" for level, _ in col.messages), col.messages
    finally:
        f.stop()


def test_renamed_away_and_back_continues_without_repeating(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    col = Collector()
    f = follow([log], col, poll=True, poll_interval=3600)
    try:
        append(log, b"1\n")
        f.check_now()
        col.wait_count(1)
        os.rename(log, tmp_path / "a.tmp")
        f.check_now()
        col.wait_message("moved away")
        os.rename(tmp_path / "a.tmp", log)
        append(log, b"2\n")
        f.check_now()
        col.wait_data([b"1", b"2"])
        assert [r.line for r in col.lines] == [1, 2]
    finally:
        f.stop()


def test_partial_line_of_a_rotated_file_is_delivered_when_rotated_away(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"")
    col = Collector()
    f = follow([log], col, rotate_grace=0.05)
    try:
        append(log, b"complete\nunfinished")
        wait_bytes_read(f, 19)
        os.rename(log, tmp_path / "a.log.1")
        log.write_bytes(b"")
        col.wait_data([b"complete", b"unfinished"])  # without waiting for stop()
    finally:
        f.stop()


def test_new_file_waits_until_the_rotated_one_is_quiet(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(b"")
    col = Collector()
    # Nothing is looked at except on check_now() (and when the grace period ends).
    f = follow([log], col, poll=True, poll_interval=3600, rotate_grace=2.0)
    try:
        server = open(log, "ab", buffering=0)  # noqa: SIM115
        server.write(b"old 1\n")
        f.check_now()
        col.wait_count(1)
        os.rename(log, tmp_path / "access.log.1")
        log.write_bytes(b"new 1\n")  # another process already writes to the new file...
        f.check_now()
        col.wait_message("rotated")
        server.write(b"old 2\n")  # ...while the server still writes to the old one
        f.check_now()
        col.wait_data([b"old 1", b"old 2", b"new 1"])  # the old file's lines come first
        server.close()
    finally:
        f.stop()


def _followed_after(tmp_path: Path, n: int) -> tuple[Path, Collector, Any, list[bytes]]:
    """A log of ``n`` numbered lines, followed (looked at only on ``check_now()``) until all were read."""
    log = tmp_path / "access.log"
    log.write_bytes(b"")
    col = Collector()
    f = follow([log], col, poll=True, poll_interval=3600)
    lines = numbered("line", 0, n)
    append(log, join_lines(lines))
    f.check_now()
    col.wait_count(n)
    return log, col, f, lines


def test_cut_back_to_a_smaller_size_delivers_nothing_twice_and_new_lines_once(tmp_path: Path) -> None:
    """``truncate -s`` to 501 of 1,000 lines read: nothing again (was 501 lines twice), then the new ones."""
    log, col, f, lines = _followed_after(tmp_path, 1000)
    try:
        os.truncate(log, len(join_lines(lines[:501])))
        f.check_now()
        col.wait_message("cut back")
        append(log, b"new 0\nnew 1\n")
        f.check_now()
        col.wait_count(1002)
        assert col.data() == [*lines, b"new 0", b"new 1"]
        assert [r.line for r in col.lines[-2:]] == [502, 503]
        assert col.lines[-2].offset == len(join_lines(lines[:501]))
    finally:
        f.stop()


def test_cut_back_and_regrown_before_we_look_reads_the_new_lines_once(tmp_path: Path) -> None:
    log, col, f, lines = _followed_after(tmp_path, 300)
    try:
        os.truncate(log, len(join_lines(lines[:100])))
        append(log, b"after the cut 0\nafter the cut 1\n")  # still shorter than what was read
        f.check_now()
        col.wait_count(302)
        assert col.data() == [*lines, b"after the cut 0", b"after the cut 1"]
    finally:
        f.stop()


def test_cut_back_further_than_remembered_goes_on_at_the_new_end(tmp_path: Path) -> None:
    from threatlens.tail.openfile import RECENT_LINES

    log, col, f, lines = _followed_after(tmp_path, RECENT_LINES + 200)
    try:
        os.truncate(log, len(join_lines(lines[:100])))
        f.check_now()
        col.wait_message("cut back")
        append(log, b"later\n")
        f.check_now()
        col.wait_count(len(lines) + 1)
        assert col.data()[-1] == b"later" and col.lines[-1].line == 101
    finally:
        f.stop()


def test_copytruncate_in_the_middle_of_a_line_joins_its_two_halves(tmp_path: Path) -> None:
    """The writer keeps its descriptor: the bytes after the truncation finish the line it had begun."""
    log = tmp_path / "access.log"
    log.write_bytes(b"")
    col = Collector()
    f = follow([log], col, poll=True, poll_interval=3600)
    try:
        writer = open(log, "ab", buffering=0)  # noqa: SIM115 - the server's descriptor, O_APPEND
        writer.write(b"whole 1\nfirst half, ")
        f.check_now()
        col.wait_count(1)
        shutil.copyfile(log, tmp_path / "access.log.1")
        os.truncate(log, 0)
        writer.write(b"second half\nwhole 2\n")
        writer.close()
        f.check_now()
        col.wait_count(3)
        assert col.data() == [b"whole 1", b"first half, second half", b"whole 2"]
        assert [(r.line, r.offset) for r in col.lines[1:]] == [(1, 0), (2, 12)]
    finally:
        f.stop()


def test_halves_of_a_line_written_seconds_apart_across_a_rotation_stay_one_line(tmp_path: Path) -> None:
    """logrotate renames the file between the two writes of one line: the server finishes it in the old file."""
    log = tmp_path / "access.log"
    log.write_bytes(b"")
    col = Collector()
    f = follow([log], col, rotate_grace=0.2, rotate_linger=8.0)
    try:
        server = open(log, "ab", buffering=0)  # noqa: SIM115 - the server keeps its descriptor
        server.write(b"whole\nfirst half, ")
        col.wait_count(1)
        os.rename(log, tmp_path / "access.log.1")
        log.write_bytes(b"new 1\n")
        col.wait_message("rotated")
        time.sleep(1.5)  # longer than rotate_grace: the old file is quiet, but its line is unfinished
        server.write(b"second half\n")
        server.close()
        col.wait_data([b"whole", b"first half, second half", b"new 1"])
    finally:
        f.stop()
