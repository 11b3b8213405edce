"""Recent failed calls per group and per confirmed cause, and sessions with a 5xx: what alert rules count.

Built at flush time (worker/cause_index.py), after the join: each failed call of the last ALERT_BASELINE_S is
a member "session call-id" of its group's zset, scored by its time on the server's clock (the browser's time
moved by its window's clock offset), so indexing a session again changes nothing, and a window's count is one
ZCOUNT. Members older than the baseline are trimmed as new ones come, and each key expires with it. The
project's active sessions (one member a session) are kept in the slices of replay/index/sliced.py, each
session always in its own (added there by a script that splits the slices as they fill, so each stays a
packed list, about 30 bytes a session, not 100, however many sessions are active); a count sums the slices
(and the whole zset an older version kept, until it expires).
"""
from __future__ import annotations

from collections import defaultdict

from redis import Redis

from replay.core.evidence.cause_codes import CAUSE_CODES, confirmed_cause
from replay.core.failure_signs import sign as call_sign
from replay.core.keys import RedisKeys
from replay.core.route_folding import route_parts
from replay.index import sliced
from replay.index.groups import group_id


def _server_time(call: dict, windows: dict, now_ms: int) -> int:
    offset = (windows.get(call.get("window")) or {}).get("clock_offset_ms") or 0
    return min(int(call.get("ts") or 0) + int(offset), now_ms)


def _members(manifest: dict, evidence: dict, now_ms: int, oldest: int):
    """Per group and per confirmed cause, the session's failed calls since `oldest` ({member: server time}), and
    the server time of its latest 5xx (or None)."""
    project, session, windows = manifest.get("project"), manifest["session"], manifest.get("windows") or {}
    by_group: dict[str, dict[str, int]] = defaultdict(dict)
    by_cause: dict[str, dict[str, int]] = defaultdict(dict)
    last_5xx = None
    for call in manifest.get("network_failures") or []:
        at = _server_time(call, windows, now_ms)
        if at < oldest or not call.get("id"):
            continue
        status = int(call.get("status") or 0)
        host, route = route_parts(call.get("url") or "")
        gid = group_id(project, call.get("method") or "GET", host, route, status, call_sign(call))
        member = f"{session} {call['id']}"
        by_group[gid][member] = at
        cause = confirmed_cause(evidence.get(call["id"]), status)
        if cause is not None:
            by_cause[cause][f"{member} {gid}"] = at
        if status >= 500:
            last_5xx = max(last_5xx or 0, at)
    return by_group, by_cause, last_5xx


def record_calls(redis: Redis, keys: RedisKeys, manifest: dict, evidence: dict, now_ms: int, horizon_s: int) -> None:
    """Add the session's recent failed calls to the alert counts (again: no change), and mark it active now.
    A session that ended before the baseline began (a reindex of old sessions) counts for nothing."""
    project = manifest.get("project")
    oldest = now_ms - horizon_s * 1000
    if not project or (manifest.get("ended_ms") or now_ms) < oldest:
        return
    session = manifest["session"]
    by_group, by_cause, last_5xx = _members(manifest, evidence, now_ms, oldest)
    pipe = redis.pipeline(transaction=False)
    sliced.add_member(redis, keys.alert_sessions(project), session, now_ms, oldest, horizon_s)
    touched = [(keys.alert_sessions_5xx(project), {session: last_5xx})] if last_5xx is not None else []
    touched += [(keys.alert_group_calls(gid), members) for gid, members in by_group.items()]
    touched += [(keys.alert_cause_calls(project, cause), members) for cause, members in by_cause.items()]
    if by_group:
        touched.append((keys.alert_groups(project), {gid: max(m.values()) for gid, m in by_group.items()}))
    for key, members in touched:
        pipe.zadd(key, members, gt=True)
        pipe.zremrangebyscore(key, "-inf", oldest - 1)
        pipe.expire(key, horizon_s)
    pipe.execute()


def forget_session(redis: Redis, keys: RedisKeys, manifest: dict) -> None:
    """Take a deleted session's calls out of the counts (a group left with none leaves the project's list)."""
    project = manifest.get("project")
    if not project:
        return
    # The evidence is gone by now: every cause list may hold the session's calls.
    by_group, _, _ = _members(manifest, {}, 1 << 62, 0)
    sliced.remove(redis, [keys.alert_sessions(project)], manifest["session"])
    pipe = redis.pipeline(transaction=False)
    pipe.zrem(keys.alert_sessions_5xx(project), manifest["session"])
    for gid, members in by_group.items():
        pipe.zrem(keys.alert_group_calls(gid), *members)
        for cause in CAUSE_CODES:
            pipe.zrem(keys.alert_cause_calls(project, cause), *(f"{m} {gid}" for m in members))
    pipe.execute()
    gids = list(by_group)
    if gids:
        pipe = redis.pipeline(transaction=False)
        for gid in gids:
            pipe.exists(keys.alert_group_calls(gid))
        empty = [gid for gid, left in zip(gids, pipe.execute()) if not left]
        if empty:
            redis.zrem(keys.alert_groups(project), *empty)


def count(redis: Redis, key: str, since_ms: int, until_ms: int) -> int:
    return int(redis.zcount(key, since_ms, until_ms))


def first_calls(redis: Redis, key: str, since_ms: int, limit: int) -> list[tuple[list[str], int]]:
    """The first calls since then, one per session: ([session, call id, (group id)], server time)."""
    out, seen = [], set()
    for raw, score in redis.zrangebyscore(key, since_ms, "+inf", start=0, num=limit * 20, withscores=True):
        parts = raw.decode().split(" ")
        if parts[0] not in seen:
            seen.add(parts[0])
            out.append((parts, int(score)))
            if len(out) == limit:
                break
    return out


def active_groups(redis: Redis, keys: RedisKeys, project: str, since_ms: int) -> list[str]:
    """The project's groups with a failed call since then."""
    return [raw.decode() for raw in redis.zrangebyscore(keys.alert_groups(project), since_ms, "+inf")]


def active_causes(redis: Redis, keys: RedisKeys, project: str, since_ms: int) -> list[str]:
    pipe = redis.pipeline(transaction=False)
    for cause in CAUSE_CODES:
        pipe.zcount(keys.alert_cause_calls(project, cause), since_ms, "+inf")
    return [cause for cause, n in zip(CAUSE_CODES, pipe.execute()) if n]


def session_share(redis: Redis, keys: RedisKeys, project: str, since_ms: int, until_ms: int) -> tuple[int, int]:
    """(sessions active since then, of which with a 5xx since then)."""
    total = sliced.count_between(redis, keys.alert_sessions(project), since_ms, until_ms)
    return total, int(redis.zcount(keys.alert_sessions_5xx(project), since_ms, until_ms))


def sessions_5xx(redis: Redis, keys: RedisKeys, project: str, since_ms: int, limit: int) -> list[tuple[str, int]]:
    found = redis.zrangebyscore(keys.alert_sessions_5xx(project), since_ms, "+inf", start=0, num=limit, withscores=True)
    return [(raw.decode(), int(score)) for raw, score in found]
