"""Capture real nginx log lines for the parser tests: `.venv/bin/python -m tests.core.proxy_logs.capture`.

Runs Debian's nginx in front of tests/nginx_upstreams.py's failing upstreams, with DESIGN's `log_format`,
logging to files and over syslog (to a UDP socket here), sends each failing request once, and writes what
nginx wrote into tests/core/proxy_logs/fixtures/ (access.log, error.log, syslog.txt: one datagram a line).
"""
from __future__ import annotations

import socket
import tempfile
import time
from pathlib import Path

import requests

from tests.conftest import free_port
from tests.nginx import REPLAY_LOG_FORMAT, running_nginx
from tests.nginx_upstreams import FAILING_REQUESTS, failure_config

FIXTURES = Path(__file__).parent / "fixtures"
TAG = "sk_capture_0123456789"


def capture(out: Path = FIXTURES) -> None:
    catcher = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    catcher.bind(("127.0.0.1", 0))
    catcher.settimeout(1.0)
    syslog = f"syslog:server=127.0.0.1:{catcher.getsockname()[1]},tag={TAG},nohostname"
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp, failure_config() as (http, locations):
        http += f"\n access_log {syslog} replay;"
        main = f"error_log {syslog} warn;"
        with running_nginx(Path(tmp), port, locations, http=http, main=main, log_format=REPLAY_LOG_FORMAT,
                           error_level="info") as logs:
            for n, (method, path, times) in enumerate(FAILING_REQUESTS):
                for _ in range(times):
                    headers = {"X-Replay-Session": f"sess_capture_{n:04d}_abcdef"} if n % 3 != 2 else {}
                    try:
                        requests.request(method, f"http://127.0.0.1:{port}{path}?q=%22quoted%22&n={n}",
                                         headers=headers, data=b"x" * 10 if method == "POST" else None, timeout=10)
                    except requests.RequestException:
                        pass  # what nginx passed on of a broken upstream's answer
            # A client that gives up before the slow upstream answers (499).
            try:
                requests.get(f"http://127.0.0.1:{port}/fail/slow?gone=1", timeout=0.3)
            except requests.RequestException:
                pass
            time.sleep(3)
            datagrams = []
            while True:
                try:
                    datagrams.append(catcher.recv(65536).decode("utf-8", "replace"))
                except socket.timeout:
                    break
            out.mkdir(parents=True, exist_ok=True)
            (out / "access.log").write_text((logs / "access.log").read_text())
            (out / "error.log").write_text((logs / "error.log").read_text())
            (out / "syslog.txt").write_text("".join(d.replace("\n", "\\n") + "\n" for d in datagrams))


if __name__ == "__main__":
    capture()
    for name in ("access.log", "error.log", "syslog.txt"):
        print(name, len((FIXTURES / name).read_text().splitlines()), "lines")
