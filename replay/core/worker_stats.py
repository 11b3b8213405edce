"""What every `replay worker` counts, kept in one Redis hash so that a scrape of any web process reads it.

Workers usually run on other hosts than the web tier, so they write no
Prometheus files: each flush adds to counters and histogram buckets here (one
pipelined round trip, next to the several a flush costs anyway), and /metrics
turns the hash into metric families at scrape time. Counters only grow; a
Redis that loses them looks to Prometheus like any counter reset.
"""
from __future__ import annotations

import logging

from redis import Redis
from redis.client import Pipeline
from redis.exceptions import RedisError

from replay.core.keys import RedisKeys

log = logging.getLogger(__name__)

# Upper bounds (seconds) of the flush duration histogram; +Inf is the count.
FLUSH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


def record_flush(redis, keys: RedisKeys, seconds: float, ok: bool, storage_error: bool = False) -> None:
    """Count one session's flush; a Redis away loses only this count (the flush itself decides what is retried).

    `redis` may be a pipeline: the counts are then queued on it, for its caller to execute.
    """
    key = keys.worker_stats()
    queued = isinstance(redis, Pipeline)
    pipe = redis if queued else redis.pipeline(transaction=False)
    pipe.hincrby(key, "flushes_ok" if ok else "flushes_failed", 1)
    if storage_error:
        pipe.hincrby(key, "storage_errors", 1)
    pipe.hincrbyfloat(key, "flush_seconds_sum", seconds)
    for bound in FLUSH_BUCKETS:
        if seconds <= bound:
            pipe.hincrby(key, f"flush_seconds_le_{bound:g}", 1)
    pipe.hincrby(key, "flush_seconds_count", 1)
    if queued:
        return
    try:
        pipe.execute()
    except RedisError as exc:
        log.debug("flush not counted: Redis unavailable (%s)", exc)


def record_alert_attempt(redis: Redis, keys: RedisKeys, outcome: str) -> None:
    """Count one webhook POST of an alert: 'sent', 'retried' (failed, tried again later) or 'failed' (given up)."""
    try:
        redis.hincrby(keys.worker_stats(), f"alerts_{outcome}", 1)
    except RedisError as exc:
        log.debug("alert attempt not counted: Redis unavailable (%s)", exc)


def read(redis: Redis, keys: RedisKeys) -> dict[str, float]:
    """The counters as numbers (missing ones are 0)."""
    raw = redis.hgetall(keys.worker_stats())
    return {k.decode(): float(v) for k, v in raw.items()}


def flush_histogram(stats: dict[str, float]) -> tuple[list[tuple[str, float]], float]:
    """Cumulative (le, count) buckets ending with +Inf, and the sum: Prometheus' histogram shape."""
    buckets = [(f"{bound:g}", stats.get(f"flush_seconds_le_{bound:g}", 0.0)) for bound in FLUSH_BUCKETS]
    buckets.append(("+Inf", stats.get("flush_seconds_count", 0.0)))
    return buckets, stats.get("flush_seconds_sum", 0.0)
