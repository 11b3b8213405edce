"""`replay worker` as a process: a SIGTERM stops it, busy or idle; a Redis restart under a running job does not."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, Worker

from tests.conftest import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


def _worker(redis_url: str, data: Path) -> subprocess.Popen:
    env = dict(os.environ, REPLAY_REDIS_URL=redis_url, REPLAY_DATA_DIR=str(data),
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    return subprocess.Popen([sys.executable, "-m", "replay", "worker"], env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_state(redis: Redis, proc: subprocess.Popen, state: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not any(w.pid == proc.pid and w.get_state() == state for w in Worker.all(connection=redis)):
        assert proc.poll() is None, proc.stdout.read()
        assert time.monotonic() < deadline, f"the worker is not {state} after {timeout_s}s"
        time.sleep(0.05)


def _end(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_an_idle_worker_stops_on_sigterm(redis_url, redis, tmp_path):
    proc = _worker(redis_url, tmp_path)
    try:
        # Idle: waiting for a job, its signal handlers installed.
        _wait_state(redis, proc, "idle")
        proc.send_signal(signal.SIGTERM)
        # RQ's warm shutdown of an idle worker ends its loop without `_stop_requested`: that is no Redis restart.
        assert proc.wait(10) == 0
        assert "working again" not in proc.stdout.read()
    finally:
        _end(proc)


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server this test may kill and start again on the same port."""
    port = free_port()
    cmd = [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "no", "--dir", str(tmp_path)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, start_new_session=True)]
    wait_for_port(port)

    def restart(down_s: float) -> None:
        procs[-1].kill()
        procs[-1].wait()
        time.sleep(down_s)
        procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, start_new_session=True))
        wait_for_port(port)

    yield f"redis://127.0.0.1:{port}/0", restart
    procs[-1].kill()
    procs[-1].wait()


def test_a_worker_busy_when_redis_goes_away_works_again_once_it_is_back(own_redis, tmp_path):
    url, restart = own_redis
    redis = Redis.from_url(url)
    proc = _worker(url, tmp_path)
    try:
        _wait_state(redis, proc, "idle")
        # Any job does: this one keeps the worker busy while Redis is away, longer than redis-py's own retries.
        Queue("replay", connection=redis).enqueue("time.sleep", 1.5)
        _wait_state(redis, proc, "busy")
        restart(down_s=4)
        _wait_state(redis, proc, "idle")
        job = Queue("replay", connection=redis).enqueue("time.sleep", 0)
        deadline = time.monotonic() + 30
        while job.get_status(refresh=True) != "finished":
            assert proc.poll() is None and time.monotonic() < deadline, "no job runs after the restart"
            time.sleep(0.05)
    finally:
        _end(proc)
    assert proc.returncode == -signal.SIGKILL, "the worker exited by itself"
