"""The session lock: a locked-out flush hands on its work, a flush that lost its lock writes nothing,
and a live flush keeps its lock while a killed one frees it within seconds."""
from __future__ import annotations

import time

import pytest

from replay.ingest import flush as schedule
from replay.storage import recording
from tests import samples
from worker import jobs
from worker.lock import SessionLock

S = "sess_lock_0123456789a"


def test_a_locked_out_flush_makes_the_session_due_again_soon(make_ctx):
    ctx = make_ctx("local")
    samples.append_all(ctx.buffer, S, samples.checkout_session())
    # The holder's claim pushed the due time a lease away: the locked-out flush pulls it close.
    ctx.redis.zadd(ctx.keys.flush_due(), {S: schedule.now_ms() + 60_000})
    ctx.redis.set(ctx.keys.flush_lock(S), "another-worker", px=60_000)
    assert jobs.flush_session(S) == {"session": S, "locked": True}
    assert schedule.due_at(ctx.redis, ctx.keys, S) <= schedule.now_ms() + jobs.LOCKED_RETRY_MS
    assert ctx.buffer.length(S) == 4  # every batch still waits for the next flush


def test_a_flush_that_lost_its_lock_leaves_manifest_and_buffer_alone(make_ctx):
    ctx = make_ctx("local")
    samples.append_all(ctx.buffer, S, samples.checkout_session())
    ours = SessionLock(ctx.redis, ctx.keys.flush_lock(S), 60_000)
    ctx.redis.set(ours.key, "the-newer-flush", px=60_000)
    with pytest.raises(jobs.LockLost):
        jobs.flush(ctx, S, ours)
    assert recording.load_manifest(ctx.store, S) is None
    assert ctx.buffer.length(S) == 4  # every batch still waits for the next flush


def test_a_kept_alive_lock_outlives_its_ttl_and_a_dead_one_expires(redis, keys):
    lock = SessionLock(redis, keys.flush_lock(S), 300)
    assert lock.acquire()
    with lock.kept_alive():
        time.sleep(1.0)  # three lifetimes
        assert redis.get(lock.key) == lock.token.encode()
    # No heartbeat any more (as when its worker is killed): gone within its lifetime.
    time.sleep(0.5)
    assert redis.get(lock.key) is None
    assert SessionLock(redis, keys.flush_lock(S), 300).acquire()
