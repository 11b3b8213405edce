"""Retention: the periodic job deletes sessions past their project's retention and leaves nothing of them behind."""
from __future__ import annotations

from rq import Queue

from tests.worker.retention_helpers import DAY, PROJECT, T0, mentions, objects, project, record, redis_keys
from replay.core.keys import evidence_key
from replay.index.sessions import query_sessions
from replay.ingest.flush import now_ms
from worker import retention
from worker.runner import run_worker

OLD, YOUNG, OTHER = "sess_old_0123456789", "sess_young_0123456789", "sess_other_0123456789"


def listed(ctx, **filters) -> list[str]:
    return sorted(s["session"] for s in query_sessions(ctx.redis, ctx.keys, **filters))


def test_expired_sessions_go_with_every_key_and_object_and_young_ones_stay(ctx):
    project(ctx, PROJECT, days=10)
    project(ctx, "other-key")  # the default: 30 days
    record(ctx, YOUNG, T0 + 15 * DAY, user="u-young")
    record(ctx, OTHER, T0, user="u-other", project="other-key")
    keys_before, objects_before = redis_keys(ctx), objects(ctx)
    record(ctx, OLD, T0, user="u-old")
    # What the old session added: its summary, user, failed URL, search terms, causes, evidence, share link...
    added = redis_keys(ctx) - keys_before
    assert {ctx.keys.session(OLD), ctx.keys.by_user("u-old"), ctx.keys.shares_of_session(OLD)} <= added
    assert mentions(ctx, OLD) and any(name.startswith("replay:idx:term:") for name in mentions(ctx, OLD))
    assert any(name.startswith("replay:idx:cause:") for name in mentions(ctx, OLD))
    assert evidence_key(OLD) in objects(ctx) and len(objects(ctx)) > len(objects_before)

    done = retention.run_retention(ctx, now=T0 + 20 * DAY)

    assert done["expired"] == 1
    # Counted and named: exactly the keys and objects there were before it was recorded, none naming it.
    after = redis_keys(ctx)
    assert (sorted(after - keys_before), sorted(keys_before - after)) == ([], [])
    assert len(after) == len(keys_before)
    assert objects(ctx) == objects_before
    assert mentions(ctx, OLD) == []
    assert listed(ctx) == [OTHER, YOUNG] and listed(ctx, status="502") == [OTHER, YOUNG]
    assert listed(ctx, cause="upstream_refused") == [OTHER, YOUNG]
    # A second run finds nothing more; the young session goes when its own time comes.
    assert retention.run_retention(ctx, now=T0 + 20 * DAY)["expired"] == 0
    assert retention.run_retention(ctx, now=T0 + 26 * DAY)["expired"] == 1 and listed(ctx) == [OTHER]


def test_the_job_runs_from_the_dispatchers_turn_on_a_real_worker(ctx):
    project(ctx, PROJECT)  # the default 30 days, by the real clock
    record(ctx, OLD, T0)
    record(ctx, YOUNG, now_ms() - DAY)
    assert retention.retention_if_my_turn(ctx.redis, ctx.keys, ctx.settings)
    # One turn per interval, whichever worker asks.
    assert not retention.retention_if_my_turn(ctx.redis, ctx.keys, ctx.settings)
    assert Queue(ctx.settings.QUEUE_NAME, connection=ctx.redis).count == 1
    run_worker(ctx.settings, burst=True, context=ctx)
    assert listed(ctx) == [YOUNG] and mentions(ctx, OLD) == []
    assert not any(OLD in name for name in objects(ctx))


def test_session_keys_expire_with_their_session(ctx):
    project(ctx, PROJECT, days=10)
    at = now_ms() - DAY
    record(ctx, YOUNG, at)
    expiry = ctx.redis.pexpiretime(ctx.keys.session(YOUNG))
    # Its retention plus the margin the job has to delete it first.
    assert at + 17 * DAY - 1000 <= expiry <= at + 17 * DAY + 1000
    for name in (ctx.keys.session_groups(YOUNG), ctx.keys.session_causes(YOUNG)):
        assert ctx.redis.pexpiretime(name) == expiry
