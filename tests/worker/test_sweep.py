"""The sweep puts back on the schedule a buffer that is on none, and a real worker then flushes it."""
from __future__ import annotations

from replay.ingest import flush as schedule
from replay.storage import recording
from tests import samples
from worker import sweep
from worker.runner import run_worker

STRANDED = "sess_stranded_0123456"
WAITING = "sess_waiting_01234567"
LOCKED = "sess_locked_012345678"


def test_a_stranded_buffer_is_made_due_and_flushed_and_others_are_left_alone(make_ctx):
    ctx = make_ctx("local")
    total = samples.append_all(ctx.buffer, STRANDED, samples.checkout_session(), received_ms=schedule.now_ms())
    for session in (WAITING, LOCKED):
        samples.append_all(ctx.buffer, session, samples.checkout_session(), received_ms=schedule.now_ms())
    # What a lost schedule entry leaves behind: batches in Redis that no flush will come for.
    ctx.redis.zrem(ctx.keys.flush_due(), STRANDED, LOCKED)
    ctx.redis.set(ctx.keys.flush_lock(LOCKED), "a-flush-running")
    assert list(sweep.stranded(ctx.redis, ctx.keys)) == [STRANDED]

    waiting_due = schedule.due_at(ctx.redis, ctx.keys, WAITING)
    assert sweep.sweep(ctx.redis, ctx.keys) == 1
    assert schedule.due_at(ctx.redis, ctx.keys, STRANDED) <= schedule.now_ms()
    assert schedule.due_at(ctx.redis, ctx.keys, WAITING) == waiting_due  # not pulled forward
    # One worker sweeps per interval.
    assert sweep.take_turn(ctx.redis, ctx.keys, 60) is True
    assert sweep.take_turn(ctx.redis, ctx.keys, 60) is False

    run_worker(ctx.settings, burst=True, context=ctx)
    manifest = recording.load_manifest(ctx.store, STRANDED)
    assert manifest is not None, "the stranded session was not flushed"
    # All of it: the 502 and the call with no response, among every event appended.
    assert manifest["counts"]["events"] == total and manifest["counts"]["network_failures"] == 2
    assert ctx.buffer.length(STRANDED) == 0
    assert list(sweep.stranded(ctx.redis, ctx.keys)) == []
