"""The flush job: buffered batches of a session to segments in object storage, manifest, index.

Order matters for safety: segments, then manifest, then index, and only then
trim the buffer. A crash anywhere before the trim leaves the batches in Redis
and the retried job writes the same keys and skips what the manifest covers.
"""
from __future__ import annotations

import functools
import logging
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from collections import defaultdict
from dataclasses import replace

from redis.exceptions import RedisError

from replay.core import worker_stats
from replay.core.redis_conn import script_pipeline
from replay.core.keys import ID_PATTERN, segment_key
from replay.core.records import Record
from replay.ingest import flush as schedule
from replay.ingest.flush import request_flush
from replay.index.erase import drop_buffered
from replay.index.expiry import expire_session_keys
from replay.index import stored_summary
from replay.index.sessions import index_manifest
from replay.storage import manifest as mf
from replay.core import body_capture
from replay.core.events import scrub
from replay.core.redact import mask_query
from replay.storage.store import StorageError
from replay.storage.recording import encode_segment, load_manifest, save_manifest, segment_span
from worker.context import Context, current
from worker.cause_index import index_session_causes
from worker.evidence import join_session
from worker.lock import SessionLock

log = logging.getLogger(__name__)

# One flush reads about this much of the buffer; more waits for the next flush.
FLUSH_READ_BYTES = 4 * 1024 * 1024
# A flush that finds the session locked by another looks again after this long.
LOCKED_RETRY_MS = 1_000
# Sessions of one job flushed side by side: most of a flush is waiting on Redis and object storage.
FLUSH_THREADS = 8


class LockLost(RuntimeError):
    """The flush lock expired mid-flush; the buffer was left as it was, and the session is flushed again."""


class FlushFailed(RuntimeError):
    """Sessions of a batched flush job that failed; each is due again after its own backoff."""


def flush_sessions(session_ids: list[str]) -> list[dict]:
    """RQ job: flush several due sessions (one job's overhead for all of them), FLUSH_THREADS at a time.

    Each session's flush is the one flush_session does, under its own lock: running them side by side
    overlaps their waits on Redis and object storage. One session's failure does not stop the others;
    the job fails at the end, naming them.
    """
    ctx = current()
    # This job no longer waits: what is appended from now on may queue the next one.
    ctx.redis.delete(*(ctx.keys.flush_queued(s) for s in session_ids if ID_PATTERN.match(s or "")))
    outcomes = list(_pool().map(_outcome, session_ids))
    redis_errors = [exc for exc in outcomes if isinstance(exc, RedisError)]
    if redis_errors:
        raise redis_errors[0]  # Redis is away: the claims' leases bring the sessions back
    failed = [f"{session_id}: {type(exc).__name__}: {exc}"
              for session_id, exc in zip(session_ids, outcomes) if isinstance(exc, Exception)]
    if failed:
        raise FlushFailed(f"{len(failed)} of {len(session_ids)} sessions failed: " + "; ".join(failed))
    return outcomes


def _outcome(session_id: str) -> dict | Exception:
    try:
        return _flush_session(session_id)
    except Exception as exc:
        return exc


_threads: ThreadPoolExecutor | None = None
_threads_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """The process's flush threads (signals stay with the main thread, where RQ handles them)."""
    global _threads
    with _threads_lock:
        if _threads is None:
            _threads = ThreadPoolExecutor(FLUSH_THREADS, thread_name_prefix="flush", initializer=_block_signals)
        return _threads


def _block_signals() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})


def flush_session(session_id: str) -> dict:
    """RQ job: move the session's buffered batches to object storage and index them.

    A failure leaves the batches in Redis and makes the session due again after a
    backoff (flush.retry_later), then fails the job so RQ keeps it in its failed registry.
    """
    if not ID_PATTERN.match(session_id or ""):
        raise ValueError(f"not a session id: {session_id!r}")
    # This job no longer waits: what is appended from now on may queue the next one.
    current().redis.delete(current().keys.flush_queued(session_id))
    return _flush_session(session_id)


def _flush_session(session_id: str) -> dict:
    if not ID_PATTERN.match(session_id or ""):
        raise ValueError(f"not a session id: {session_id!r}")
    ctx = current()
    lock = SessionLock(ctx.redis, ctx.keys.flush_lock(session_id), ctx.settings.FLUSH_LOCK_MS)
    # The lock and what the flush reads first, in one round trip (the reads count only if the lock was taken).
    pipe = script_pipeline(ctx.redis)
    lock.acquire(client=pipe)
    first = _queue_first_reads(ctx, session_id, pipe)
    taken, *replies = pipe.execute()
    if not taken:
        # The holder's trim reschedules what it leaves; looking again soon covers a holder that died.
        request_flush(ctx.redis, ctx.keys, session_id, LOCKED_RETRY_MS)
        return {"session": session_id, "locked": True}
    started = time.perf_counter()
    try:
        with lock.kept_alive():
            result = flush(ctx, session_id, lock, first(replies))
    except Exception as exc:
        worker_stats.record_flush(ctx.redis, ctx.keys, time.perf_counter() - started, ok=False,
                                  storage_error=isinstance(exc, StorageError))
        _retry_later(ctx, session_id, exc)
        _release(lock)
        raise
    except BaseException:
        _release(lock)
        raise
    # Counted, the backoff reset and the lock released in one round trip.
    pipe = script_pipeline(ctx.redis)
    worker_stats.record_flush(pipe, ctx.keys, time.perf_counter() - started, ok=True)
    schedule.succeeded(pipe, ctx.keys, session_id)
    lock.release(client=pipe)
    try:
        pipe.execute()
    except RedisError:
        pass  # the flush is done; the lock expires on its own and the count is lost
    return result


def _queue_first_reads(ctx: Context, session: str, pipe):
    """Queue the reads a flush starts with; returns what turns their replies into `flush`'s `first`."""
    pipe.zscore(ctx.keys.deleted(), session)
    ctx.buffer.queue_first_page(session, pipe)
    pipe.hgetall(ctx.keys.session_meta(session))
    pipe.get(ctx.keys.session(session))
    return lambda replies: (replies[0] is not None, replies[1], replies[2], replies[3])


def _retry_later(ctx: Context, session: str, exc: Exception) -> None:
    try:
        delay = schedule.retry_later(ctx.redis, ctx.keys, session, ctx.settings.FLUSH_RETRY_BASE_MS,
                                     ctx.settings.FLUSH_RETRY_MAX_MS)
        log.warning("flush of %s failed (%s: %s); due again in %d ms", session, type(exc).__name__, exc, delay)
    except RedisError:
        # Redis itself is away: the claim's lease makes the session due again once it is back.
        log.warning("flush of %s failed (%s: %s) and Redis is unreachable", session, type(exc).__name__, exc)


def _release(lock: SessionLock) -> None:
    try:
        lock.release()
    except RedisError:
        pass  # it expires on its own


def flush(ctx: Context, session: str, lock: SessionLock, first: tuple | None = None) -> dict:
    """One pass, under the session's flush lock: read, store, merge, index, trim.

    `first`: (deleted?, the buffer's first page, the session's meta hash, its indexed summary) as read under the
    lock, if read already. A session that is not indexed has most likely no manifest yet: none is read, and its
    first one is written only if none exists (else that one is read and merged into after all).
    """
    if first is None:
        pipe = script_pipeline(ctx.redis)
        first = _queue_first_reads(ctx, session, pipe)(pipe.execute())
    deleted, first_page, raw_meta, indexed = first
    if deleted:
        return _deleted(ctx, session)
    records, nbytes = ctx.buffer.read(session, FLUSH_READ_BYTES, first_page=first_page)
    if not records:
        # Nothing (left) to store; a stored session is here again when late proxy lines came in: join them.
        stored = load_manifest(ctx.store, session)
        if stored is not None:
            join_session(ctx, stored, schedule.now_ms())
            index_session_causes(ctx, stored)
        # The trim of nothing takes the session off the schedule.
        ctx.buffer.trim(session, 0, 0, (lock.key, lock.token), schedule.now_ms())
        return {"session": session, "records": 0, "stored": 0, "segments": [], "remaining": 0}
    stored = load_manifest(ctx.store, session) if indexed else None
    manifest = stored or mf.new(session)
    meta = {k.decode(): v.decode() for k, v in raw_meta.items()}
    # Scrubbed before anything is stored or merged: request bodies only where the project opted in.
    bodies = body_capture.patterns(ctx.redis, ctx.keys, meta.get("project"))
    fresh = [scrubbed(r, bodies, ctx.settings.MAX_BODY_CHARS) for r in mf.uncovered(manifest, records)]
    segments = write_segments(ctx, session, fresh)
    merge = functools.partial(mf.merge, project=meta.get("project"), user_agent=meta.get("ua"),
                              segment_keys=segments, segment_spans=segments,
                              max_body_chars=ctx.settings.MAX_BODY_CHARS, release=meta.get("release"),
                              environment=meta.get("environment"))
    merged = merge(manifest, fresh)
    # A flush that outlived its lock must not overwrite the manifest a newer flush wrote.
    pipe = script_pipeline(ctx.redis)
    lock.renew(client=pipe)
    pipe.zscore(ctx.keys.deleted(), session)
    renewed, deleted = pipe.execute()
    if not renewed:
        raise LockLost(f"flush lock of {session} expired before the manifest write")
    if deleted is not None:
        return _deleted(ctx, session)  # deleted while this flush ran: its segments go with the second erasure
    if fresh and not save_manifest(ctx.store, merged, new=stored is None):
        # It had one after all (indexed no longer, or not yet): merge into that one.
        merged = merge(load_manifest(ctx.store, session) or mf.new(session), fresh)
        save_manifest(ctx.store, merged)
    summary = None if indexed is None else stored_summary.decode(indexed)
    # Indexed even when nothing was fresh: the previous try may have died right after the manifest.
    index_manifest(ctx.redis, ctx.keys, merged, previous=summary)
    joined = join_session(ctx, merged, schedule.now_ms())
    index_session_causes(ctx, merged)
    expire_session_keys(ctx.redis, ctx.keys, mf.summary(merged), ctx.settings.RETENTION_DAYS, schedule.now_ms())
    remaining = ctx.buffer.trim(session, len(records), nbytes, (lock.key, lock.token), schedule.now_ms())
    if remaining is None:
        raise LockLost(f"flush lock of {session} expired before the trim")
    log.debug("flushed %s: %d records (%d new), %d segments, %d waiting, %d calls joined",
             session, len(records), len(fresh), len(segments), remaining, joined)
    return {"session": session, "records": len(records), "stored": len(fresh), "segments": list(segments),
            "remaining": remaining, "joined": joined}


def _deleted(ctx: Context, session: str) -> dict:
    """A deleted session's batches (a page still open, a late beacon) are dropped, never stored."""
    drop_buffered(ctx.redis, ctx.keys, session)
    log.info("dropped the buffer of deleted session %s", session)
    return {"session": session, "records": 0, "stored": 0, "segments": [], "remaining": 0, "deleted": True}


def scrubbed(record: Record, bodies: list[str], max_body_chars: int) -> Record:
    """The record with each event as it may be stored (replay.core.events.scrub)."""
    events = [scrub(e, bodies, max_body_chars) for e in record.events] if isinstance(record.events, list) else []
    return replace(record, events=events, url=mask_query(record.url) if isinstance(record.url, str) else record.url)


def write_segments(ctx: Context, session: str, records: list[Record]) -> dict[str, list[int]]:
    """One segment object per window, named by its seq range, of scrubbed records; returns {key: [first, last]}."""
    by_window: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        by_window[r.window].append(r)
    spans = {}
    for window, rs in sorted(by_window.items()):
        rs.sort(key=lambda r: r.seq)
        key = segment_key(session, window, rs[0].seq, rs[-1].seq)
        batches = [{"seq": r.seq, "received_ms": r.received_ms, "url": r.url,
                    "events": r.events} for r in rs]
        ctx.store.put(key, encode_segment(session, window, batches), "application/gzip")
        spans[key] = segment_span(batches)
    return spans
