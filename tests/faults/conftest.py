"""Fault fixtures: redis-server (AOF, fsync always), moto's S3 behind a switchable proxy, `replay serve` and two
`replay worker` processes, each a real process that a test can kill and start again.

Every process runs this checkout's code (PYTHONPATH), in its own process group, with its
output in a log file whose tail is printed when a test fails.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests
from redis import Redis
from redis.exceptions import BusyLoadingError, RedisError

from tests.conftest import free_port, wait_for_port
from tests.faults.proxy import FaultyProxy

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "http://shop.test"
# The results printed at the end of the run: scenario -> seconds from the fault's end to all stored,
# and scenario -> what was still missing, and when (seconds after the fault's end, first problem).
TIMINGS: dict[str, float] = {}
TIMELINES: dict[str, list] = {}
NOTES: dict[str, str] = {}


def _env_with_checkout() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def _stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, wait_s: float = 20) -> None:
    """Signal the process group; SIGKILL it if it outlives wait_s."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(wait_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def _tail(path: Path, chars: int = 6000) -> str:
    if not path.exists():
        return "(no log)"
    text = path.read_text(errors="replace")
    return text[-chars:]


class RedisServer:
    """redis-server with AOF and `appendfsync always` in its own folder and port; restartable on both."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = workdir / "redis.log"
        self.proc: subprocess.Popen | None = None
        self.client = Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=2)

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if not binary:
            pytest.fail("redis-server is not on PATH")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=open(self.log, "a"), stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready()

    def wait_ready(self, timeout_s: float = 20) -> None:
        """Until it answers a read (PING answers while it is still loading its AOF)."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self.client.exists("fault-test:ready")
                return
            except (BusyLoadingError, RedisError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self, sig: int) -> None:
        _stop(self.proc, sig)

    def stop(self) -> None:
        _stop(self.proc)


class Deployment:
    """`replay serve` and two `replay worker` processes pointed at the Redis and the S3 proxy."""

    WORKERS = ("worker-1", "worker-2")

    def __init__(self, env: dict, logs: Path):
        self.env, self.logs = env, logs
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.procs: dict[str, subprocess.Popen] = {}
        # Processes a test killed on purpose (their exit is no failure of theirs).
        self.killed: set[int] = set()

    def _spawn(self, name: str, *args: str) -> None:
        log = open(self.logs / f"{name}.log", "a")
        log.write(f"\n===== {time.strftime('%H:%M:%S')} start {name}\n")
        log.flush()
        self.procs[name] = subprocess.Popen([sys.executable, "-m", "replay", *args], env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True, cwd=str(ROOT))

    def start(self, name: str) -> None:
        if name == "web":
            self._spawn("web", "serve", "--host", "127.0.0.1", "--port", str(self.port))
            wait_for_port(self.port, 30)
        else:
            self._spawn(name, "worker")

    def start_all(self) -> None:
        for name in self.WORKERS:
            self.start(name)
        self.start("web")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs[name]
        self.killed.add(proc.pid)
        _stop(proc, sig)

    def name_of(self, pid: int) -> str | None:
        return next((name for name, proc in self.procs.items() if proc.pid == pid), None)

    def ensure_running(self) -> None:
        """Start again whatever a previous test killed (after checking nothing died by itself)."""
        self.assert_no_unexpected_exit()
        for name in ("worker-1", "worker-2", "web"):
            if self.procs[name].poll() is not None:
                self.start(name)

    def wait_workers(self, redis: Redis, timeout_s: float = 30) -> None:
        """Until every running worker process is registered with RQ (listening for jobs)."""
        from rq import Worker

        want = {p.pid for name, p in self.procs.items() if name in self.WORKERS and p.poll() is None}
        deadline = time.monotonic() + timeout_s
        while not want <= {w.pid for w in Worker.all(connection=redis)}:
            assert time.monotonic() < deadline, f"workers {want} not registered after {timeout_s}s"
            time.sleep(0.1)

    def unexpected_exits(self) -> list[str]:
        return [f"{name} (pid {p.pid}) exited with {p.returncode}" for name, p in self.procs.items()
                if p.poll() is not None and p.pid not in self.killed]

    def assert_no_unexpected_exit(self) -> None:
        exits = self.unexpected_exits()
        assert not exits, f"processes exited by themselves: {exits}"

    def stop(self) -> None:
        for proc in self.procs.values():
            _stop(proc)

    def tails(self) -> str:
        return f"(logs in {self.logs})\n" + "\n".join(f"----- {path.name} -----\n{_tail(path)}"
                                                     for path in sorted(self.logs.glob("*.log")))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.fault_failed = report.failed
    return report


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.section("fault scenarios: seconds from the fault's end to all acked events stored and searchable")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{name:<40} {seconds:6.1f} s")
            terminalreporter.write_line(f"    {NOTES.get(name, '')}")
            for t, problem in TIMELINES.get(name, []):
                terminalreporter.write_line(f"    +{t:5.1f} s  {(problem or 'all stored and searchable')[:160]}")


@pytest.fixture(scope="module")
def redis_proc(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("fault-redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3_proxy():
    """moto's S3 server, and the proxy the deployment reaches it through; yields (proxy, direct endpoint)."""
    from moto.server import ThreadedMotoServer

    moto_port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port)
    moto.start()
    wait_for_port(moto_port)
    proxy = FaultyProxy(("127.0.0.1", moto_port), free_port()).start()
    yield proxy, f"127.0.0.1:{moto_port}"
    proxy.stop()
    moto.stop()


@pytest.fixture(scope="module")
def fault_env(redis_proc, s3_proxy, tmp_path_factory):
    proxy, _ = s3_proxy
    env = _env_with_checkout()
    env.update({
        "REPLAY_REDIS_URL": redis_proc.url,
        "REPLAY_S3_ENDPOINT": proxy.endpoint,
        "REPLAY_S3_ACCESS_KEY": "testing",
        "REPLAY_S3_SECRET_KEY": "testing",
        "REPLAY_S3_BUCKET": f"faults-{uuid.uuid4().hex[:12]}",
        "REPLAY_S3_SECURE": "false",
        "REPLAY_DATA_DIR": str(tmp_path_factory.mktemp("fault-data")),
        "REPLAY_SECRET_KEY": "fault-test-secret",
        "REPLAY_FLUSH_AGE_MS": "500",
        "REPLAY_FLUSH_IDLE_MS": "500",
    })
    # The subprocesses must run this checkout, not whatever the venv's editable install points at.
    found = subprocess.run([sys.executable, "-c", "import replay, worker; print(replay.__file__, worker.__file__)"],
                           env=env, capture_output=True, text=True, check=True, cwd="/").stdout.split()
    assert all(Path(f).resolve().is_relative_to(ROOT) for f in found), f"subprocesses import {found}, not {ROOT}"
    return env


def replay_cli(env: dict, *args: str) -> str:
    """Run an admin command; return the last word of its last line (the key or token)."""
    out = subprocess.run([sys.executable, "-m", "replay", *args], env=env, capture_output=True, text=True,
                         timeout=60, cwd=str(ROOT))
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1].split()[-1]


@pytest.fixture(scope="module")
def deployment(request, fault_env):
    # Not under pytest's basetemp: other runs on the machine rotate those away, and a failure's logs must stay.
    logs = Path(tempfile.mkdtemp(prefix="replay-fault-logs-"))
    deploy = Deployment(fault_env, logs)
    try:
        deploy.start_all()
        yield deploy
    finally:
        deploy.stop()
        if request.session.testsfailed:
            print(f"fault test logs kept in {logs}")
        else:
            shutil.rmtree(logs, ignore_errors=True)


@pytest.fixture(scope="module")
def project_key(fault_env, redis_proc) -> str:
    return replay_cli(fault_env, "project", "create", "faults", "--origin", ORIGIN)


@pytest.fixture(scope="module")
def api(fault_env, deployment, redis_proc):
    token = replay_cli(fault_env, "token", "create", "--name", "faults")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"

    def get(path: str, **params) -> requests.Response:
        return session.get(deployment.url + path, params=params, timeout=10)

    return get


@pytest.fixture(scope="module")
def store(fault_env, s3_proxy):
    """The deployment's bucket, read straight from the S3 server (not through the proxy)."""
    from replay.storage.store import S3Store

    _, direct = s3_proxy
    return S3Store(direct, "testing", "testing", fault_env["REPLAY_S3_BUCKET"], secure=False, region="us-east-1")


@pytest.fixture
def stack(request, deployment, redis_proc, s3_proxy):
    """Everything running at the start of a test; logs shown if it fails; no process may have exited by itself."""
    proxy, _ = s3_proxy
    proxy.set_mode("pass", drop_held=True)
    deployment.ensure_running()
    deployment.wait_workers(redis_proc.client)
    yield deployment
    if getattr(request.node, "fault_failed", False):
        print(deployment.tails())
        print(f"----- redis.log -----\n{_tail(redis_proc.log, 3000)}")
