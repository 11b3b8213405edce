"""A real nginx for tests, run from a private prefix folder (as root its workers run as root too)."""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import wait_for_port

LOG_FORMAT = "log_format replay '$request_method $uri $status $request_time session=$http_x_replay_session';"


@contextlib.contextmanager
def running_nginx(conf_dir: Path, port: int, locations: str):
    """nginx listening on 127.0.0.1:port with these `location` blocks; access log in conf_dir/logs."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(binary):
        pytest.fail("nginx is not installed: run the README's test command")
    logs = conf_dir / "logs"
    logs.mkdir(exist_ok=True)
    # As root, nginx's workers would run as nobody and could not read pytest's private temp folders.
    user = "user root;" if os.geteuid() == 0 else ""
    temp = " ".join(f"{kind}_temp_path {conf_dir}/tmp-{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (conf_dir / "nginx.conf").write_text(f"""
{user}
daemon off;
worker_processes 1;
pid {conf_dir}/nginx.pid;
error_log {logs}/error.log;
events {{ worker_connections 256; }}
http {{
  {LOG_FORMAT}
  access_log {logs}/access.log replay;
  {temp}
  server {{
    listen 127.0.0.1:{port};
    {locations}
  }}
}}
""")
    proc = subprocess.Popen([binary, "-p", str(conf_dir), "-c", str(conf_dir / "nginx.conf"), "-e", str(logs / "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port)
        yield logs
    finally:
        proc.terminate()
        proc.wait(10)
