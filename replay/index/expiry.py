"""Per-session index keys expire with their session: its retention, plus a margin for the retention job to run first.

The retention job (worker/retention.py) deletes a session and its index entries when it expires; this expiry
is the backstop for the keys that hold one session each, should that job not run (no worker for days).
"""
from __future__ import annotations

from redis import Redis

from replay.core.keys import RedisKeys

DAY_MS = 24 * 3600 * 1000
# The keys outlive the session's retention by this much: the job deletes it (and its zset entries) first.
MARGIN_DAYS = 7


def retention_days(redis: Redis, keys: RedisKeys, project: str | None, default_days: int) -> int:
    """The project's retention in days, or the default for a session of no (or no longer a) project."""
    raw = redis.hget(keys.project(project), "retention_days") if project else None
    return int(raw) if raw and raw.isdigit() else default_days


def expire_session_keys(redis: Redis, keys: RedisKeys, summary: dict, default_days: int, now_ms: int) -> int:
    """Set the expiry of the session's own index keys (refreshed at every indexing); returns it (epoch ms).

    At the end of its retention plus the margin; never sooner than the margin from now, so that a session
    reindexed past its retention still leaves the index by the job, which takes its zset entries too.
    """
    session = summary["session"]
    days = retention_days(redis, keys, summary.get("project"), default_days)
    at_ms = max(int(summary.get("started_ms") or 0) + days * DAY_MS, now_ms) + MARGIN_DAYS * DAY_MS
    pipe = redis.pipeline(transaction=False)
    for name in (keys.session(session), keys.session_groups(session), keys.session_causes(session)):
        pipe.pexpireat(name, at_ms)
    pipe.execute()
    return at_ms
