"""The flush schedule: one Redis zset of sessions by the time their buffer is due for a flush.

The collector puts a session in it with every append (in the append script) and
when a page goes away; every `replay worker` claims what is due and enqueues a
flush job right away. Nothing waits on one process's timer or lock: a claim
only pushes the due time forward by a lease, so a session whose worker died is
claimed again by another once the lease runs out, and the flush job takes the
session out only when its buffer is empty.
"""
from __future__ import annotations

import time

from redis import Redis

from replay.core.keys import RedisKeys

# Claim up to ARGV[3] sessions due by ARGV[1]: each stays in the set, due again at ARGV[2] (the lease).
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, session in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], session)
end
return due
"""


def now_ms() -> int:
    return int(time.time() * 1000)


def request_flush(redis: Redis, keys: RedisKeys, session: str, delay_ms: int, if_unscheduled: bool = False) -> None:
    """Make the session due in `delay_ms` unless it is due sooner already (or, with if_unscheduled, due at all:
    a live session's next flush comes soon enough, and a late proxy line must not make it flush more often)."""
    due = {session: now_ms() + max(0, int(delay_ms))}
    if if_unscheduled:
        redis.zadd(keys.flush_due(), due, nx=True)
    else:
        redis.zadd(keys.flush_due(), due, lt=True)


def claim_due(redis: Redis, keys: RedisKeys, lease_ms: int, limit: int = 100) -> list[str]:
    """Sessions due now, each leased for `lease_ms` (due again then, unless its flush empties it first)."""
    now = now_ms()
    script = redis.register_script(_CLAIM)
    return [s.decode() for s in script(keys=[keys.flush_due()], args=[now, now + lease_ms, limit])]


def due_at(redis: Redis, keys: RedisKeys, session: str) -> int | None:
    """When the session is due (epoch ms), or None when it is not scheduled."""
    score = redis.zscore(keys.flush_due(), session)
    return None if score is None else int(score)


def retry_later(redis: Redis, keys: RedisKeys, session: str, base_ms: int, max_ms: int) -> int:
    """A flush failed: due again after a backoff that doubles with each failure in a row; returns the delay."""
    tries = redis.hincrby(keys.flush_tries(), session, 1)
    delay = min(max_ms, base_ms * 2 ** min(tries - 1, 20))
    redis.zadd(keys.flush_due(), {session: now_ms() + delay})
    return delay


def succeeded(redis: Redis, keys: RedisKeys, session: str) -> None:
    """A flush went through: the next failure starts the backoff afresh."""
    redis.hdel(keys.flush_tries(), session)
