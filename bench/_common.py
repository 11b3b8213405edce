"""Shared by the benchmarks: a real embedded `replay serve` in a temporary folder."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent / "replay"
CHAINED = ("During handling of the above exception", "The above exception was the direct cause")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port} after {timeout_s}s")


def cli(env: dict, *args: str) -> str:
    """An admin command's printed key or token (the last word of its last line)."""
    out = subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1].split()[-1]


@contextlib.contextmanager
def embedded_replay(**settings: str):
    """`replay serve` on the embedded default; yields (base_url, env, data_dir).

    Its output (web process, worker, Redis) goes to serve.log in the data folder; once it
    has stopped, the number of errors logged there with a Python traceback is printed.
    """
    data = tempfile.mkdtemp(prefix="replay-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPLAY_")}
    env.update(REPLAY_DATA_DIR=data, **{f"REPLAY_{k}": v for k, v in settings.items()})
    port = free_port()
    log = Path(data) / "serve.log"
    with open(log, "ab") as out:
        server = subprocess.Popen([str(BIN), "serve", "--port", str(port)], env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    try:
        wait_port(port)
        yield f"http://127.0.0.1:{port}", env, Path(data)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        text = log.read_text(errors="replace")
        # A chained exception prints one traceback per link: count the errors, not the links.
        errors = text.count("Traceback (most recent call last)") - sum(text.count(link) for link in CHAINED)
        print(f"replay serve logged {errors} error(s) with a traceback ({log})")
