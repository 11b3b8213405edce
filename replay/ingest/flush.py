"""Debounced flush requests: the collector asks on every append, at most one flush per session waits."""
from __future__ import annotations

import time
import uuid
from datetime import timedelta

from redis import Redis
from rq import Queue, Retry

from replay.core.settings import Settings
from replay.core.keys import RedisKeys

# The flush job, by import path: the collector never imports the job's code.
FLUSH_JOB = "worker.jobs.flush_session"
# A marker outlives its job's due time by this much; if the job got lost (or a backlog
# delays it longer), the next append schedules a fresh one. Extra jobs are harmless.
MARKER_GRACE_MS = 30_000
# Finished flush jobs need not be kept long; failed ones stay in RQ's failed registry.
RESULT_TTL_S = 600

# Replace the delayed marker only by an earlier due time, so an idle-close request
# (short delay) pulls forward a pending age-based one (long delay), never the reverse.
_SCHEDULE_DELAYED = """
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) <= tonumber(ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


def retry_policy(settings: Settings) -> Retry:
    """How RQ retries a failed flush (the waits need a worker running the scheduler)."""
    return Retry(max=settings.FLUSH_RETRIES, interval=list(settings.FLUSH_RETRY_INTERVALS_S))


def request_flush(redis: Redis, settings: Settings, session: str, delay_ms: int, force: bool = False) -> bool:
    """Schedule a flush of `session` in `delay_ms` unless one is already due by then; True if enqueued.

    `force` skips the debounce: a flush job that must hand work on (the session was
    locked, or records remain) cannot trust a marker that its own run may have outlived.
    """
    keys = RedisKeys(settings.KEY_PREFIX)
    delay_ms = max(0, int(delay_ms))
    if force:
        pass
    elif delay_ms == 0:
        if not redis.set(keys.flush_now(session), "1", nx=True, px=MARKER_GRACE_MS):
            return False
    else:
        due_ms = int(time.time() * 1000) + delay_ms
        script = redis.register_script(_SCHEDULE_DELAYED)
        if not script(keys=[keys.flush_scheduled(session)], args=[due_ms, delay_ms + MARKER_GRACE_MS]):
            return False
    queue = Queue(settings.QUEUE_NAME, connection=redis)
    options = dict(retry=retry_policy(settings), job_id=f"flush-{session}-{uuid.uuid4().hex[:12]}",
                   result_ttl=RESULT_TTL_S, description=f"flush {session}")
    if delay_ms == 0:
        queue.enqueue(FLUSH_JOB, session, **options)
    else:
        queue.enqueue_in(timedelta(milliseconds=delay_ms), FLUSH_JOB, session, **options)
    return True

