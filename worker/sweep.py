"""The sweep: put back on the flush schedule any buffer that holds batches but is on none.

Every append schedules its session in the same script that stores it, so a
stranded buffer takes a lost write or a bug; the sweep is the backstop that
keeps any batch from waiting for its TTL. One worker sweeps per interval.
"""
from __future__ import annotations

from typing import Iterator

from redis import Redis

from replay.core.keys import RedisKeys
from replay.ingest.flush import now_ms


def stranded(redis: Redis, keys: RedisKeys) -> Iterator[str]:
    """Sessions whose buffer holds batches while they are neither due nor being flushed."""
    for raw in redis.scan_iter(match=keys.buffer("*"), count=1000):
        session = keys.session_of_buffer(raw.decode())
        scheduled = redis.zscore(keys.flush_due(), session) is not None
        if not scheduled and not redis.exists(keys.flush_lock(session)) and redis.llen(raw):
            yield session


def sweep(redis: Redis, keys: RedisKeys) -> int:
    """Make every stranded session due now; returns how many."""
    found = list(stranded(redis, keys))
    if found:
        redis.zadd(keys.flush_due(), {session: now_ms() for session in found}, nx=True)
    return len(found)


def take_turn(redis: Redis, keys: RedisKeys, interval_s: int) -> bool:
    """True for the one worker that sweeps this interval (the turn passes on if it dies)."""
    return bool(redis.set(keys.sweep_lock(), "1", nx=True, ex=interval_s))
