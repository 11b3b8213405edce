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
# The access-log format of DESIGN ("Server-side evidence"), as the README gives it to users.
REPLAY_LOG_FORMAT = r"""log_format replay escape=json '{"v":1,"msec":"$msec","session":"$http_x_replay_session",'
  '"connection":"$connection","request_id":"$request_id","method":"$request_method",'
  '"uri":"$request_uri","host":"$host","status":"$status","request_time":"$request_time",'
  '"upstream_addr":"$upstream_addr","upstream_status":"$upstream_status",'
  '"upstream_connect_time":"$upstream_connect_time","upstream_header_time":"$upstream_header_time",'
  '"upstream_response_time":"$upstream_response_time","client":"$remote_addr"}';"""


@contextlib.contextmanager
def running_nginx(conf_dir: Path, port: int, locations: str, http: str = "", main: str = "",
                  log_format: str = LOG_FORMAT, error_level: str = "error"):
    """nginx listening on 127.0.0.1:port with these `location` blocks; access log in conf_dir/logs.

    `http` and `main` are more directives for those contexts (upstreams, zones, more `access_log` and
    `error_log` lines: nginx writes to each of them)."""
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
error_log {logs}/error.log {error_level};
{main}
events {{ worker_connections 256; }}
http {{
  {log_format}
  access_log {logs}/access.log replay;
  {temp}
  {http}
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
