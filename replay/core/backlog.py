"""The flush backlog as Redis holds it now: what /readyz, /metrics and `replay status` report.

A handful of reads (no scan): the flush schedule (replay/ingest/flush.py), the
RQ queue the dispatcher feeds, RQ's failed registry and worker registrations,
and the session index.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from redis import Redis
from rq import Queue, Worker
from rq.job import Job
from rq.utils import utcparse

from replay.core.keys import RedisKeys


@dataclass(frozen=True)
class Backlog:
    # Flush jobs waiting in the RQ queue, and how long the oldest has waited.
    queue_depth: int
    oldest_job_age_s: float
    # Sessions whose flush is due now, and how far past its due time the most overdue one is.
    due_flushes: int
    oldest_due_age_s: float
    # Flush jobs in RQ's failed registry (each failed session is due again by the schedule).
    failed_jobs: int
    # `replay worker` processes registered on the queue (RQ's heartbeat keeps them listed).
    workers: int
    sessions_indexed: int

    def as_dict(self) -> dict:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


def read(redis: Redis, keys: RedisKeys, queue_name: str, queue_redis: Redis | None = None) -> Backlog:
    """`queue_redis`: the Redis of the RQ queue, when it is not `redis` (a Redis Cluster holds no queue)."""
    now_ms = time.time() * 1000
    queue_redis = redis if queue_redis is None else queue_redis
    queue = Queue(queue_name, connection=queue_redis)
    if queue_redis is redis:
        pipe = q_pipe = redis.pipeline(transaction=False)
    else:
        pipe, q_pipe = redis.pipeline(transaction=False), queue_redis.pipeline(transaction=False)
    q_pipe.llen(queue.key)
    q_pipe.lindex(queue.key, 0)
    pipe.zcount(keys.flush_due(), "-inf", int(now_ms))
    pipe.zrange(keys.flush_due(), 0, 0, withscores=True)
    pipe.zcard(keys.by_time())
    replies = pipe.execute() if q_pipe is pipe else q_pipe.execute() + pipe.execute()
    depth, oldest_job, due, earliest, indexed = replies
    return Backlog(
        queue_depth=depth,
        oldest_job_age_s=_job_age_s(queue_redis, oldest_job, now_ms),
        due_flushes=due,
        oldest_due_age_s=max(0.0, (now_ms - earliest[0][1]) / 1000) if earliest else 0.0,
        failed_jobs=queue.failed_job_registry.get_job_count(cleanup=False),
        workers=len(Worker.all(queue=queue)),
        sessions_indexed=indexed,
    )


def _job_age_s(redis: Redis, job_id: bytes | None, now_ms: float) -> float:
    if not job_id:
        return 0.0
    enqueued = redis.hget(Job.key_for(job_id.decode()), "enqueued_at")
    if not enqueued:
        return 0.0  # taken (or deleted) between the two reads
    return max(0.0, now_ms / 1000 - utcparse(enqueued.decode()).timestamp())
