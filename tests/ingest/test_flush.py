"""The flush schedule: due times, claims with a lease, retries with backoff, and real workers running the flushes."""
from __future__ import annotations

import time

import pytest
from rq import Queue
from rq.job import JobStatus
from rq.registry import FailedJobRegistry

from replay.ingest import flush as schedule
from replay.core.keys import manifest_key
from replay.storage import recording
from tests import samples
from tests.conftest import free_port
from worker.dispatch import Dispatcher, dispatch_once
from worker.runner import run_worker

S = "sess_sched_0123456789"
OTHER = "sess_other_0123456789"


@pytest.fixture
def local_ctx(make_ctx):
    return make_ctx("local")


def test_a_request_makes_a_session_due_and_only_an_earlier_time_replaces_it(local_ctx):
    ctx = local_ctx
    schedule.request_flush(ctx.redis, ctx.keys, S, 60_000)
    later = schedule.due_at(ctx.redis, ctx.keys, S)
    assert later == pytest.approx(schedule.now_ms() + 60_000, abs=2_000)
    schedule.request_flush(ctx.redis, ctx.keys, S, 120_000)
    assert schedule.due_at(ctx.redis, ctx.keys, S) == later
    schedule.request_flush(ctx.redis, ctx.keys, S, 0)
    assert schedule.due_at(ctx.redis, ctx.keys, S) <= schedule.now_ms()


def test_a_claim_takes_what_is_due_and_leases_it(local_ctx):
    ctx = local_ctx
    schedule.request_flush(ctx.redis, ctx.keys, S, 0)
    schedule.request_flush(ctx.redis, ctx.keys, OTHER, 60_000)
    assert schedule.claim_due(ctx.redis, ctx.keys, lease_ms=5_000) == [S]
    # Claimed: not due again until the lease runs out, and still scheduled (a claimer may die).
    assert schedule.claim_due(ctx.redis, ctx.keys, lease_ms=5_000) == []
    assert schedule.due_at(ctx.redis, ctx.keys, S) == pytest.approx(schedule.now_ms() + 5_000, abs=2_000)
    ctx.redis.zadd(ctx.keys.flush_due(), {S: schedule.now_ms() - 1})  # the lease ran out
    assert schedule.claim_due(ctx.redis, ctx.keys, lease_ms=5_000) == [S]


def test_retries_back_off_and_a_success_starts_afresh(local_ctx):
    ctx = local_ctx
    delays = [schedule.retry_later(ctx.redis, ctx.keys, S, 1_000, 10_000) for _ in range(6)]
    assert delays == [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]
    assert schedule.due_at(ctx.redis, ctx.keys, S) == pytest.approx(schedule.now_ms() + 10_000, abs=2_000)
    schedule.succeeded(ctx.redis, ctx.keys, S)
    assert schedule.retry_later(ctx.redis, ctx.keys, S, 1_000, 10_000) == 1_000


def test_a_burst_worker_flushes_what_is_due_and_leaves_what_is_not(ctx):
    total = samples.append_all(ctx.buffer, S, samples.checkout_session())
    samples.append_all(ctx.buffer, OTHER, samples.checkout_session(), received_ms=schedule.now_ms())
    schedule.request_flush(ctx.redis, ctx.keys, S, 0)
    assert run_worker(ctx.settings, burst=True) is True
    m = recording.load_manifest(ctx.store, S)
    assert m is not None and m["counts"]["events"] == total
    assert ctx.buffer.length(S) == 0
    assert schedule.due_at(ctx.redis, ctx.keys, S) is None  # emptied: off the schedule
    # The other session's append made it due after FLUSH_AGE_MS: not yet.
    assert recording.load_manifest(ctx.store, OTHER) is None and ctx.buffer.length(OTHER) == 4


@pytest.mark.allow_traceback(r"StorageError", reason="the flush fails on purpose: its object store is down")
def test_a_failing_flush_is_due_again_after_a_backoff_and_listed_as_failed(make_ctx):
    ctx = make_ctx("s3", S3_ENDPOINT=f"127.0.0.1:{free_port()}", FLUSH_RETRY_BASE_MS=3_000)
    samples.append_all(ctx.buffer, S, samples.checkout_session())
    schedule.request_flush(ctx.redis, ctx.keys, S, 0)
    queue = Queue(ctx.settings.QUEUE_NAME, connection=ctx.redis)
    assert dispatch_once(ctx.redis, ctx.keys, ctx.settings) == 1
    [job] = queue.jobs
    before = schedule.now_ms()
    run_worker(ctx.settings, burst=True, context=ctx)
    job.refresh()
    assert job.get_status() == JobStatus.FAILED and "StorageError" in job.latest_result().exc_string
    assert job.id in FailedJobRegistry(queue=queue).get_job_ids()
    assert ctx.buffer.length(S) == 4  # nothing trimmed
    assert schedule.due_at(ctx.redis, ctx.keys, S) >= before + 3_000


def test_a_session_whose_flush_job_waits_gets_no_second_one_until_it_runs(local_ctx):
    ctx = local_ctx
    queue = Queue(ctx.settings.QUEUE_NAME, connection=ctx.redis)
    samples.append_all(ctx.buffer, S, samples.checkout_session())
    schedule.request_flush(ctx.redis, ctx.keys, S, 0)
    assert dispatch_once(ctx.redis, ctx.keys, ctx.settings) == 1
    # Appends keep the session due while its job waits (workers stalled): claimed again, not enqueued again.
    for _ in range(3):
        ctx.redis.zadd(ctx.keys.flush_due(), {S: schedule.now_ms() - 1})
        assert dispatch_once(ctx.redis, ctx.keys, ctx.settings) == 1
    assert [j.args for j in queue.jobs] == [([S],)]
    assert run_worker(ctx.settings, burst=True, context=ctx) is True
    assert ctx.buffer.length(S) == 0 and queue.count == 0
    # The job ran: what comes next gets its own.
    ctx.buffer.append(S, "win_later_0123456789", 1, [{"type": 3, "timestamp": samples.T0, "data": {}}], samples.T0)
    schedule.request_flush(ctx.redis, ctx.keys, S, 0)
    assert dispatch_once(ctx.redis, ctx.keys, ctx.settings) == 1
    assert [j.args for j in queue.jobs] == [([S],)]


def test_a_mark_whose_job_no_longer_waits_does_not_hold_the_session_back(local_ctx):
    ctx = local_ctx
    queue = Queue(ctx.settings.QUEUE_NAME, connection=ctx.redis)
    samples.append_all(ctx.buffer, S, samples.checkout_session())
    schedule.request_flush(ctx.redis, ctx.keys, S, 0)
    dispatch_once(ctx.redis, ctx.keys, ctx.settings)
    [job] = queue.jobs
    # A worker took the job, and Redis went away before the job could delete its mark.
    queue.remove(job)
    job.set_status(JobStatus.STARTED)
    assert ctx.redis.exists(ctx.keys.flush_queued(S))
    ctx.redis.zadd(ctx.keys.flush_due(), {S: schedule.now_ms() - 1})
    assert dispatch_once(ctx.redis, ctx.keys, ctx.settings) == 1
    [again] = queue.jobs
    assert again.id != job.id and again.args == ([S],)


def test_the_dispatcher_thread_enqueues_due_flushes_for_a_worker(local_ctx):
    ctx = local_ctx
    samples.append_all(ctx.buffer, S, samples.checkout_session())
    schedule.request_flush(ctx.redis, ctx.keys, S, 300)
    dispatcher = Dispatcher(ctx.redis, ctx.settings)
    dispatcher.start()
    try:
        queue = Queue(ctx.settings.QUEUE_NAME, connection=ctx.redis)
        deadline = time.monotonic() + 10
        # The dispatcher may also enqueue its periodic jobs (retention): the flush jobs are what it is checked for.
        flushes = lambda: [j.args for j in queue.jobs if j.id.startswith("flush-")]  # noqa: E731
        while not flushes():
            assert time.monotonic() < deadline, "the dispatcher enqueued nothing"
            time.sleep(0.05)
        assert flushes() == [([S],)]
    finally:
        dispatcher.stop()
        dispatcher.join(5)
    assert not dispatcher.is_alive()


@pytest.mark.allow_traceback(r"FlushFailed", reason="one session's flush fails on purpose")
def test_due_sessions_share_jobs_and_one_failure_spares_the_others(make_ctx, s3_server):
    ctx = make_ctx("s3")
    sessions = [f"sess_batch_{i:010d}" for i in range(20)]
    for session in sessions:
        samples.append_all(ctx.buffer, session, samples.checkout_session())
        schedule.request_flush(ctx.redis, ctx.keys, session, 0)
    queue = Queue(ctx.settings.QUEUE_NAME, connection=ctx.redis)
    assert dispatch_once(ctx.redis, ctx.keys, ctx.settings) == 20
    assert sorted(len(j.args[0]) for j in queue.jobs) == [4, 16]  # two jobs, not twenty
    broken = sessions[3]
    ctx.store.put(manifest_key(broken), b"not a manifest")  # its flush fails when it reads it
    started = schedule.now_ms()
    run_worker(ctx.settings, burst=True, context=ctx)
    flushed = [s for s in sessions if ctx.buffer.length(s) == 0]
    assert flushed == [s for s in sessions if s != broken]
    # Kept, and due again after a backoff from when it failed (a slow machine may already be past it).
    assert ctx.buffer.length(broken) == 4
    assert schedule.due_at(ctx.redis, ctx.keys, broken) >= started + ctx.settings.FLUSH_RETRY_BASE_MS
    [failed] = FailedJobRegistry(queue=queue).get_job_ids()
    assert broken in queue.fetch_job(failed).latest_result().exc_string
