"""`replay worker`: RQ worker on the configured Redis, plus the dispatcher that enqueues due flushes.

Jobs run in the worker process itself (RQ's SimpleWorker): the clients are built
once and no fork per job is paid. The worker rides out Redis restarts and a
Redis still loading its data: it waits, then works again, instead of exiting.
"""
from __future__ import annotations

import logging
import signal
import threading
import time

from redis import Redis
from redis.exceptions import BusyLoadingError, RedisError
from rq import Queue, SimpleWorker

from replay.core import redis_conn
from replay.core.settings import Settings
from replay.storage.store import StorageError
from worker.context import Context, configure
from worker.dispatch import Dispatcher, alerts_round, dispatch_once

log = logging.getLogger(__name__)

# Waits while Redis or storage is out of reach: doubling from the first to the cap.
RETRY_FIRST_S, RETRY_CAP_S = 0.5, 5.0
# An RQ loop that ran this long before ending had Redis back: the wait after it starts afresh.
LONG_RUN_S = 60.0


def run_worker(settings: Settings, burst: bool = False, context: Context | None = None) -> bool:
    """Work the flush queue; returns whether any job ran. `burst`: flush what is due now, then return."""
    ctx = configure(context or Context(settings))
    if burst:
        dispatch_once(ctx.redis, ctx.keys, settings, ctx.queue_redis)
        alerts_round(ctx.redis, ctx.keys, settings, ctx.queue_redis)
        return _worker(ctx).work(burst=True, logging_level="WARNING")
    stopping = threading.Event()
    _on_stop_signals(stopping)
    if not _wait_until_ready(ctx, stopping):
        return False
    redis = redis_conn.connect(settings)
    dispatcher = Dispatcher(redis, settings, redis_conn.queue_connect(settings, redis))
    dispatcher.start()
    log.info("worker ready: flushing queue %r (one line per problem, none per flush)", settings.QUEUE_NAME)
    worked = False
    wait = RETRY_FIRST_S
    try:
        while not stopping.is_set():
            worker = _worker(ctx, stopping)
            started = time.monotonic()
            try:
                worked |= worker.work(burst=False, logging_level="WARNING")  # installs RQ's own handlers: a stop request ends it
            except RedisError as exc:
                # The loop ended on a Redis error and RQ's teardown (register_death) met Redis still away:
                # that is the same restart, not a reason to exit. Its pubsub thread would retry forever.
                log.warning("worker loop ended with Redis unreachable (%s)", exc)
                _stop_pubsub(worker)
            if stopping.is_set():
                return worked
            _on_stop_signals(stopping)
            # RQ's loop ends on any Redis error ("unhandled exception, quitting"): go on once Redis is back.
            log.warning("worker loop ended (Redis restarted?); working again in %.1f s", wait)
            if time.monotonic() - started > LONG_RUN_S:
                wait = RETRY_FIRST_S  # a restart after a long run is a new outage, not the same one again
            if stopping.wait(wait) or not _wait_until_ready(ctx, stopping):
                break
            wait = min(wait * 2, RETRY_CAP_S)
        return worked
    finally:
        dispatcher.stop()


def _on_stop_signals(stopping: threading.Event) -> None:
    """SIGTERM and SIGINT end the waits between RQ loops (RQ handles them while it works)."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stopping.set())


def _stop_pubsub(worker: SimpleWorker) -> None:
    thread = getattr(worker, "pubsub_thread", None)
    if thread is not None:
        thread.stop()


class _Worker(SimpleWorker):
    """RQ's worker, telling the loop around it when a stop was asked for (not a lost Redis)."""

    stopping: threading.Event

    def request_stop(self, signum, frame):
        self.stopping.set()
        super().request_stop(signum, frame)


def _worker(ctx: Context, stopping: threading.Event | None = None) -> SimpleWorker:
    worker = _Worker([Queue(ctx.settings.QUEUE_NAME, connection=ctx.queue_redis)], connection=ctx.queue_redis)
    worker.stopping = stopping or threading.Event()
    return worker


def _wait_until_ready(ctx: Context, stopping: threading.Event) -> bool:
    """Until Redis answers (not loading) and the object store is reachable; says why it waits. False: stopped."""
    wait = RETRY_FIRST_S
    while not stopping.is_set():
        try:
            _ping(ctx.redis)
            if ctx.queue_redis is not ctx.redis:
                _ping(ctx.queue_redis)
            ctx.store.prepare()
            return True
        except BusyLoadingError:
            log.warning("Redis is loading its data; waiting %.1f s", wait)
        except RedisError as exc:
            log.warning("Redis unavailable (%s); waiting %.1f s", exc, wait)
        except StorageError as exc:
            log.warning("object storage unavailable (%s); waiting %.1f s", exc, wait)
        stopping.wait(wait)
        wait = min(wait * 2, RETRY_CAP_S)
    return False


def _ping(redis: Redis) -> None:
    # PING answers while Redis loads; a real read raises BusyLoadingError until it is done.
    redis.ping()
    redis.exists("replay:ready-check")
