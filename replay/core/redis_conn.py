"""One way to reach Redis for the web process, the worker and the CLI.

With `REPLAY_REDIS_URL` unset, the embedded default's server is used
(replay/core/embedded_redis.py): the one `replay serve` runs, or one started
for this process. `redis+cluster://host:port,host:port,...` reaches a Redis
Cluster through redis-py's cluster client (the keys then carry hash tags:
replay/core/keys.py); the RQ queue stays on a plain Redis (`queue_connect`).
"""
from __future__ import annotations

import select
from urllib.parse import unquote, urlsplit

from gevent.monkey import get_original
from redis import BlockingConnectionPool, Connection, Redis, UnixDomainSocketConnection
from redis.cluster import ClusterNode, RedisCluster
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import BusyLoadingError, ConnectionError, NoScriptError, TimeoutError
from redis.commands.core import Script
from redis.retry import Retry

from replay.core import embedded_redis
from replay.core.settings import Settings

try:  # a redis-py with maintenance notifications (8.1 here)
    from redis.maint_notifications import MaintNotificationsConfig
    _NO_MAINT_NOTIFICATIONS = {"maint_notifications_config": MaintNotificationsConfig(enabled=False)}
except ImportError:  # none to turn off: the pool acts on its check
    _NO_MAINT_NOTIFICATIONS = {}

# A command that meets a dropped connection or a Redis still loading is tried again a few
# times (each of our writes is idempotent: the append script drops a batch it already holds).
RETRIES = 3


# The system's poll, even in a gevent-patched process: with timeout 0 it never blocks, and gevent's costs a
# trip through its hub (about 15 us a command).
_poll = get_original("select", "poll")


class _QuickCheck:
    """A connection whose "anything to read?" (asked by the pool at every checkout) is one poll(0).

    Only the common answer, nothing buffered and nothing on the socket, is given here; anything else (data,
    EOF, an error) goes to redis-py's own check, which disconnects a connection not ready for a command.
    """

    def can_read(self, timeout: float = 0) -> bool:
        sock, parser = self._sock, self._parser
        if timeout == 0 and sock is not None and not _buffered(parser):
            poller = _poll()
            poller.register(sock.fileno(), select.POLLIN)
            if not poller.poll(0):
                return False
        return super().can_read(timeout)


class QuickCheckConnection(_QuickCheck, Connection):
    """TCP."""


class QuickCheckUnixConnection(_QuickCheck, UnixDomainSocketConnection):
    """A unix socket (the embedded Redis's)."""


_QUICK = {Connection: QuickCheckConnection, UnixDomainSocketConnection: QuickCheckUnixConnection}


def _buffered(parser) -> bool:
    """Might the parser hold bytes read from the socket but not parsed yet (hiredis's, or the Python one's)?"""
    if hasattr(parser, "_reader"):
        return parser._reader is None or parser._reader.has_data()
    buffer = getattr(parser, "_buffer", None)
    return buffer is None or bool(buffer.unread_bytes())


def connect(settings: Settings, max_connections: int | None = None) -> Redis:
    """A client for the configured Redis; starts the embedded one when none is configured. Its pool holds
    `max_connections` (default REDIS_MAX_CONNECTIONS)."""
    most = max_connections or settings.REDIS_MAX_CONNECTIONS
    if settings.redis_cluster:
        return _cluster(settings.REDIS_URL, settings.REDIS_SOCKET_TIMEOUT_S, most,
                        Retry(ExponentialBackoff(cap=1.0, base=0.05), RETRIES))
    url = settings.REDIS_URL or embedded_redis.ensure(settings)
    return _plain(url, settings, most)


def queue_connect(settings: Settings, redis: Redis | None = None) -> Redis:
    """The client RQ's queue and workers use: QUEUE_REDIS_URL's, else the data Redis (`redis`, when the caller
    holds a client of it already). A cluster holds no queue: it takes a QUEUE_REDIS_URL."""
    if settings.QUEUE_REDIS_URL:
        return _plain(settings.QUEUE_REDIS_URL, settings, settings.REDIS_MAX_CONNECTIONS)
    if settings.redis_cluster:
        raise SystemExit("REPLAY_QUEUE_REDIS_URL: set it to a plain Redis for the job queue "
                         "(RQ does not run on a Redis Cluster)")
    return redis if redis is not None else connect(settings)


def cluster_nodes(url: str) -> tuple[list[ClusterNode], dict]:
    """The startup nodes of a `redis+cluster://[user:password@]host:port,host:port,...` URL, and its credentials."""
    parts = urlsplit(url)
    auth, _, hosts = parts.netloc.rpartition("@")
    user, _, password = auth.partition(":")
    nodes = []
    for host in filter(None, hosts.split(",")):
        name, _, port = host.rpartition(":") if ":" in host else (host, "", "6379")
        nodes.append(ClusterNode(name.strip("[]"), int(port)))
    if not nodes:
        raise SystemExit(f"REPLAY_REDIS_URL: no host:port in {url!r}")
    return nodes, {"username": unquote(user) or None, "password": unquote(password) or None}


def _cluster(url: str, timeout_s: float, max_connections: int, retry: Retry) -> RedisCluster:
    nodes, credentials = cluster_nodes(url)
    return RedisCluster(startup_nodes=nodes, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                        max_connections=max_connections, retry=retry, **credentials)


def _plain(url: str, settings: Settings, max_connections: int) -> Redis:
    # Callers wait for a free connection (up to the pool timeout) instead of failing when many
    # requests are in flight: an open websocket holds no connection between its messages.
    pool = BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=settings.REDIS_POOL_TIMEOUT_S,
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT_S, socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT_S,
        health_check_interval=30, retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), RETRIES),
        retry_on_error=[ConnectionError, TimeoutError, BusyLoadingError],
        # Off, so that the pool acts on its readiness check: with them on ("auto", redis-py 8) it asks and
        # ignores the answer, and would hand out a connection still holding a reply (a wrong ack). Only
        # Redis Enterprise and Cloud send them.
        **_NO_MAINT_NOTIFICATIONS)
    pool.connection_class = _QUICK.get(pool.connection_class, pool.connection_class)  # TLS keeps redis-py's
    return Redis(connection_pool=pool)


def probe_client(redis: Redis, timeout_s: float) -> Redis:
    """A client to the same server that gives up after `timeout_s` and never retries: a health probe says
    "unreachable" within its own deadline instead of waiting out the request client's retries."""
    if isinstance(redis, RedisCluster):
        nodes = [ClusterNode(n.host, n.port) for n in redis.get_primaries()]
        kwargs = redis.nodes_manager.connection_kwargs
        return RedisCluster(startup_nodes=nodes, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                            retry=Retry(NoBackoff(), 0), max_connections=8,
                            username=kwargs.get("username"), password=kwargs.get("password"))
    pool = redis.connection_pool
    kwargs = dict(pool.connection_kwargs, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                  retry=Retry(NoBackoff(), 0), retry_on_error=[], health_check_interval=0)
    # A few connections, waited for (not refused) when probes and scrapes come at once.
    return Redis(connection_pool=BlockingConnectionPool(connection_class=pool.connection_class, max_connections=8,
                                                        timeout=timeout_s, **kwargs))


class _OneByOne:
    """A pipeline's interface that sends each command at once: a cluster client's pipelines run no scripts
    (redis-py's ClusterPipeline refuses EVAL/EVALSHA), so on a cluster what queues scripts goes command by command."""

    def __init__(self, redis: RedisCluster):
        self._redis, self._replies = redis, []

    def script_load(self, script):  # Script.__call__'s fallback: not a queued command
        return self._redis.script_load(script)

    def __getattr__(self, name):
        command = getattr(self._redis, name)

        def queued(*args, **kwargs):
            self._replies.append(command(*args, **kwargs))
            return self

        return queued

    def execute(self) -> list:
        replies, self._replies = self._replies, []
        return replies


def script_pipeline(redis: Redis):
    """A non-transactional pipeline that may queue Lua scripts: one round trip on a plain Redis, command by
    command on a cluster."""
    return _OneByOne(redis) if isinstance(redis, RedisCluster) else redis.pipeline(transaction=False)


class QuickScript:
    """A Lua script called on a plain Redis's pool with fewer of redis-py's layers than `Script.__call__`
    (its EVALSHA through the client's command path): the same retries, connection by connection, on the
    errors the pool's `retry_on_error` names, and the script loaded again when the server lost it (NOSCRIPT,
    after a restart)."""

    def __init__(self, script: Script):
        """`script`: one registered on the plain Redis it runs on (`redis.register_script`)."""
        self._script = script
        self._pool = script.registered_client.connection_pool

    def __call__(self, nkeys: int, *keys_and_args):
        pool = self._pool
        conn = pool.get_connection()
        try:
            return conn.retry.call_with_retry(lambda: self._run(conn, nkeys, keys_and_args),
                                              lambda error: conn.disconnect())
        finally:
            pool.release(conn)

    def _run(self, conn, nkeys: int, keys_and_args: tuple):
        script = self._script
        conn.send_command("EVALSHA", script.sha, nkeys, *keys_and_args)
        try:
            return conn.read_response()
        except NoScriptError:
            conn.send_command("SCRIPT", "LOAD", script.script)
            script.sha = conn.read_response().decode()
        conn.send_command("EVALSHA", script.sha, nkeys, *keys_and_args)
        return conn.read_response()
