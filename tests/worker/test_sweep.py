"""The sweep finds buffers whose flush job was lost, and a real worker then flushes them."""
from __future__ import annotations

from rq import Queue

from tests import samples
from worker import sweep
from replay.storage import recording
from worker.runner import run_worker
from replay.ingest.flush import request_flush

STRANDED = "sess_stranded_0123456"
WAITING = "sess_waiting_01234567"


def test_a_stranded_buffer_is_flushed_and_a_pending_one_is_left_alone(make_ctx):
    ctx = make_ctx("local")
    # Batches in Redis with no flush job anywhere: what a lost job leaves behind.
    total = samples.append_all(ctx.buffer, STRANDED, samples.checkout_session())
    samples.append_all(ctx.buffer, WAITING, samples.checkout_session())
    request_flush(ctx.redis, ctx.settings, WAITING, 60_000)
    assert list(sweep.stranded(ctx.redis, ctx.keys)) == [STRANDED]

    assert sweep.sweep() == 1
    queue = Queue(ctx.settings.QUEUE_NAME, connection=ctx.redis)
    assert [j.args for j in queue.jobs] == [(STRANDED,)]
    # The sweep schedules its own next run, once.
    assert ctx.redis.exists(ctx.keys.sweep_scheduled())
    assert sweep.schedule_sweep(ctx.redis, ctx.settings) is False

    run_worker(ctx.settings, burst=True, context=ctx)
    manifest = recording.load_manifest(ctx.store, STRANDED)
    assert manifest is not None, "the stranded session was not flushed"
    # All of it: the 502 and the call with no response, among every event appended.
    assert manifest["counts"]["events"] == total and manifest["counts"]["network_failures"] == 2
    assert ctx.buffer.length(STRANDED) == 0
    assert list(sweep.stranded(ctx.redis, ctx.keys)) == []
