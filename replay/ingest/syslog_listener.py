"""nginx's syslog over UDP (RFC 3164), received by `replay serve`.

How it runs under gunicorn: the master binds the one UDP socket before forking (so a taken port is
said once, at start, and no second service on the host can silently share the port as it could
with SO_REUSEPORT), and every gevent worker reads from that same socket in a greenlet. The kernel
hands each datagram to one reader, so the load spreads over the workers, and a restarted worker
loses nothing: the socket and its queued datagrams live in the master.
"""
from __future__ import annotations

import logging
import socket

from redis.exceptions import RedisError

from replay.core.settings import Settings

log = logging.getLogger(__name__)
OFF = ("", "off", "none", "no", "false", "0")
MAX_DATAGRAM_BYTES = 65535
# After Redis refused a batch, wait this long before reading on (the kernel queues what arrives meanwhile).
REDIS_PAUSE_S = 1.0


def address(value: str) -> tuple[int, tuple[str, int]] | None:
    """(family, (host, port)) of "host:port" or "[v6]:port"; None for "off". Raises ValueError."""
    value = value.strip()
    if value.lower() in OFF:
        return None
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not host:port")
    if host.startswith("[") and host.endswith("]"):
        return socket.AF_INET6, (host[1:-1], int(port))
    return socket.AF_INET, (host or "0.0.0.0", int(port))


def bind(settings: Settings) -> socket.socket | None:
    """The listening socket of REPLAY_SYSLOG_ADDR, or None (off, or the address cannot be bound: said on stderr)."""
    try:
        where = address(settings.SYSLOG_ADDR)
    except ValueError as exc:
        log.error("REPLAY_SYSLOG_ADDR: %s; not listening for syslog", exc)
        return None
    if where is None:
        return None
    sock = socket.socket(where[0], socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, settings.SYSLOG_RCVBUF_BYTES)
        sock.bind(where[1])
    except OSError as exc:
        sock.close()
        log.error("cannot listen for syslog on %s (%s); proxy logs arrive only by POST /ingest/logs. "
                  "Set REPLAY_SYSLOG_ADDR to a free address, or to off.", settings.SYSLOG_ADDR, exc.strerror or exc)
        return None
    log.info("listening for nginx syslog on udp %s", settings.SYSLOG_ADDR)
    return sock


def receive(sock: socket.socket, intake, batch_datagrams: int, max_queued: int = 50_000) -> None:
    """Read forever into a bounded queue that a second greenlet stores in batches (one Redis round trip each):
    the socket is drained while a batch is on its way to Redis, so the kernel's small UDP queue
    (net.core.rmem_max) does not overflow while we wait. Past `max_queued` datagrams are dropped, counted."""
    import collections

    import gevent
    from gevent.event import Event
    from gevent.socket import wait_read

    queue: collections.deque = collections.deque()
    ready, dropped = Event(), [0]

    def store_forever():
        while True:
            ready.wait()
            ready.clear()
            while queue:
                batch = [queue.popleft() for _ in range(min(batch_datagrams, len(queue)))]
                try:
                    intake.store_datagrams(batch)
                except RedisError as exc:
                    log.warning("dropped %d syslog datagrams: Redis unavailable (%s)", len(batch), exc)
                    gevent.sleep(REDIS_PAUSE_S)
                except Exception:
                    # A bug met by one batch must not stop the listener: that batch is lost, said loudly.
                    log.exception("dropped %d syslog datagrams", len(batch))
                if dropped[0]:
                    log.warning("dropped %d syslog datagrams: more arrived than Redis took", dropped[0])
                    dropped[0] = 0

    writer = gevent.spawn(store_forever)
    # Non-blocking reads (gevent would otherwise wait in a recv for the next datagram instead of raising).
    sock.settimeout(0.0)
    try:
        while True:
            try:
                wait_read(sock.fileno())
            except (OSError, ValueError):
                return  # closed: the worker is stopping
            while True:
                try:
                    payload, sender = sock.recvfrom(MAX_DATAGRAM_BYTES)
                except (BlockingIOError, InterruptedError, socket.timeout):
                    break  # nothing more queued (another worker may have taken it)
                if len(queue) < max_queued:
                    queue.append((payload, sender[0]))
                else:
                    dropped[0] += 1
            ready.set()
    finally:
        writer.kill()


def start_in_worker(master_sock: socket.socket, settings: Settings):
    """In a gunicorn gevent worker: a greenlet reading the master's socket into Redis. Returns the greenlet."""
    import gevent

    from replay.core import redis_conn
    from replay.core.keys import RedisKeys
    from replay.ingest.proxy_logs import ProxyLogs

    # A socket of this worker's own (gevent's, on this process's hub) over the inherited descriptor.
    sock = socket.socket(master_sock.family, socket.SOCK_DGRAM, fileno=_dup(master_sock))
    intake = ProxyLogs(settings, redis_conn.connect(settings), RedisKeys.of(settings))
    return gevent.spawn(_supervised, sock, intake, settings.SYSLOG_BATCH_DATAGRAMS)


def _dup(sock: socket.socket) -> int:
    import os

    return os.dup(sock.fileno())


def _supervised(sock, intake, batch_datagrams: int) -> None:
    """Whatever goes wrong with one batch, the listener goes on (a datagram is never worth a dead listener)."""
    import gevent

    while True:
        try:
            receive(sock, intake, batch_datagrams)
            return
        except Exception:
            log.exception("syslog listener failed; restarting it")
            gevent.sleep(REDIS_PAUSE_S)
