"""Debounced flush requests, and a real RQ worker (with its scheduler) running the flushes."""
from __future__ import annotations

import time

import pytest
from rq import Queue, Worker
from rq.registry import ScheduledJobRegistry

from tests import samples
from tests.samples import T0
from replay.storage import recording
from worker.runner import run_worker
from replay.ingest.flush import request_flush

S = "sess_sched_0123456789"


@pytest.fixture
def local_ctx(make_ctx):
    return make_ctx("local")


def queues(ctx):
    queue = Queue(ctx.settings.QUEUE_NAME, connection=ctx.redis)
    return queue, ScheduledJobRegistry(queue=queue)


def test_delayed_requests_are_debounced(local_ctx):
    ctx = local_ctx
    queue, scheduled = queues(ctx)
    assert request_flush(ctx.redis, ctx.settings, S, ctx.settings.FLUSH_AGE_MS) is True
    assert request_flush(ctx.redis, ctx.settings, S, ctx.settings.FLUSH_AGE_MS) is False
    assert scheduled.count == 1 and queue.count == 0
    [job_id] = scheduled.get_job_ids()
    job = queue.fetch_job(job_id)
    assert job.func_name == "worker.jobs.flush_session" and job.args == (S,)
    assert job.retries_left == ctx.settings.FLUSH_RETRIES
    # An idle close wants it sooner: that pulls the flush forward once, not again.
    assert request_flush(ctx.redis, ctx.settings, S, ctx.settings.FLUSH_IDLE_MS) is True
    assert request_flush(ctx.redis, ctx.settings, S, ctx.settings.FLUSH_IDLE_MS) is False
    assert scheduled.count == 2
    # Other sessions are debounced apart.
    assert request_flush(ctx.redis, ctx.settings, "sess_other_0123456789", ctx.settings.FLUSH_AGE_MS) is True


def test_immediate_requests_are_debounced_apart_from_delayed(local_ctx):
    ctx = local_ctx
    queue, scheduled = queues(ctx)
    request_flush(ctx.redis, ctx.settings, S, ctx.settings.FLUSH_AGE_MS)
    assert request_flush(ctx.redis, ctx.settings, S, 0) is True
    assert request_flush(ctx.redis, ctx.settings, S, 0) is False
    assert queue.count == 1 and scheduled.count == 1


def test_a_burst_worker_runs_an_immediate_flush(ctx):
    # run_worker builds its own clients, prepares storage, then forks a work-horse for the job.
    total = samples.append_all(ctx.buffer, S, samples.checkout_session())
    request_flush(ctx.redis, ctx.settings, S, 0)
    assert run_worker(ctx.settings, burst=True) is True
    m = recording.load_manifest(ctx.store, S)
    assert m is not None and m["counts"]["events"] == total
    assert ctx.buffer.length(S) == 0
    # The job cleared its marker: the next append may schedule again.
    assert request_flush(ctx.redis, ctx.settings, S, 0) is True


def test_a_delayed_flush_runs_once_due(local_ctx):
    ctx = local_ctx
    queue, scheduled = queues(ctx)
    samples.append_all(ctx.buffer, S, samples.checkout_session(), received_ms=T0)
    # RQ's scheduled registry counts whole seconds: a due time under a second away may already count as due.
    request_flush(ctx.redis, ctx.settings, S, 1500)
    Worker([queue], connection=ctx.redis).work(burst=True, with_scheduler=True)
    assert recording.load_manifest(ctx.store, S) is None  # not due yet
    deadline = time.monotonic() + 10
    while recording.load_manifest(ctx.store, S) is None:
        assert time.monotonic() < deadline, "the delayed flush never ran"
        time.sleep(0.1)
        Worker([queue], connection=ctx.redis).work(burst=True, with_scheduler=True)
    flushes = [j for j in scheduled.get_job_ids() if queue.fetch_job(j).func_name == "worker.jobs.flush_session"]
    assert ctx.buffer.length(S) == 0 and flushes == []


def test_a_failing_flush_is_retried_by_rq_then_left_failed(make_ctx):
    from rq.job import JobStatus

    from tests.conftest import free_port

    ctx = make_ctx("s3", S3_ENDPOINT=f"127.0.0.1:{free_port()}", FLUSH_RETRIES=2, FLUSH_RETRY_INTERVALS_S=(0,))
    samples.append_all(ctx.buffer, S, samples.checkout_session())
    request_flush(ctx.redis, ctx.settings, S, 0)
    queue, _ = queues(ctx)
    [job] = queue.jobs
    Worker([queue], connection=ctx.redis).work(burst=True, with_scheduler=True)
    job.refresh()
    assert job.get_status() == JobStatus.FAILED and job.retries_left == 0
    assert "StorageError" in job.latest_result().exc_string
    assert ctx.buffer.length(S) == 4  # every try failed before the trim
