"""Rebuild the Redis index from object storage, the source of truth (`replay reindex`)."""
from __future__ import annotations

from worker.cause_index import index_session_causes
from worker.context import Context
from replay.index.sessions import drop_index, index_manifest
from replay.storage.recording import list_sessions, load_manifest


def reindex(ctx: Context) -> int:
    """Drop every index key, then index every stored manifest; returns how many were indexed."""
    drop_index(ctx.redis, ctx.keys)
    count = 0
    for session in list_sessions(ctx.store):
        manifest = load_manifest(ctx.store, session)
        # A session whose first flush died before its manifest has nothing to index yet.
        if manifest is not None:
            index_manifest(ctx.redis, ctx.keys, manifest)
            index_session_causes(ctx, manifest)
            count += 1
    return count
