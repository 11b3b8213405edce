"""A project's sample rate, and the heartbeats of its pages that record on failure (docs/protocol.md, "Heartbeat").

`sample_rate` (0..1) is the share of sessions recorded in full; the others are recorded on failure only: nothing is
sent until a call fails or an error goes uncaught, then the buffer of the last 30 s or more and the rest of the
session. Unset (the default), the page's `data-capture` decides: all sessions in full, or none (`on-failure`). The
snippet hears the rate in the `capture` of every ready, HTTP answer and heartbeat answer, and decides once per session.
Kept in the project's own hash (field `sample_rate`), so a project's deletion takes it along.

A page that holds its recording sends one heartbeat as it starts; they are counted per project and UTC day, for
HEARTBEAT_DAYS, so that a project whose pages never fail still shows that they load.
"""
from __future__ import annotations

import math
import time

from redis import Redis

from replay.core.keys import RedisKeys

FIELD = "sample_rate"
HEARTBEAT_DAYS = 7
_DAY_S = 86400


class SampleRateError(ValueError):
    """A sample rate that is no number from 0 to 1."""


def parse(raw: str | bytes | None) -> float | None:
    """The rate as stored (None: unset, or anything but a number from 0 to 1)."""
    try:
        rate = float(raw) if raw not in (None, b"", "") else None
    except (TypeError, ValueError):
        return None
    return rate if rate is not None and math.isfinite(rate) and 0 <= rate <= 1 else None


def check(text: str) -> float:
    """A rate typed by an admin: "0.1", "10%", "1", "0"."""
    t = text.strip()
    try:
        rate = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        rate = math.nan
    if not (math.isfinite(rate) and 0 <= rate <= 1):
        raise SampleRateError(f"{text!r} is not a sample rate: give a number from 0 to 1 (or 0% to 100%)")
    return rate


def set_rate(redis: Redis, keys: RedisKeys, project_key: str, rate: float | None) -> None:
    """Set the project's rate (None: unset, the pages' data-capture decides)."""
    if not redis.exists(keys.project(project_key)):
        raise SampleRateError(f"no project has the key {project_key}")
    if rate is None:
        redis.hdel(keys.project(project_key), FIELD)
    else:
        redis.hset(keys.project(project_key), FIELD, repr(check(str(rate))))


def _day(t: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(t))


def count_heartbeat(redis: Redis, keys: RedisKeys, project_key: str, now: float | None = None) -> None:
    key = keys.heartbeats(project_key, _day(time.time() if now is None else now))
    pipe = redis.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, (HEARTBEAT_DAYS + 1) * _DAY_S)
    pipe.execute()


def heartbeat_keys(keys: RedisKeys, project_key: str, now: float | None = None) -> list[str]:
    """The counters of the last HEARTBEAT_DAYS days, today first."""
    now = time.time() if now is None else now
    return [keys.heartbeats(project_key, _day(now - i * _DAY_S)) for i in range(HEARTBEAT_DAYS + 1)]


def heartbeats(redis: Redis, keys: RedisKeys, project_key: str, now: float | None = None) -> tuple[int, int]:
    """(today, the last HEARTBEAT_DAYS days): heartbeats counted, UTC days."""
    counts = [int(v or 0) for v in redis.mget(heartbeat_keys(keys, project_key, now)[:HEARTBEAT_DAYS])]
    return counts[0], sum(counts)
