"""The Redis index of sessions (rebuildable from manifests) and the queries the API runs on it.

Every index zset scores a session by its start time, so any of them can be
paged newest first, since/until are score bounds on any of them, and a query
walks the smallest one and checks the others per candidate.
"""
from __future__ import annotations

import json
import uuid

from redis import Redis

from worker.events import normalise_url
from worker.filters import MAX_LIMIT, check_paging, parse_status, status_terms  # noqa: F401 (re-exported)
from worker.groups import index_groups
from worker.keys import RedisKeys
from worker.manifest import summary

# A union of URL zsets lives only while one query runs; the expiry covers a crash mid-query.
_TMP_TTL_S = 60


def index_manifest(redis: Redis, keys: RedisKeys, manifest: dict) -> dict:
    """Index one manifest; indexing the same manifest again changes nothing. Returns its summary."""
    s = summary(manifest)
    session = s["session"]
    score = s["started_ms"] or 0
    previous = get_summary(redis, keys, session)
    pipe = redis.pipeline(transaction=True)
    # The user is the only indexed fact that can change (a later identify wins).
    old_user = (previous or {}).get("user") or {}
    if old_user.get("id") and old_user["id"] != (s["user"] or {}).get("id"):
        pipe.zrem(keys.by_user(old_user["id"]), session)
    pipe.set(keys.session(session), json.dumps(s, sort_keys=True, separators=(",", ":")))
    pipe.zadd(keys.by_time(), {session: score})
    if s["project"]:
        pipe.zadd(keys.by_project(s["project"]), {session: score})
    if s["user"]:
        pipe.zadd(keys.by_user(s["user"]["id"]), {session: score})
    for term in status_terms(s["statuses"]):
        pipe.zadd(keys.by_status(term), {session: score})
    for url in manifest.get("failed_urls") or []:
        pipe.zadd(keys.by_failed_url(url), {session: score})
        pipe.sadd(keys.failed_urls(), url)
    if s["counts"].get("exceptions") or s["counts"].get("console_errors"):
        pipe.zadd(keys.with_errors(), {session: score})
    pipe.execute()
    index_groups(redis, keys, manifest)
    return s


def get_summary(redis: Redis, keys: RedisKeys, session: str) -> dict | None:
    """The indexed summary of one session, or None."""
    raw = redis.get(keys.session(session))
    return json.loads(raw) if raw else None


def drop_index(redis: Redis, keys: RedisKeys) -> int:
    """Delete every index key (not the buffers, accounts or queue); returns how many."""
    dropped = 0
    for pattern in keys.index_patterns():
        batch = []
        for key in redis.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 500:
                dropped += redis.unlink(*batch)
                batch = []
        if batch:
            dropped += redis.unlink(*batch)
    return dropped


def _url_sources(redis: Redis, keys: RedisKeys, url: str) -> list[str]:
    """by_failed_url zsets whose URL contains `url` (case-insensitive), the exact one first."""
    exact = normalise_url(url)
    found = [exact] if redis.exists(keys.by_failed_url(exact)) else []
    # Indexed URLs carry no query, so neither may the needle.
    needle = exact.lower()
    for raw in redis.sscan_iter(keys.failed_urls(), count=1000):
        candidate = raw.decode()
        if needle in candidate.lower() and candidate not in found:
            found.append(candidate)
    return [keys.by_failed_url(u) for u in found]


def query_sessions(redis: Redis, keys: RedisKeys, *, status: str | int | None = None, url: str | None = None,
                   user: str | None = None, project: str | None = None, since_ms: int | None = None,
                   until_ms: int | None = None, limit: int = 50) -> list[dict]:
    """Summaries of the sessions matching every given filter, newest first (by start time)."""
    limit = check_paging(limit, since_ms, until_ms)
    sources = []
    if status is not None and status != "":
        sources.append(keys.by_status(parse_status(status)))
    if user:
        sources.append(keys.by_user(user))
    if project:
        sources.append(keys.by_project(project))
    tmp = None
    try:
        if url:
            url_sources = _url_sources(redis, keys, url)
            if not url_sources:
                return []
            if len(url_sources) == 1:
                sources.append(url_sources[0])
            else:
                tmp = keys.query_tmp(uuid.uuid4().hex)
                pipe = redis.pipeline()
                pipe.zunionstore(tmp, url_sources, aggregate="MAX")
                pipe.expire(tmp, _TMP_TTL_S)
                pipe.execute()
                sources.append(tmp)
        return _walk(redis, keys, sources or [keys.by_time()], since_ms, until_ms, limit)
    finally:
        if tmp:
            redis.unlink(tmp)


def _walk(redis: Redis, keys: RedisKeys, sources: list[str], since_ms, until_ms, limit: int) -> list[dict]:
    """Page the smallest zset newest first, keeping candidates that are in all the others."""
    pipe = redis.pipeline()
    for key in sources:
        pipe.zcard(key)
    cards = pipe.execute()
    if min(cards) == 0:
        return []
    order = sorted(range(len(sources)), key=lambda i: cards[i])
    driver, others = sources[order[0]], [sources[i] for i in order[1:]]
    hi = until_ms if until_ms is not None else "+inf"
    lo = since_ms if since_ms is not None else "-inf"
    page = max(limit * 2, 100)
    found: list[dict] = []
    offset = 0
    while len(found) < limit:
        ids = redis.zrevrangebyscore(driver, hi, lo, start=offset, num=page)
        if not ids:
            break
        offset += len(ids)
        pipe = redis.pipeline()
        for sid in ids:
            for other in others:
                pipe.zscore(other, sid)
            pipe.get(keys.session(sid.decode()))
        replies = pipe.execute()
        step = len(others) + 1
        for i in range(len(ids)):
            *scores, raw = replies[i * step:(i + 1) * step]
            if raw and all(score is not None for score in scores):
                found.append(json.loads(raw))
                if len(found) == limit:
                    break
        if len(ids) < page:
            break
    return found
