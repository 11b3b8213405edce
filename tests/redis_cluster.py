"""A real three-master Redis Cluster on loopback ports, for the whole run (started by the first test that asks)."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from tests.conftest import wait_for_port

MASTERS = 3


def _cluster_ok(port: int) -> bool:
    out = subprocess.run(["redis-cli", "-p", str(port), "cluster", "info"], capture_output=True, text=True, timeout=5)
    return "cluster_state:ok" in out.stdout


def cluster_port() -> int:
    """A free port whose cluster bus port (the port + 10000) is free too: so at most 55535."""
    for _ in range(200):
        with socket.socket() as s, socket.socket() as bus:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            if port > 55535:
                continue
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port pair for a cluster node")


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory):
    """`redis-server --cluster-enabled yes` three times, joined by `redis-cli --cluster create`; yields the
    `redis+cluster://` URL of replay's setting."""
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        pytest.fail("redis-server and redis-cli are needed: run the README's test command")
    ports, procs = [cluster_port() for _ in range(MASTERS)], []
    try:
        for port in ports:
            workdir = tmp_path_factory.mktemp(f"cluster-{port}")
            procs.append(subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                 "--cluster-config-file", str(workdir / "nodes.conf"), "--cluster-node-timeout", "2000",
                 "--appendonly", "no", "--save", "", "--dir", str(workdir)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in ports:
            wait_for_port(port)
        subprocess.run(["redis-cli", "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports),
                        "--cluster-replicas", "0", "--cluster-yes"], check=True, capture_output=True, timeout=60)
        deadline = time.monotonic() + 20
        while not all(_cluster_ok(p) for p in ports):
            if time.monotonic() > deadline:
                pytest.fail("the test Redis Cluster never reached cluster_state:ok")
            time.sleep(0.1)
        yield "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in ports)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)
