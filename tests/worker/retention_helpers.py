"""Recorded sessions for the retention and deletion tests: stored, indexed, joined to proxy lines, shared."""
from __future__ import annotations

import copy

from tests import samples
from tests.samples import T0
from tests.worker.test_evidence import PROJECT, SKEW, access, error
from replay.ingest.proxy_logs import ProxyLogs
from replay.viewer.share import ShareLinks
from worker import jobs

DAY = 24 * 3600 * 1000
# Keys of the RQ queue and of the job's own bookkeeping: not a session's.
NOT_SESSION_KEYS = ("rq:", "replay:deleted", "replay:erase:due", "replay:retention:turn")


def shifted(batches: dict, by_ms: int) -> dict:
    """The sample session, every event time moved by by_ms."""
    out = copy.deepcopy(batches)
    for items in out.values():
        for _, events in items:
            for event in events:
                if isinstance(event, dict) and isinstance(event.get("timestamp"), int):
                    event["timestamp"] += by_ms
                    payload = (event.get("data") or {}).get("payload")
                    if isinstance(payload, dict) and isinstance(payload.get("startTime"), int):
                        payload["startTime"] += by_ms
    return out


def record(ctx, session: str, at_ms: int, user: str = "u-42", project: str = PROJECT, share: bool = True) -> None:
    """One session started at at_ms: a 502 the proxy logged (evidence), a network error, errors, a user, a link."""
    by = at_ms - T0
    ctx.redis.hset(ctx.keys.session_meta(session), mapping={"project": project, "ua": "Mozilla/5.0 test"})
    batches = shifted(samples.checkout_session(), by)
    batches["win_aaaaaaaaaaaa"][0][1][3] = samples.identify(user, at_ms + 60, plan="pro")
    samples.append_all(ctx.buffer, session, batches, received_ms=at_ms + SKEW + 1000)
    connection = sum(map(ord, session))  # one nginx connection per session
    ProxyLogs(ctx.settings, ctx.redis, ctx.keys).store_lines(project, [access("/api/orders?x=1", 502, at_ms + SKEW + 235, session=session, connection=connection),
                     error(at_ms + SKEW + 220, connection=connection)], "http")
    assert jobs.flush_session(session)["stored"] == 4
    if share:
        ShareLinks(ctx.redis, ctx.keys, "k" * 32).create(session, "ann@example.com")


def redis_keys(ctx) -> set[str]:
    return {k.decode() for k in ctx.redis.scan_iter(count=1000) if not k.decode().startswith(NOT_SESSION_KEYS)}


def objects(ctx) -> set[str]:
    return set(ctx.store.list(""))


def mentions(ctx, session: str) -> list[str]:
    """Every Redis key whose name or content names the session (the job's own tombstones aside)."""
    found = []
    for name in redis_keys(ctx):
        kind = ctx.redis.type(name).decode()
        content = {"string": lambda: ctx.redis.get(name), "hash": lambda: ctx.redis.hgetall(name),
                   "zset": lambda: ctx.redis.zrange(name, 0, -1), "set": lambda: ctx.redis.smembers(name),
                   "list": lambda: ctx.redis.lrange(name, 0, -1)}[kind]()
        if session in name or session.encode() in repr(content).encode():
            found.append(name)
    return sorted(found)


def project(ctx, key: str = PROJECT, days: int | None = None) -> None:
    ctx.redis.hset(ctx.keys.project(key), mapping={"name": key, "origins": "[]", "created_ms": T0})
    if days:
        ctx.redis.hset(ctx.keys.project(key), "retention_days", days)
    ctx.redis.sadd(ctx.keys.projects(), key)


__all__ = ["DAY", "T0", "record", "redis_keys", "objects", "mentions", "project", "PROJECT"]
