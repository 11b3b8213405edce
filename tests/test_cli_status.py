"""`replay status`: the health and backlog /readyz reports, in a terminal, with an exit code scripts can test."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from redis import Redis

from replay.core.keys import RedisKeys
from tests.conftest import free_port
from tests.process_logs import TRACEBACK

BIN = Path(sys.executable).parent / "replay"


def status(redis_url, tmp_path, *args, **env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REPLAY_")}
    environ.update({"REPLAY_REDIS_URL": redis_url, "REPLAY_DATA_DIR": str(tmp_path / "data"), **env})
    out = subprocess.run([str(BIN), "status", *args], env=environ, capture_output=True, text=True, timeout=60)
    assert TRACEBACK not in out.stderr, out.stderr
    return out


def test_status_prints_health_and_backlog_and_exits_0_when_ready(redis_url, tmp_path):
    out = status(redis_url, tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "replay: ready"
    for row in ("redis", "storage", "queue"):
        assert any(line.split() == [row, "ok"] for line in lines), out.stdout
    for label in ("queue depth", "oldest queued job", "due flushes", "most overdue flush", "failed jobs",
                  "workers alive", "sessions indexed"):
        assert any(line.strip().startswith(label) for line in lines), (label, out.stdout)


def test_status_exits_1_and_names_what_is_wrong(redis_url, tmp_path):
    keys = RedisKeys("replay:")
    Redis.from_url(redis_url).zadd(keys.flush_due(), {"sess_late_0123456789": int(time.time() * 1000) - 600_000})
    out = status(redis_url, tmp_path)
    assert out.returncode == 1
    assert out.stdout.splitlines()[0] == "replay: NOT READY: queue"
    lines = [line.split() for line in out.stdout.splitlines()]
    assert ["queue", "FAILED", "(flush_overdue)"] in lines
    assert next(float(w[3]) for w in lines if w[:3] == ["most", "overdue", "flush"]) >= 599
    report = json.loads(status(redis_url, tmp_path, "--json").stdout)
    assert report["ok"] is False and report["checks"]["queue"]["due_flushes"] == 1


def test_status_with_redis_down(tmp_path):
    out = status(f"redis://127.0.0.1:{free_port()}/0", tmp_path)
    assert out.returncode == 1
    assert out.stdout.splitlines()[0] == "replay: NOT READY: redis, queue"
    assert "ConnectionError" in out.stdout and "redis: ConnectionError" in out.stderr
