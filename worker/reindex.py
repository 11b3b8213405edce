"""Rebuild the Redis index from object storage, the source of truth (`replay reindex`)."""
from __future__ import annotations

from worker.cause_index import index_session_causes
from worker.context import Context
from replay.index.erase import erase_session, is_deleted
from replay.index.expiry import expire_session_keys
from replay.index.sessions import drop_index, index_manifest
from replay.ingest.flush import now_ms
from replay.storage.recording import list_sessions, load_manifest


def reindex(ctx: Context) -> int:
    """Drop every index key, then index every stored manifest; returns how many were indexed.

    A deleted session (a tombstone in Redis) is never indexed again: whatever a failed deletion left of it
    in storage is erased instead.
    """
    drop_index(ctx.redis, ctx.keys)
    count = 0
    for session in list_sessions(ctx.store):
        if is_deleted(ctx.redis, ctx.keys, session):
            erase_session(ctx.redis, ctx.keys, ctx.store, session)
            continue
        manifest = load_manifest(ctx.store, session)
        # A session whose first flush died before its manifest has nothing to index yet.
        if manifest is not None:
            summary = index_manifest(ctx.redis, ctx.keys, manifest)
            index_session_causes(ctx, manifest)
            expire_session_keys(ctx.redis, ctx.keys, summary, ctx.settings.RETENTION_DAYS, now_ms())
            count += 1
    return count
