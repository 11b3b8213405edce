"""End-to-end fixtures: `replay serve` and `replay worker` as processes, nginx in front of a test site, Chromium."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port, free_udp_port, wait_for_port
from tests.nginx import running_nginx
from tests.process_logs import TRACEBACK, LogWatch

SITE = Path(__file__).parent / "site"
BIN = Path(sys.executable).parent
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def replay_cli(env: dict, *args: str) -> str:
    """Run an admin command; return the last word of its last line (the key or token)."""
    out = subprocess.run([str(BIN / "replay"), *args], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and TRACEBACK not in out.stderr, out.stderr
    return out.stdout.strip().splitlines()[-1].split()[-1]


@pytest.fixture(scope="module")
def replay_env(redis_server, s3_server, tmp_path_factory):
    """Environment of a production-shaped deployment: Redis and S3 servers, fast flushes."""
    db = next(redis_server["db_counter"])
    env = dict(os.environ)
    env.update({
        "REPLAY_REDIS_URL": f"redis://{redis_server['host']}:{redis_server['port']}/{db}",
        "REPLAY_S3_ENDPOINT": s3_server["endpoint"],
        "REPLAY_S3_ACCESS_KEY": s3_server["access_key"],
        "REPLAY_S3_SECRET_KEY": s3_server["secret_key"],
        "REPLAY_S3_BUCKET": f"e2e-{db}",
        "REPLAY_S3_SECURE": "false",
        "REPLAY_DATA_DIR": str(tmp_path_factory.mktemp("replay-data")),
        "REPLAY_FLUSH_AGE_MS": "1000",
        "REPLAY_FLUSH_IDLE_MS": "200",
        # Its own syslog port: the default one may be another running service's.
        "REPLAY_SYSLOG_ADDR": f"127.0.0.1:{free_udp_port()}",
    })
    return env


class ReplayProcesses:
    """`replay serve` and `replay worker` as separate processes, each in its own process group.

    Their output goes to serve.log and worker.log, watched by tests/process_logs.py: a
    traceback in either fails the test during which it was logged.
    """

    def __init__(self, env: dict, logs: Path, watch: LogWatch):
        self.env, self.logs = env, logs
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.web = self.worker = None
        for name, label in (("serve", "replay serve"), ("worker", "replay worker")):
            watch.watch(logs / f"{name}.log", label)

    def _spawn(self, name: str, *args: str) -> subprocess.Popen:
        with open(self.logs / f"{name}.log", "a") as log:
            return subprocess.Popen([str(BIN / "replay"), *args], env=self.env, start_new_session=True,
                                    stdout=log, stderr=subprocess.STDOUT)

    def start_web(self) -> None:
        self.web = self._spawn("serve", "serve", "--host", "127.0.0.1", "--port", str(self.port))
        wait_for_port(self.port, 30)

    def start_worker(self) -> None:
        self.worker = self._spawn("worker", "worker")

    @staticmethod
    def kill(proc: subprocess.Popen | None, sig=signal.SIGTERM) -> None:
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, sig)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def crash_web(self) -> None:
        """SIGKILL the whole web tier, as a crash or a pulled plug would."""
        self.kill(self.web, signal.SIGKILL)

    def stop(self) -> None:
        self.kill(self.web)
        self.kill(self.worker)


@pytest.fixture(scope="module")
def replay_procs(replay_env, tmp_path_factory, process_logs):
    procs = ReplayProcesses(replay_env, tmp_path_factory.mktemp("replay-logs"), process_logs)
    try:
        procs.start_worker()
        procs.start_web()
        yield procs
    finally:
        procs.stop()


@pytest.fixture(scope="module")
def replay_server(replay_procs) -> str:
    """The base URL of the running `replay serve`."""
    return replay_procs.url


@pytest.fixture(scope="module")
def site(replay_env, replay_server, tmp_path_factory):
    """nginx serving the test site, with /api/ proxied to a port where nothing listens (a real 502)."""
    port, dead_port = free_port(), free_port()
    origin = f"http://127.0.0.1:{port}"
    key = replay_cli(replay_env, "project", "create", "acme", "--origin", origin)
    root = tmp_path_factory.mktemp("site")
    html = (SITE / "index.html").read_text()
    html = html.replace("__SNIPPET_URL__", f"{replay_server}/snippet.js").replace("__PROJECT_KEY__", key)
    (root / "index.html").write_text(html)
    locations = f"location / {{ root {root}; }}  location /api/ {{ proxy_pass http://127.0.0.1:{dead_port}; }}"
    with running_nginx(tmp_path_factory.mktemp("nginx"), port, locations) as logs:
        yield {"url": origin + "/", "origin": origin, "key": key, "access_log": logs / "access.log", "root": root}


@pytest.fixture(scope="module")
def api_token(replay_env, replay_server) -> str:
    return replay_cli(replay_env, "token", "create", "--name", "e2e")


@pytest.fixture(scope="module")
def viewer_login(replay_env, replay_server) -> tuple[str, str]:
    email, password = "dev@example.com", "correct horse battery"
    replay_cli(replay_env, "user", "create", email, "--password", password)
    return email, password


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def api(replay_server, api_token):
    """GET helper for the JSON API."""

    def get(path: str, **params):
        r = requests.get(replay_server + path, params=params,
                         headers={"Authorization": f"Bearer {api_token}"}, timeout=10)
        return r

    return get


def poll(fn, timeout_s: float = 30.0, interval_s: float = 0.25):
    """Call fn until it returns something truthy; fail with the last value after timeout_s."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"gave up after {timeout_s}s; last value: {last!r}")


def socket_frames(page, seen: list[str] | None = None) -> list[str]:
    """The websocket frames `page` receives, as text, from before it opens anything (call before page.goto).

    Read from Chromium's network domain: Playwright's own websocket events are attached only once it reports the
    socket, and a frame that came before (the collector's ready, on a busy machine) was missed. `seen` gets a line
    per socket event, for a failing test's message."""
    frames: list[str] = []
    seen = seen if seen is not None else []

    def heard(event):
        frames.append(event["response"]["payloadData"])
        seen.append(f"got {frames[-1][:120]}")

    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.on("Network.webSocketCreated", lambda e: seen.append(f"socket {e['url']}"))
    cdp.on("Network.webSocketFrameReceived", heard)
    cdp.on("Network.webSocketClosed", lambda _: seen.append("socket closed"))
    cdp.on("Network.webSocketFrameError", lambda e: seen.append(f"socket error {e.get('errorMessage')}"))
    return frames
