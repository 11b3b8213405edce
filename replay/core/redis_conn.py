"""One way to reach Redis for the web process, the worker and the CLI.

With `REPLAY_REDIS_URL` unset, the embedded default's server is used
(replay/core/embedded_redis.py): the one `replay serve` runs, or one started
for this process.
"""
from __future__ import annotations

from redis import BlockingConnectionPool, Redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import BusyLoadingError, ConnectionError, TimeoutError
from redis.retry import Retry

from replay.core import embedded_redis
from replay.core.settings import Settings

# A command that meets a dropped connection or a Redis still loading is tried again a few
# times (each of our writes is idempotent: the append script drops a batch it already holds).
RETRIES = 3


def connect(settings: Settings) -> Redis:
    """A client for the configured Redis; starts the embedded one when none is configured."""
    url = settings.REDIS_URL or embedded_redis.ensure(settings)
    # Callers wait for a free connection (up to the pool timeout) instead of failing when many
    # requests are in flight: an open websocket holds no connection between its messages.
    pool = BlockingConnectionPool.from_url(
        url, max_connections=settings.REDIS_MAX_CONNECTIONS, timeout=settings.REDIS_POOL_TIMEOUT_S,
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT_S, socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT_S,
        health_check_interval=30, retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), RETRIES),
        retry_on_error=[ConnectionError, TimeoutError, BusyLoadingError])
    return Redis(connection_pool=pool)


def probe_client(redis: Redis, timeout_s: float) -> Redis:
    """A client to the same server that gives up after `timeout_s` and never retries: a health probe says
    "unreachable" within its own deadline instead of waiting out the request client's retries."""
    pool = redis.connection_pool
    kwargs = dict(pool.connection_kwargs, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                  retry=Retry(NoBackoff(), 0), retry_on_error=[], health_check_interval=0)
    # A few connections, waited for (not refused) when probes and scrapes come at once.
    return Redis(connection_pool=BlockingConnectionPool(connection_class=pool.connection_class, max_connections=8,
                                                        timeout=timeout_s, **kwargs))
