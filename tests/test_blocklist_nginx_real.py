"""The nginx block list in a real nginx on loopback: ``deny`` blocks where content is served, and does
nothing in a ``location`` answered by ``return`` (the note in the README and in the file's header)."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from threatlens.export import write_blocklist

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def test_deny_works_where_content_is_served_and_not_where_return_answers(tmp_path: Path) -> None:
    block = tmp_path / "threatlens-block.conf"
    assert write_blocklist(block, ["127.0.0.1", "198.51.100.7"], "nginx", include_private=True) == 2
    assert "return runs in the rewrite phase" in block.read_text()
    (tmp_path / "www" / "static").mkdir(parents=True)
    (tmp_path / "www" / "static" / "x.txt").write_text("hello\n")
    port = _free_port()
    temp = "".join(f"{kind}_temp_path {tmp_path}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                        "scgi"))
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
daemon off;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log off;
    {temp}
    server {{
        listen 127.0.0.1:{port};
        location /redirect {{ include {block}; return 301 /elsewhere; }}
        location /static/ {{ include {block}; root {tmp_path}/www; }}
    }}
}}
""")
    proc = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nginx did not start: {proc.stderr.read() if proc.stderr else ''}")
                time.sleep(0.05)
        assert _get(port, "/static/x.txt") == 403  # the list applies where content is served
        assert "access forbidden by rule" in (tmp_path / "error.log").read_text()
        assert _get(port, "/redirect") == 301  # ...and not where return answers: the blocked client is redirected
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stderr is not None:
            proc.stderr.close()
