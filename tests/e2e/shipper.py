"""`replay logs ship` as a process, and nginx-shaped log lines written to real files, for the shipper's tests."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from tests.e2e.conftest import BIN, poll

ERROR_LINE = ('2026/11/30 04:52:06 [error] 18914#18914: *{n} connect() failed (111: Connection refused) while '
              'connecting to upstream, client: 127.0.0.1, server: , request: "GET /api/orders/{n} HTTP/1.1", '
              'upstream: "http://127.0.0.1:9/api/orders/{n}", host: "shop.example"')


def access_line(session: str, n: int) -> str:
    """An access line of DESIGN's log_format (as nginx writes it), told apart by its request id."""
    return json.dumps({"v": 1, "msec": f"{time.time():.3f}", "session": session, "connection": str(n),
                       "request_id": f"rid{n:08d}", "method": "GET", "uri": f"/api/orders/{n}",
                       "host": "shop.example", "status": "502", "request_time": "0.001",
                       "upstream_addr": "127.0.0.1:9", "upstream_status": "502", "upstream_connect_time": "-",
                       "upstream_header_time": "-", "upstream_response_time": "0.001", "client": "127.0.0.1"},
                      separators=(",", ":"))


class LogFile:
    """A log written as nginx writes one: opened for appending, one line per write."""

    def __init__(self, path: Path):
        self.path = path
        self.fh = None

    def reopen(self) -> None:  # what `nginx -s reopen` does after logrotate renamed the file
        if self.fh:
            self.fh.close()
        self.fh = open(self.path, "a", buffering=1)

    def write(self, text: str) -> None:
        if self.fh is None:
            self.reopen()
        self.fh.write(text)


class ShipperProcess:
    def __init__(self, env: dict, url: str, server_key: str, state: Path, log: Path, *files: str):
        self.env = {**env, "REPLAY_SERVER_KEY": server_key}
        self.args = [str(BIN / "replay"), "logs", "ship", *files, "--url", url, "--state", str(state),
                     "--batch-wait", "0.2", "--rotate-wait", "3", "--max-backoff", "1"]
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self, *extra: str) -> "ShipperProcess":
        offset = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "a") as out:
            self.proc = subprocess.Popen([*self.args, *extra], env=self.env, stdout=out, stderr=subprocess.STDOUT)
        poll(lambda: "shipping " in self.log.read_text()[offset:], 20)
        return self

    def stop(self, sig=signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        return self.proc.wait(20)

    def text(self) -> str:
        return self.log.read_text()

    def wait_for_log(self, text: str, timeout_s: float = 20) -> None:
        poll(lambda: text in self.text(), timeout_s)
