"""Real services for the tests: redis-server and an S3-protocol server on free ports."""
from __future__ import annotations

import itertools
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from redis import Redis

from replay.core import settings as settings_mod
from replay.core.keys import RedisKeys

REDIS_DATABASES = 512

# Fixtures of the worker (contexts per storage backend) and of the web app, for every test folder; the check
# that fails a test whose processes logged a traceback; pytester, to test that check.
pytest_plugins = ["tests.worker_fixtures", "tests.web_fixtures", "tests.process_logs", "tests.redis_cluster", "pytester"]
# The sample recordings are timed in 2024: let ingest keep such old timestamps as they are
# (by default it sets events days away from its clock to their arrival time).
KEEP_OLD_EVENTS = {"MAX_EVENT_AGE_MS": 10 * 365 * 24 * 3600 * 1000}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout_s}s")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A private redis-server for the whole run; each test gets its own database."""
    binary = shutil.which("redis-server")
    if not binary:
        pytest.fail("redis-server is not installed: run the README's test command")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--databases", str(REDIS_DATABASES), "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    wait_for_port(port)
    yield {"host": "127.0.0.1", "port": port, "db_counter": itertools.count(1)}
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def redis_url(redis_server) -> str:
    db = next(redis_server["db_counter"]) % REDIS_DATABASES
    url = f"redis://{redis_server['host']}:{redis_server['port']}/{db}"
    Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def redis(redis_url) -> Redis:
    client = Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def keys() -> RedisKeys:
    return RedisKeys("replay:")


@pytest.fixture(scope="session")
def s3_server():
    """moto's ThreadedMotoServer: a real S3-protocol server on loopback."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    wait_for_port(port)
    yield {"endpoint": f"127.0.0.1:{port}", "access_key": "testing", "secret_key": "testing"}
    server.stop()


@pytest.fixture
def s3_settings(s3_server) -> dict:
    """REPLAY_* overrides for a fresh bucket on the S3 server."""
    return {
        "S3_ENDPOINT": s3_server["endpoint"],
        "S3_ACCESS_KEY": s3_server["access_key"],
        "S3_SECRET_KEY": s3_server["secret_key"],
        "S3_BUCKET": f"replay-{uuid.uuid4().hex[:12]}",
        "S3_SECURE": False,
        "S3_REGION": "us-east-1",
    }


@pytest.fixture
def settings(redis_url, tmp_path: Path):
    """Settings on the test Redis with objects in a temporary folder."""
    return settings_mod.load({"REDIS_URL": redis_url, "DATA_DIR": str(tmp_path / "data"), **KEEP_OLD_EVENTS},
                             environ={})
