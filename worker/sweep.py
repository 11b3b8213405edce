"""The sweep: flush any session buffer that has data but no flush coming.

Debounced flushes are RQ jobs; a job can be lost (a worker killed mid-job on a
Redis without persistence, a marker that outlived its job). The sweep runs on a
timer in the workers and makes sure no buffered batch waits for its TTL.
"""
from __future__ import annotations

from datetime import timedelta

from redis import Redis
from rq import Queue

from replay.core.settings import Settings
from worker.context import current
from replay.core.keys import RedisKeys
from replay.ingest.flush import request_flush

SWEEP_JOB = "worker.sweep.sweep"


def schedule_sweep(redis: Redis, settings: Settings) -> bool:
    """Enqueue the next sweep unless one is already scheduled; True if enqueued."""
    keys = RedisKeys(settings.KEY_PREFIX)
    if not redis.set(keys.sweep_scheduled(), "1", nx=True, ex=settings.SWEEP_INTERVAL_S):
        return False
    Queue(settings.QUEUE_NAME, connection=redis).enqueue_in(
        timedelta(seconds=settings.SWEEP_INTERVAL_S), SWEEP_JOB, result_ttl=0, description="sweep stranded buffers")
    return True


def stranded(redis: Redis, keys: RedisKeys):
    """Sessions whose buffer holds batches while no flush is pending or running."""
    prefix = keys.buffer("")
    for raw in redis.scan_iter(match=keys.buffer("*"), count=1000):
        session = raw.decode()[len(prefix):]
        pending = redis.exists(keys.flush_scheduled(session), keys.flush_now(session), keys.flush_lock(session))
        if not pending and redis.llen(raw):
            yield session


def sweep() -> int:
    """RQ job: request a flush of every stranded buffer, then schedule the next sweep."""
    ctx = current()
    count = 0
    for session in stranded(ctx.redis, ctx.keys):
        count += request_flush(ctx.redis, ctx.settings, session, 0)
    ctx.redis.delete(ctx.keys.sweep_scheduled())
    schedule_sweep(ctx.redis, ctx.settings)
    return count
