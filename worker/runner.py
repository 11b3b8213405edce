"""`replay worker`: RQ worker on the configured Redis, plus the dispatcher that enqueues due flushes.

Jobs run in the worker process itself (RQ's SimpleWorker): the clients are built
once and no fork per job is paid. The worker rides out Redis restarts and a
Redis still loading its data: it waits, then works again, instead of exiting.
"""
from __future__ import annotations

import logging
import time

from redis import Redis
from redis.exceptions import BusyLoadingError, RedisError
from rq import Queue, SimpleWorker

from replay.core import redis_conn
from replay.core.settings import Settings
from replay.storage.store import StorageError
from worker.context import Context, configure
from worker.dispatch import Dispatcher, dispatch_once

log = logging.getLogger(__name__)

# Waits while Redis or storage is out of reach: doubling from the first to the cap.
RETRY_FIRST_S, RETRY_CAP_S = 0.5, 5.0


def run_worker(settings: Settings, burst: bool = False, context: Context | None = None) -> bool:
    """Work the flush queue; returns whether any job ran. `burst`: flush what is due now, then return."""
    ctx = configure(context or Context(settings))
    if burst:
        dispatch_once(ctx.redis, ctx.keys, settings)
        return _worker(ctx).work(burst=True)
    _wait_until_ready(ctx)
    dispatcher = Dispatcher(redis_conn.connect(settings), settings)
    dispatcher.start()
    worked = False
    wait = RETRY_FIRST_S
    try:
        while True:
            worker = _worker(ctx)
            try:
                worked |= worker.work(burst=False)
            except RedisError as exc:
                # The loop ended on a Redis error and RQ's teardown (register_death) met Redis still away:
                # that is the same restart, not a reason to exit. Its pubsub thread would retry forever.
                log.warning("worker loop ended with Redis unreachable (%s)", exc)
                _stop_pubsub(worker)
            if _stop_requested(worker):
                return worked
            # RQ's loop ends on any Redis error ("unhandled exception, quitting"): go on once Redis is back.
            log.warning("worker loop ended (Redis restarted?); working again in %.1f s", wait)
            time.sleep(wait)
            wait = min(wait * 2, RETRY_CAP_S)
            _wait_until_ready(ctx)
    finally:
        dispatcher.stop()


def _stop_requested(worker: SimpleWorker) -> bool:
    """Did a SIGTERM or SIGINT (RQ's warm shutdown) end the loop? RQ sets `_stop_requested` only when the
    signal comes in the middle of a job; an idle worker gets its shutdown date alone."""
    return worker._stop_requested or worker._shutdown_requested_date is not None


def _stop_pubsub(worker: SimpleWorker) -> None:
    thread = getattr(worker, "pubsub_thread", None)
    if thread is not None:
        thread.stop()


def _worker(ctx: Context) -> SimpleWorker:
    return SimpleWorker([Queue(ctx.settings.QUEUE_NAME, connection=ctx.redis)], connection=ctx.redis)


def _wait_until_ready(ctx: Context) -> None:
    """Until Redis answers (not loading) and the object store is reachable; says why it waits."""
    wait = RETRY_FIRST_S
    while True:
        try:
            _ping(ctx.redis)
            ctx.store.prepare()
            return
        except BusyLoadingError:
            log.warning("Redis is loading its data; waiting %.1f s", wait)
        except RedisError as exc:
            log.warning("Redis unavailable (%s); waiting %.1f s", exc, wait)
        except StorageError as exc:
            log.warning("object storage unavailable (%s); waiting %.1f s", exc, wait)
        time.sleep(wait)
        wait = min(wait * 2, RETRY_CAP_S)


def _ping(redis: Redis) -> None:
    # PING answers while Redis loads; a real read raises BusyLoadingError until it is done.
    redis.ping()
    redis.exists("replay:ready-check")
