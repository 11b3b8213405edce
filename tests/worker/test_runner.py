"""`replay worker` as a process: a SIGTERM stops it, busy or idle."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rq import Worker

ROOT = Path(__file__).resolve().parents[2]


def test_an_idle_worker_stops_on_sigterm(redis_url, redis, tmp_path):
    env = dict(os.environ, REPLAY_REDIS_URL=redis_url, REPLAY_DATA_DIR=str(tmp_path),
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.Popen([sys.executable, "-m", "replay", "worker"], env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        # Idle: waiting for a job, its signal handlers installed.
        while not any(w.pid == proc.pid and w.get_state() == "idle" for w in Worker.all(connection=redis)):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read() if proc.poll() else "slow"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        # RQ's warm shutdown of an idle worker ends its loop without `_stop_requested`: that is no Redis restart.
        assert proc.wait(10) == 0
        assert "working again" not in proc.stdout.read()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
