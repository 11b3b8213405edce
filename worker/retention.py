"""The retention job: sessions past their project's retention are deleted, and deletions are finished.

The dispatcher of every worker (worker/dispatch.py) tries for the turn each RETENTION_INTERVAL_S (a key
set with NX and an expiry, so the turn passes on when a worker dies) and the one that gets it enqueues
this job: the deleting itself runs as an RQ job, never in the dispatcher's loop. It runs the same way on
the embedded default (whose `replay serve` starts a `replay worker`) and in production.
"""
from __future__ import annotations

import logging

from redis import Redis
from rq import Queue

from replay.core.keys import RedisKeys
from replay.core.settings import Settings
from replay.index import erase, stored_summary
from replay.index.expiry import DAY_MS
from replay.ingest.flush import now_ms
from worker.context import Context, current

log = logging.getLogger(__name__)

RETENTION_JOB = "worker.retention.apply_retention"
# Summaries read per round trip while looking for expired sessions; sessions deleted per job at most.
PAGE = 500
MAX_PER_RUN = 5000


def retention_if_my_turn(redis: Redis, keys: RedisKeys, settings: Settings, queue_redis: Redis | None = None) -> bool:
    """Enqueue the retention job (on `queue_redis`, else `redis`) when this worker holds this interval's turn;
    True if it did."""
    if not redis.set(keys.retention_turn(), "1", nx=True, ex=max(1, settings.RETENTION_INTERVAL_S)):
        return False
    Queue(settings.QUEUE_NAME, connection=queue_redis or redis).enqueue(
        RETENTION_JOB, result_ttl=0, failure_ttl=24 * 3600, description="retention: delete expired sessions")
    return True


def _retention_of(redis: Redis, keys: RedisKeys, default_days: int) -> dict[str, int]:
    """Days kept, by project key (projects with their own setting)."""
    found = {}
    for key in sorted(k.decode() for k in redis.smembers(keys.projects())):
        raw = redis.hget(keys.project(key), "retention_days")
        found[key] = int(raw) if raw and raw.isdigit() else default_days
    return found


def expired(redis: Redis, keys: RedisKeys, default_days: int, now: int, limit: int = MAX_PER_RUN) -> list[str]:
    """Indexed sessions that started before their project's retention (the default for no known project).

    Walks the sessions older than the shortest retention, oldest first, and reads each one's project.
    """
    days = _retention_of(redis, keys, default_days)
    oldest_kept = now - min([default_days, *days.values()]) * DAY_MS
    found: list[str] = []
    offset = 0
    while len(found) < limit:
        page = redis.zrangebyscore(keys.by_time(), "-inf", f"({oldest_kept}", start=offset, num=PAGE, withscores=True)
        if not page:
            break
        offset += len(page)
        raws = redis.mget([keys.session(s.decode()) for s, _ in page])
        for (session, started), raw in zip(page, raws):
            project = stored_summary.decode(raw).get("project") if raw else None
            if started < now - days.get(project, default_days) * DAY_MS:
                found.append(session.decode())
    return found[:limit]


def run_retention(ctx: Context, now: int | None = None) -> dict:
    """Delete what expired, run the erasures due again, drop old tombstones; returns what it did."""
    now = now_ms() if now is None else now
    s = ctx.settings
    gone = expired(ctx.redis, ctx.keys, s.RETENTION_DAYS, now)
    erase.delete_sessions(ctx.redis, ctx.keys, ctx.store, gone, now, s.ERASE_AGAIN_MS)
    again = erase.erase_again(ctx.redis, ctx.keys, ctx.store, now, s.ERASE_AGAIN_MS)
    forgotten = erase.forget_tombstones(ctx.redis, ctx.keys, now - s.DELETED_KEEP_S * 1000)
    if gone:
        log.info("retention: deleted %d expired sessions", len(gone))
    return {"expired": len(gone), "erased_again": again, "tombstones_dropped": forgotten}


def apply_retention() -> dict:
    """RQ job: run_retention with the worker's context."""
    return run_retention(current())
