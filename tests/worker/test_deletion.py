"""Deleting on request: one session, a user's, a project's; final, and not brought back by a late flush or reindex."""
from __future__ import annotations

from tests import samples
from tests.worker.retention_helpers import DAY, PROJECT, T0, mentions, objects, project, record
from tests.worker.test_evidence import SKEW, access
from replay.core.keys import segment_key
from replay.index import erase
from replay.index.sessions import index_manifest, query_sessions
from replay.ingest.flush import now_ms
from replay.ingest.proxy_logs import ProxyLogs
from replay.storage import recording
from worker import jobs
from worker.reindex import reindex
from worker.retention import run_retention

A1, A2, B = "sess_usera_1_0123456789", "sess_usera_2_0123456789", "sess_userb_0123456789"


def listed(ctx, **filters) -> list[str]:
    return sorted(s["session"] for s in query_sessions(ctx.redis, ctx.keys, **filters))


def delete(ctx, sessions) -> int:
    return erase.delete_sessions(ctx.redis, ctx.keys, ctx.store, sessions, now_ms(), ctx.settings.ERASE_AGAIN_MS)


def stored(ctx, session) -> list[str]:
    return sorted(name for name in objects(ctx) if session in name)


def test_all_sessions_of_a_user_are_deleted_and_the_others_stay(ctx):
    project(ctx)
    record(ctx, A1, T0, user="u-a")
    record(ctx, A2, T0 + DAY, user="u-a")
    record(ctx, B, T0, user="u-b")
    assert erase.sessions_of(ctx.redis, ctx.keys, user="u-a") == [A1, A2]
    assert delete(ctx, erase.sessions_of(ctx.redis, ctx.keys, user="u-a")) == 2
    assert listed(ctx) == [B] and listed(ctx, user="u-a") == [] and listed(ctx, q="u-a") == []
    for session in (A1, A2):
        assert mentions(ctx, session) == [] and stored(ctx, session) == []
    assert stored(ctx, B) and listed(ctx, user="u-b") == [B]


def test_reindex_does_not_bring_a_deleted_session_back(ctx):
    project(ctx)
    record(ctx, A1, T0)
    record(ctx, B, T0)
    manifest = recording.load_manifest(ctx.store, A1)
    delete(ctx, [A1])
    # A deletion whose storage part failed midway: an object and the manifest are still there.
    recording.save_manifest(ctx.store, manifest)
    ctx.store.put(segment_key(A1, "win_aaaaaaaaaaaa", 1, 3), b"left over")
    assert reindex(ctx) == 1
    assert listed(ctx) == [B] and stored(ctx, A1) == [] and mentions(ctx, A1) == []


def test_a_session_still_sending_after_its_deletion_is_dropped_not_stored(ctx):
    project(ctx)
    record(ctx, A1, T0)
    delete(ctx, [A1])
    # The page is still open: more batches, then a late proxy line, then the flushes they schedule.
    ctx.redis.hset(ctx.keys.session_meta(A1), mapping={"project": PROJECT, "ua": "Mozilla/5.0 test"})
    samples.append_all(ctx.buffer, A1, {"win_cccccccccccc": [(1, [samples.meta(samples.SITE + "/more", T0 + 5000)])]})
    ProxyLogs(ctx.settings, ctx.redis, ctx.keys).store_lines(
        PROJECT, [access("/api/orders?x=2", 502, T0 + SKEW + 6000, session=A1, connection=5)], "http")
    assert jobs.flush_session(A1)["deleted"] is True
    assert listed(ctx) == [] and stored(ctx, A1) == []
    assert not ctx.redis.exists(ctx.keys.buffer(A1)) and ctx.redis.zscore(ctx.keys.flush_due(), A1) is None


def test_what_a_flush_in_flight_wrote_goes_with_the_second_erasure(ctx):
    project(ctx)
    record(ctx, A1, now_ms() - DAY)  # young: retention leaves it
    manifest = recording.load_manifest(ctx.store, A1)
    delete(ctx, [A1])
    # A flush that had passed its checks before the deletion writes its segment, manifest and index after it.
    ctx.store.put(segment_key(A1, "win_aaaaaaaaaaaa", 4, 4), b"late")
    recording.save_manifest(ctx.store, manifest)
    index_manifest(ctx.redis, ctx.keys, manifest)
    assert listed(ctx) == [A1]
    # Not yet due: the retention job leaves it; once due (ERASE_AGAIN_MS later), it takes all of it.
    run_retention(ctx, now=now_ms())
    assert listed(ctx) == [A1]
    assert run_retention(ctx, now=now_ms() + ctx.settings.ERASE_AGAIN_MS + 1)["erased_again"] == 1
    assert listed(ctx) == [] and stored(ctx, A1) == [] and mentions(ctx, A1) == []
    # The tombstone outlives every buffer and join window, then goes.
    assert erase.is_deleted(ctx.redis, ctx.keys, A1)
    run_retention(ctx, now=now_ms() + ctx.settings.DELETED_KEEP_S * 1000 + 1)
    assert not erase.is_deleted(ctx.redis, ctx.keys, A1)
