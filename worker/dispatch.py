"""The dispatcher: a thread in every `replay worker` that turns due sessions into flush jobs.

It claims what is due in the flush schedule (replay/ingest/flush.py) and
enqueues one flush job per session right away, and takes its turn at the
sweep and at enqueueing the retention job (worker/retention.py). Every
worker runs one, on its own Redis connection, so no due flush
waits on any single process: when one dies, the others claim what it leased
once the lease runs out.
"""
from __future__ import annotations

import logging
import signal
import threading
import uuid

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.job import Job, JobStatus

from replay.core.keys import RedisKeys
from replay.core.settings import Settings
from replay.ingest.flush import claim_due
from worker import alert_delivery, alert_eval, sweep
from worker.retention import retention_if_my_turn

log = logging.getLogger(__name__)

FLUSH_JOB = "worker.jobs.flush_sessions"
# Due sessions flushed by one job, at most.
SESSIONS_PER_JOB = 16
# Sessions claimed per round; a full round goes again at once.
CLAIM_BATCH = 200
# A failed flush job stays listed in RQ's failed registry this long (its retry is the schedule's).
FAILURE_TTL_S = 24 * 3600
# Redis out of reach: try again after this, doubling up to the cap.
BACKOFF_S, BACKOFF_CAP_S = 0.5, 5.0


def dispatch_once(redis: Redis, keys: RedisKeys, settings: Settings, queue_redis: Redis | None = None) -> int:
    """Enqueue a flush job for every session due now that has none waiting; returns how many were due.
    `queue_redis`: the RQ queue's Redis, when it is not `redis` (QUEUE_REDIS_URL).

    A waiting job reads the buffer when it runs, so a second one would only wait behind it: while
    appends keep a session due every FLUSH_AGE_MS and the jobs cannot keep up (object storage down,
    workers stalled), they would pile up in the queue and delay every other session's flush.
    """
    sessions = claim_due(redis, keys, settings.FLUSH_LEASE_MS, CLAIM_BATCH)
    if not sessions:
        return 0
    queue_redis = redis if queue_redis is None else queue_redis
    waiting_jobs = _waiting_jobs(redis, queue_redis, keys, sessions)
    fresh = [session for session, waiting in zip(sessions, waiting_jobs) if not waiting]
    if fresh:
        # Several sessions per job: RQ's own bookkeeping costs about as much as a small flush.
        chunks = [fresh[i:i + SESSIONS_PER_JOB] for i in range(0, len(fresh), SESSIONS_PER_JOB)]
        jobs = [(f"flush-{uuid.uuid4().hex}", chunk) for chunk in chunks]
        pipe = redis.pipeline(transaction=False)
        for job_id, chunk in jobs:
            for session in chunk:
                # The job deletes them when it starts; the lease bounds them if it never does.
                pipe.set(keys.flush_queued(session), job_id, px=settings.FLUSH_LEASE_MS)
        pipe.execute()
        queue = Queue(settings.QUEUE_NAME, connection=queue_redis)
        queue.enqueue_many([Queue.prepare_data(
            FLUSH_JOB, args=(chunk,), job_id=job_id, result_ttl=0, failure_ttl=FAILURE_TTL_S,
            description=f"flush {len(chunk)} session(s): {' '.join(chunk[:3])}") for job_id, chunk in jobs])
    return len(sessions)


def _waiting_jobs(redis: Redis, queue_redis: Redis, keys: RedisKeys, sessions: list[str]) -> list[bool]:
    """Per session: does the job its mark names still wait in the queue?

    A mark outlives its job when the job could not delete it (Redis went away as it started):
    then the job is no longer queued, and the session gets a new one.
    """
    pipe = redis.pipeline(transaction=False)  # not MGET: on a cluster each mark is in its session's slot
    for session in sessions:
        pipe.get(keys.flush_queued(session))
    marks = pipe.execute()
    pipe = queue_redis.pipeline(transaction=False)
    for mark in marks:
        if mark:
            pipe.hget(Job.key_for(mark.decode()), "status")
    statuses = iter(pipe.execute())
    return [bool(mark) and next(statuses) == JobStatus.QUEUED.value.encode() for mark in marks]


def sweep_if_my_turn(redis: Redis, keys: RedisKeys, settings: Settings) -> int:
    if not sweep.take_turn(redis, keys, settings.SWEEP_INTERVAL_S):
        return 0
    found = sweep.sweep(redis, keys)
    if found:
        log.warning("the sweep found %d buffered sessions on no flush schedule; they are due now", found)
    return found


def alerts_round(redis: Redis, keys: RedisKeys, settings: Settings, queue_redis: Redis | None = None) -> None:
    """Evaluate the alert rules when it is this worker's turn, then enqueue the deliveries due now."""
    if alert_eval.take_turn(redis, keys, settings):
        try:
            alert_eval.evaluate(redis, keys, settings)
        except RedisError:
            raise
        except Exception:
            # A bug in one rule must not stop this thread, which also dispatches every flush.
            log.exception("alert rules: evaluation failed")
    alert_delivery.enqueue_due(redis, keys, settings, queue_redis)


class Dispatcher(threading.Thread):
    """Claims due sessions every DISPATCH_INTERVAL_MS until stopped; rides out Redis restarts."""

    def __init__(self, redis: Redis, settings: Settings, queue_redis: Redis | None = None):
        super().__init__(name="replay-dispatcher", daemon=True)
        self.redis = redis
        self.queue_redis = redis if queue_redis is None else queue_redis
        self.keys = RedisKeys.of(settings)
        self.settings = settings
        self.stopping = threading.Event()

    def run(self) -> None:
        # Stop signals are for the main thread, where RQ handles them: delivered here, they would
        # wait for the main thread's next Redis reply (a long BLPOP) before anyone saw them.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
        backoff = BACKOFF_S
        while not self.stopping.is_set():
            try:
                busy = dispatch_once(self.redis, self.keys, self.settings, self.queue_redis) == CLAIM_BATCH
                sweep_if_my_turn(self.redis, self.keys, self.settings)
                retention_if_my_turn(self.redis, self.keys, self.settings, self.queue_redis)
                alerts_round(self.redis, self.keys, self.settings, self.queue_redis)
                backoff = BACKOFF_S
                wait = 0 if busy else self.settings.DISPATCH_INTERVAL_MS / 1000
            except RedisError as exc:
                log.warning("dispatcher: Redis unavailable (%s); retrying in %.1f s", exc, backoff)
                wait, backoff = backoff, min(backoff * 2, BACKOFF_CAP_S)
            self.stopping.wait(wait)

    def stop(self) -> None:
        self.stopping.set()
