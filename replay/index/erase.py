"""Deleting sessions for good: objects, index entries, share links and every per-session Redis key.

A deletion first leaves a tombstone (session -> when, in `keys.deleted()`), which the flush job and
`replay reindex` check: a session still sending, a late flush or a late proxy line cannot bring it
back, nor can a reindex of objects a failed deletion left. Then the session is taken out of the
index (which needs its manifest: search terms, failed URLs) and its objects are deleted. A flush
already running when the request came may still write; the deletion is run again ERASE_AGAIN_MS
later by the retention job (worker/retention.py) to take that too.
"""
from __future__ import annotations

import json
from typing import Iterable

from redis import Redis

from replay.core.keys import RedisKeys, session_prefix
from replay.index import sliced
from replay.index.removal import unindex_session
from replay.index.sessions import get_summary
from replay.storage.recording import load_manifest
from replay.storage.store import ObjectStore


def tombstone(redis: Redis, keys: RedisKeys, sessions: Iterable[str], now_ms: int, again_ms: int) -> None:
    """Mark the sessions deleted (flush and reindex skip them) and due for a second erasure."""
    sessions = list(sessions)
    if sessions:
        pipe = redis.pipeline(transaction=True)
        pipe.zadd(keys.deleted(), {s: now_ms for s in sessions})
        pipe.zadd(keys.erase_due(), {s: now_ms + again_ms for s in sessions})
        pipe.execute()


def is_deleted(redis: Redis, keys: RedisKeys, session: str) -> bool:
    return redis.zscore(keys.deleted(), session) is not None


def known(redis: Redis, keys: RedisKeys, store: ObjectStore, session: str) -> bool:
    """Is anything of the session indexed, stored or buffered?"""
    return bool(redis.exists(keys.session(session), keys.session_meta(session), keys.buffer(session))
                or any(True for _ in store.list(session_prefix(session))))


def drop_buffered(redis: Redis, keys: RedisKeys, session: str, windows: Iterable[str] = (),
                  project: str | None = None) -> None:
    """The session's buffer, ingest bookkeeping and join lists in Redis (not its flush lock: a flush owns that)."""
    names = [keys.buffer(session), keys.buffer_bytes(session), keys.acked(session), keys.session_meta(session),
             keys.flush_queued(session), keys.rate_session(session)]
    if project is None:
        held = redis.hget(keys.session_meta(session), "project")
        project = held.decode() if held else None
    for window in sorted(set(windows) | {w.decode() for w in redis.hkeys(keys.acked(session))}):
        names += [keys.seqs(session, window), keys.rate_window(session, window)]
    if project:
        names += [keys.proxy_session(project, session), keys.server_session(project, session)]
        _forget_connections(redis, keys, project, session)
    # On a cluster these keys lie in several slots: no transaction there, one DEL per slot's keys.
    pipe = redis.pipeline(transaction=not keys.cluster)
    if keys.cluster:
        for name in names:
            pipe.delete(name)
    else:
        pipe.delete(*names)
    pipe.zrem(keys.flush_due(), session)
    pipe.hdel(keys.flush_tries(), session)
    pipe.execute()


_DELETE_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1], KEYS[2]) end
return 0
"""


def _forget_connections(redis: Redis, keys: RedisKeys, project: str, session: str) -> None:
    """The nginx connections whose last failed line was this session's: the error lines waiting on them and their
    pointer to the session go (a browser's connection is its own; the lists expire within PROXY_LOG_TTL_S anyway)."""
    delete_if = redis.register_script(_DELETE_IF)
    connections = set()
    for raw in redis.lrange(keys.proxy_session(project, session), 0, -1):
        try:
            connection = json.loads(raw).get("connection")
        except (ValueError, AttributeError):
            continue
        if isinstance(connection, int):
            connections.add(connection)
    for connection in sorted(connections):
        delete_if(keys=[keys.proxy_connection_session(project, connection), keys.proxy_connection(project, connection)],
                  args=[session])


def forget_shares(redis: Redis, keys: RedisKeys, session: str) -> int:
    """Delete the session's share links (their tokens stop working: the record is gone); returns how many."""
    links = [link.decode() for link in redis.zrange(keys.shares_of_session(session), 0, -1)]
    creators = [redis.hget(keys.share(link), "created_by") for link in links]
    pipe = redis.pipeline(transaction=True)
    for link, creator in zip(links, creators):
        pipe.delete(keys.share(link))
        if creator:
            pipe.zrem(keys.shares_of_user(creator.decode()), link)
    pipe.delete(keys.shares_of_session(session))
    pipe.execute()
    return len(links)


def erase_session(redis: Redis, keys: RedisKeys, store: ObjectStore, session: str) -> int:
    """Everything of one session, in Redis and in object storage; returns how many objects went.

    Index first (it needs the manifest), objects last: should storage fail midway, the tombstone
    keeps reindex from listing what is left, and the next erasure finishes it.
    """
    manifest = load_manifest(store, session) or {}
    project = (get_summary(redis, keys, session) or {}).get("project") or manifest.get("project")
    unindex_session(redis, keys, session, manifest)
    forget_shares(redis, keys, session)
    drop_buffered(redis, keys, session, manifest.get("windows") or {}, project)
    gone = 0
    for name in list(store.list(session_prefix(session))):
        store.delete(name)
        gone += 1
    return gone


def delete_sessions(redis: Redis, keys: RedisKeys, store: ObjectStore, sessions: Iterable[str], now_ms: int,
                    again_ms: int) -> int:
    """Delete on request (or by retention): tombstones first, then each session erased; returns how many."""
    sessions = list(dict.fromkeys(sessions))
    tombstone(redis, keys, sessions, now_ms, again_ms)
    for session in sessions:
        erase_session(redis, keys, store, session)
    return len(sessions)


def erase_again(redis: Redis, keys: RedisKeys, store: ObjectStore, now_ms: int, again_ms: int,
                limit: int = 500) -> int:
    """Run the erasures that are due again; one whose flush is still running waits another round."""
    due = [s.decode() for s in redis.zrangebyscore(keys.erase_due(), "-inf", now_ms, start=0, num=limit)]
    for session in due:
        if redis.exists(keys.flush_lock(session)):
            redis.zadd(keys.erase_due(), {session: now_ms + again_ms})
            continue
        erase_session(redis, keys, store, session)
        redis.zrem(keys.erase_due(), session)
    return len(due)


def forget_tombstones(redis: Redis, keys: RedisKeys, before_ms: int) -> int:
    """Tombstones older than any buffer or late join can be dropped; returns how many."""
    return int(redis.zremrangebyscore(keys.deleted(), "-inf", f"({before_ms}"))


def sessions_of(redis: Redis, keys: RedisKeys, *, user: str | None = None, project: str | None = None) -> list[str]:
    """Every indexed session of a user id (the by-user index) or of a project (sliced)."""
    if user:
        return [s.decode() for s in redis.zrange(keys.by_user(user), 0, -1)]
    return sliced.members(redis, keys.by_project(project or ""))
