"""The flush job: buffered batches of a session to segments in object storage, manifest, index.

Order matters for safety: segments, then manifest, then index, and only then
trim the buffer. A crash anywhere before the trim leaves the batches in Redis
and the retried job writes the same keys and skips what the manifest covers.
"""
from __future__ import annotations

import logging
import uuid
from collections import defaultdict

from replay.storage import manifest as mf
from replay.core.records import Record
from worker.context import Context, current
from replay.core.events import scrub
from replay.index.sessions import index_manifest
from replay.core.keys import ID_PATTERN, segment_key
from replay.storage.recording import encode_segment, load_manifest, save_manifest, segment_span
from replay.ingest.flush import request_flush
from worker.sweep import schedule_sweep

log = logging.getLogger(__name__)

# One flush reads about this much of the buffer; more waits for the next flush.
FLUSH_READ_BYTES = 4 * 1024 * 1024
# A flush that finds the session locked by another tries again after this long.
LOCKED_RETRY_MS = 1_000

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


class LockLost(RuntimeError):
    """The flush lock expired mid-flush; the buffer was left as it was, and the job retries."""


def flush_session(session_id: str) -> dict:
    """RQ job: move the session's buffered batches to object storage and index them."""
    if not ID_PATTERN.match(session_id or ""):
        raise ValueError(f"not a session id: {session_id!r}")
    ctx = current()
    lock = ctx.keys.flush_lock(session_id)
    token = uuid.uuid4().hex
    if not ctx.redis.set(lock, token, nx=True, px=ctx.settings.FLUSH_LOCK_MS):
        # The holder may finish before seeing what brought us here: try again after it.
        request_flush(ctx.redis, ctx.settings, session_id, LOCKED_RETRY_MS, force=True)
        return {"session": session_id, "locked": True}
    try:
        # Cleared before reading, so that batches appended from now on schedule another flush.
        ctx.redis.delete(ctx.keys.flush_scheduled(session_id), ctx.keys.flush_now(session_id))
        result = flush(ctx, session_id, (lock, token))
    finally:
        ctx.redis.eval(_RELEASE, 1, lock, token)
    if result["remaining"]:
        request_flush(ctx.redis, ctx.settings, session_id, 0, force=True)
    # Keeps the sweep alive even if its own scheduled job was lost (a no-op while one is scheduled).
    schedule_sweep(ctx.redis, ctx.settings)
    return result


def flush(ctx: Context, session: str, lock: tuple[str, str]) -> dict:
    """One pass, under the session's flush lock: read, store, merge, index, trim."""
    records, nbytes = ctx.buffer.read(session, FLUSH_READ_BYTES)
    if not records:
        return {"session": session, "records": 0, "stored": 0, "segments": [], "remaining": 0}
    manifest = load_manifest(ctx.store, session) or mf.new(session)
    fresh = mf.uncovered(manifest, records)
    segments = write_segments(ctx, session, fresh)
    meta = {k.decode(): v.decode() for k, v in ctx.redis.hgetall(ctx.keys.session_meta(session)).items()}
    merged = mf.merge(manifest, fresh, project=meta.get("project"), user_agent=meta.get("ua"),
                      segment_keys=segments, segment_spans=segments,
                      max_body_chars=ctx.settings.MAX_BODY_CHARS)
    # A flush that outlived its lock must not overwrite the manifest a newer flush wrote.
    if not ctx.redis.eval(_RENEW, 1, lock[0], lock[1], ctx.settings.FLUSH_LOCK_MS):
        raise LockLost(f"flush lock of {session} expired before the manifest write")
    if fresh:
        save_manifest(ctx.store, merged)
    # Indexed even when nothing was fresh: the previous try may have died right after the manifest.
    index_manifest(ctx.redis, ctx.keys, merged)
    if not ctx.buffer.trim(session, len(records), nbytes, lock=lock):
        raise LockLost(f"flush lock of {session} expired before the trim")
    remaining = ctx.buffer.length(session)
    log.info("flushed %s: %d records (%d new), %d segments, %d waiting",
             session, len(records), len(fresh), len(segments), remaining)
    return {"session": session, "records": len(records), "stored": len(fresh), "segments": list(segments),
            "remaining": remaining}


def write_segments(ctx: Context, session: str, records: list[Record]) -> dict[str, list[int]]:
    """One segment object per window, named by its seq range; returns {key: [first, last] event time}."""
    by_window: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        by_window[r.window].append(r)
    spans = {}
    for window, rs in sorted(by_window.items()):
        rs.sort(key=lambda r: r.seq)
        key = segment_key(session, window, rs[0].seq, rs[-1].seq)
        batches = [{"seq": r.seq, "received_ms": r.received_ms, "url": r.url,
                    "events": [scrub(e) for e in r.events] if isinstance(r.events, list) else []} for r in rs]
        ctx.store.put(key, encode_segment(session, window, batches), "application/gzip")
        spans[key] = segment_span(batches)
    return spans
