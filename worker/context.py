"""The worker's clients, built once per process, reached by jobs through current()."""
from __future__ import annotations

from redis import Redis

from replay.core import redis_conn
from replay.core.settings import Settings
from replay.ingest.buffer import Buffer
from replay.core.keys import RedisKeys
from replay.storage.store import ObjectStore, make_store


class Context:
    """Settings plus the Redis clients (data, queue), key names, object store and buffer a job needs."""

    def __init__(self, settings: Settings, *, redis: Redis | None = None, store: ObjectStore | None = None):
        self.settings = settings
        self.redis = redis if redis is not None else redis_conn.connect(settings)
        # RQ's queue and workers: the same client unless QUEUE_REDIS_URL names another Redis.
        self.queue_redis = redis_conn.queue_connect(settings, self.redis)
        self.keys = RedisKeys.of(settings)
        self.store = store if store is not None else make_store(settings)
        self.buffer = Buffer(self.redis, self.keys, settings)


_current: Context | None = None


def configure(settings_or_context: Settings | Context) -> Context:
    """Set the process-wide context (a work-horse forked after this inherits it)."""
    global _current
    ctx = settings_or_context if isinstance(settings_or_context, Context) else Context(settings_or_context)
    _current = ctx
    return ctx


def current() -> Context:
    """The configured context, built from the environment on first use if nobody configured one."""
    global _current
    if _current is None:
        from replay.core import settings as settings_mod

        _current = Context(settings_mod.load())
    return _current


def configured() -> Context | None:
    """The configured context, or None (never builds one)."""
    return _current


def reset() -> None:
    """Forget the context (tests)."""
    global _current
    _current = None
