"""The session lock: a locked-out flush hands on its work, and a flush that lost its lock writes nothing."""
from __future__ import annotations

import pytest
from rq import Queue
from rq.registry import ScheduledJobRegistry

from tests import samples
from worker import jobs
from replay.storage import recording
from replay.ingest.flush import request_flush

S = "sess_lock_0123456789a"


def flush_jobs(ctx):
    queue = Queue(ctx.settings.QUEUE_NAME, connection=ctx.redis)
    ids = queue.job_ids + ScheduledJobRegistry(queue=queue).get_job_ids()
    return [j for j in ids if queue.fetch_job(j).func_name == "worker.jobs.flush_session"]


def test_a_locked_out_flush_always_schedules_another(make_ctx):
    ctx = make_ctx("local")
    samples.append_all(ctx.buffer, S, samples.checkout_session())
    # A delayed flush is already marked as pending: a debounced request would be swallowed.
    request_flush(ctx.redis, ctx.settings, S, 500)
    before = len(flush_jobs(ctx))
    ctx.redis.set(ctx.keys.flush_lock(S), "another-worker", px=60_000)
    assert jobs.flush_session(S) == {"session": S, "locked": True}
    assert len(flush_jobs(ctx)) == before + 1
    assert ctx.buffer.length(S) == 4  # every batch still waits for the next flush


def test_a_flush_that_lost_its_lock_leaves_manifest_and_buffer_alone(make_ctx):
    ctx = make_ctx("local")
    samples.append_all(ctx.buffer, S, samples.checkout_session())
    lock = ctx.keys.flush_lock(S)
    ctx.redis.set(lock, "the-newer-flush", px=60_000)
    with pytest.raises(jobs.LockLost):
        jobs.flush(ctx, S, (lock, "our-expired-token"))
    assert recording.load_manifest(ctx.store, S) is None
    assert ctx.buffer.length(S) == 4
