"""The index of failed-call groups (method + host + route + status + sign, per project) and its queries.

Each session's tally (manifest "failure_groups") is added to the groups it
touches; what was added is kept per session, so indexing the session again
(a retried flush, a later flush of more calls, `replay reindex`) applies only
the difference, in one Lua script. Groups list newest first by their latest
failed call; no query reads per-session data beyond the page it returns.
"""
from __future__ import annotations

import hashlib
import json
import re
import time

from redis import Redis

from replay.core.evidence.cause_codes import parse_cause
from replay.index.filters import check_paging, parse_status, status_terms
from replay.core.keys import RedisKeys
from replay.storage.manifest import failure_groups
from replay.core.failure_signs import label as sign_label
from replay.core.route_folding import HOUR_MS, normalize_route

GROUP_ID = re.compile(r"^[0-9a-f]{16}$")
# Hourly buckets returned for the chart: the last CHART_HOURS unless a window is asked for, at most MAX_CHART_HOURS.
CHART_HOURS = 48
MAX_CHART_HOURS = 24 * 31
# Another indexing of the same session between our read and our write makes us read again.
_CAS_TRIES = 5
_FIELDS = ("method", "host", "route", "status", "sign", "count", "first_ms", "last_ms", "hours")
# Releases a group lists (the most sessions first).
MAX_GROUP_RELEASES = 5
# Upstream addresses a group lists (the most calls first); causes are few and all listed (replay/index/causes.py).
MAX_GROUP_UPSTREAMS = 8

# KEYS[1]: the session's last contribution; then per group: group, sessions, calls, users, hours, releases and
# `nlists` zsets listing the group. ARGV: the contribution we read ('' none), the new one ('' none),
# the session, and the plan [[group id, nlists], ...]. Returns 0, changing nothing, if KEYS[1] moved.
_APPLY = """
local raw = redis.call('GET', KEYS[1])
if (raw or '') ~= ARGV[1] then return 0 end
local old = ARGV[1] ~= '' and cjson.decode(ARGV[1]) or {groups = {}}
local new = ARGV[2] ~= '' and cjson.decode(ARGV[2]) or {groups = {}}
local session = ARGV[3]
local k = 2
for _, item in ipairs(cjson.decode(ARGV[4])) do
  local gid, nlists = item[1], item[2]
  local G, S, C, U, H, R = KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5]
  local lists = {}
  for i = 1, nlists do lists[i] = KEYS[k + 5 + i] end
  k = k + 6 + nlists
  local o, n = old.groups[gid], new.groups[gid]
  local total = tonumber(redis.call('HINCRBY', G, 'count', (n and n.count or 0) - (o and o.count or 0)))
  local hours = {}
  if o then for h in pairs(o.hours) do hours[h] = true end end
  if n then for h in pairs(n.hours) do hours[h] = true end end
  for h in pairs(hours) do
    local d = (n and n.hours[h] or 0) - (o and o.hours[h] or 0)
    if d ~= 0 and tonumber(redis.call('HINCRBY', H, h, d)) <= 0 then redis.call('HDEL', H, h) end
  end
  local ou, nu = o and old.user or false, n and new.user or false
  if ou ~= nu then
    if ou and tonumber(redis.call('HINCRBY', U, ou, -1)) <= 0 then redis.call('HDEL', U, ou) end
    if nu then redis.call('HINCRBY', U, nu, 1) end
  end
  local rel = {}
  if o then for _, r in ipairs(old.releases or {}) do rel[r] = (rel[r] or 0) - 1 end end
  if n then for _, r in ipairs(new.releases or {}) do rel[r] = (rel[r] or 0) + 1 end end
  for r, d in pairs(rel) do
    if d ~= 0 and tonumber(redis.call('HINCRBY', R, r, d)) <= 0 then redis.call('HDEL', R, r) end
  end
  if total <= 0 then
    redis.call('DEL', G, S, C, U, H, R)
    for _, L in ipairs(lists) do redis.call('ZREM', L, gid) end
  elseif n then
    redis.call('ZADD', S, n.last_ms, session)
    if n.call then redis.call('HSET', C, session, n.call) else redis.call('HDEL', C, session) end
    -- A session's calls only ever add up, so the group's first and last are a running min and max.
    local first, last = tonumber(redis.call('HGET', G, 'first_ms')), tonumber(redis.call('HGET', G, 'last_ms'))
    -- The release of the session with the group's first call: where the failure was first seen.
    local first_release = redis.call('HGET', G, 'first_release') or ''
    if not first or n.first_ms < first then first, first_release = n.first_ms, new.release or '' end
    if not last or n.last_ms > last then last = n.last_ms end
    redis.call('HSET', G, 'project', new.project or '', 'method', n.method, 'host', n.host, 'route', n.route,
               'status', n.status, 'sign', n.sign, 'first_ms', first, 'last_ms', last, 'first_release', first_release)
    for _, L in ipairs(lists) do redis.call('ZADD', L, last, gid) end
  else
    redis.call('ZREM', S, session)
    redis.call('HDEL', C, session)
  end
end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2]) end
return 1
"""


def group_id(project: str | None, method: str, host: str, route: str, status: int, sign: str = "") -> str:
    """16 hex chars naming a group; the same group in two projects is two groups."""
    name = "\n".join((project or "", method, host + route, str(status), *((sign,) if sign else ())))
    return hashlib.sha256(name.encode()).hexdigest()[:16]


def _contribution(manifest: dict) -> dict:
    """What this session adds to each group, by group id (no nulls: the script reads it with cjson)."""
    project = manifest.get("project")
    user = (manifest.get("user") or {}).get("id")
    groups = {}
    for g in failure_groups(manifest).values():
        gid = group_id(project, g["method"], g["host"], g["route"], g["status"], g.get("sign") or "")
        groups[gid] = {name: g.get(name) or "" if name == "sign" else g[name] for name in _FIELDS}
        if g.get("call"):
            groups[gid]["call"] = g["call"]
    out: dict = {"groups": groups}
    if project:
        out["project"] = project
    if user:
        out["user"] = user
    if manifest.get("releases"):
        out["releases"] = list(manifest["releases"])
    if manifest.get("release"):
        out["release"] = manifest["release"]
    return out


def _lists(keys: RedisKeys, project: str | None, status: int) -> list[str]:
    """The zsets a group is listed in."""
    by_project = [keys.groups_by_project(project)] if project else []
    return [keys.groups(), *by_project, *(keys.groups_by_status(t) for t in sorted(status_terms({status})))]


def index_groups(redis: Redis, keys: RedisKeys, manifest: dict) -> None:
    """Bring the groups up to date with this manifest; indexing it again changes nothing."""
    session = manifest["session"]
    new = _contribution(manifest)
    new_raw = json.dumps(new, sort_keys=True, separators=(",", ":")) if new["groups"] else ""
    apply = redis.register_script(_APPLY)
    for _ in range(_CAS_TRIES):
        old_raw = (redis.get(keys.session_groups(session)) or b"").decode()
        if old_raw == new_raw:
            return
        old = json.loads(old_raw) if old_raw else {"groups": {}}
        key_names, plan = [keys.session_groups(session)], []
        for gid in sorted(set(old["groups"]) | set(new["groups"])):
            side = new if gid in new["groups"] else old
            lists = _lists(keys, side.get("project"), side["groups"][gid]["status"])
            key_names += [keys.group(gid), keys.group_sessions(gid), keys.group_calls(gid), keys.group_users(gid),
                          keys.group_hours(gid), keys.group_releases(gid), *lists]
            plan.append([gid, len(lists)])
        if apply(keys=key_names, args=[old_raw, new_raw, session, json.dumps(plan)]):
            return
    raise RuntimeError(f"the failed-call groups of {session} kept changing while being indexed")


def _chart_hours(since_ms: int | None, until_ms: int | None, now_ms: int) -> list[int]:
    """Start of each hour the chart shows: the window asked for, else the last CHART_HOURS up to now."""
    end = until_ms if until_ms is not None else now_ms
    last = end - end % HOUR_MS
    first = last - (CHART_HOURS - 1) * HOUR_MS if since_ms is None else since_ms - since_ms % HOUR_MS
    first = max(first, last - (MAX_CHART_HOURS - 1) * HOUR_MS)
    return list(range(first, last + 1, HOUR_MS))


def _by_count(found: dict, most: int | None = None) -> dict:
    """{name: count} from a Redis hash, the most first (then by name)."""
    items = sorted(((k.decode(), int(v)) for k, v in found.items()), key=lambda kv: (-kv[1], kv[0]))
    return dict(items[:most])


def _describe(gid: str, fields: dict, sessions: int, users: int, hours: list[int], counts: list,
              releases: dict, causes: dict, upstreams: dict) -> dict:
    text = {k.decode(): v.decode() for k, v in fields.items()}
    sign = text.get("sign", "")
    seen_in = sorted(((k.decode(), int(v)) for k, v in releases.items()), key=lambda kv: (-kv[1], kv[0]))
    return {
        "id": gid, "project": text["project"] or None, "method": text["method"], "host": text["host"],
        "route": text["route"], "status": int(text["status"]), "count": int(text["count"]),
        "sign": sign, "sign_label": sign_label(int(text["status"]), sign),
        "releases": [{"release": r, "sessions": n} for r, n in seen_in[:MAX_GROUP_RELEASES]],
        "release_count": len(seen_in), "first_release": text.get("first_release") or None,
        "sessions": sessions, "users": users,
        "causes": _by_count(causes), "upstreams": _by_count(upstreams, MAX_GROUP_UPSTREAMS),
        "upstream_count": len(upstreams),
        "first_seen_ms": int(text["first_ms"]), "last_seen_ms": int(text["last_ms"]),
        "buckets": [[h, int(c or 0)] for h, c in zip(hours, counts)],
    }


def _details(redis: Redis, keys: RedisKeys, found: list[tuple[str, dict]], hours: list[int]) -> list[dict]:
    """Sessions and users affected and chart buckets of each (group id, hash) found."""
    pipe = redis.pipeline(transaction=False)
    for gid, _ in found:
        pipe.zcard(keys.group_sessions(gid))
        pipe.hlen(keys.group_users(gid))
        pipe.hgetall(keys.group_releases(gid))
        pipe.hgetall(keys.group_causes(gid))
        pipe.hgetall(keys.group_upstreams(gid))
        if hours:
            pipe.hmget(keys.group_hours(gid), [str(h) for h in hours])
    replies, step = pipe.execute(), 6 if hours else 5
    return [_describe(gid, fields, replies[step * i], replies[step * i + 1], hours,
                      replies[step * i + 5] if hours else [], replies[step * i + 2], replies[step * i + 3],
                      replies[step * i + 4])
            for i, (gid, fields) in enumerate(found)]


def _active_between(redis: Redis, keys: RedisKeys, gid: str, since_ms: int, until_ms: int) -> bool:
    """Has the group a call in this window? To the hour, for a window that neither its first nor last call is in."""
    lo, hi = since_ms - since_ms % HOUR_MS, until_ms
    if (hi - lo) // HOUR_MS < MAX_CHART_HOURS:
        counts = redis.hmget(keys.group_hours(gid), [str(h) for h in range(lo, hi + 1, HOUR_MS)])
        return any(counts)
    return any(lo <= int(h) <= hi for h in redis.hkeys(keys.group_hours(gid)))


def _in_window(redis: Redis, keys: RedisKeys, gid: str, fields: dict, since_ms, until_ms) -> bool:
    first, last = int(fields[b"first_ms"]), int(fields[b"last_ms"])
    lo = since_ms if since_ms is not None else first
    hi = until_ms if until_ms is not None else last
    if last < lo or first > hi:
        return False
    if lo <= first <= hi or lo <= last <= hi:
        return True
    return _active_between(redis, keys, gid, lo, hi)


def query_groups(redis: Redis, keys: RedisKeys, *, since_ms: int | None = None, until_ms: int | None = None,
                 status: str | int | None = None, url: str | None = None, project: str | None = None,
                 cause: str | None = None, limit: int = 50, now_ms: int | None = None) -> list[dict]:
    """Groups with a failed call matching every filter, the most recently failing first.

    url is a case-insensitive substring of host + route (a URL is folded first); since/until keep
    groups with a call in that window (to the hour when neither the group's first nor last call is in
    it); cause keeps groups with calls of that cause (DESIGN's codes, or 'unconfirmed'). count, sessions, users,
    causes and upstreams are totals; buckets are [hour start ms, calls] over the window, or
    the last CHART_HOURS up to now_ms (default: the clock).
    """
    limit = check_paging(limit, since_ms, until_ms)
    if since_ms is not None and until_ms is not None and since_ms > until_ms:
        return []
    sources = []
    if status is not None and status != "":
        sources.append(keys.groups_by_status(parse_status(status)))
    if project:
        sources.append(keys.groups_by_project(project))
    if cause:
        sources.append(keys.groups_by_cause(parse_cause(cause)))
    sources = sources or [keys.groups()]
    pipe = redis.pipeline(transaction=False)
    for key in sources:
        pipe.zcard(key)
    cards = pipe.execute()
    if min(cards) == 0:
        return []
    order = sorted(range(len(sources)), key=lambda i: cards[i])
    driver, others = sources[order[0]], [sources[i] for i in order[1:]]
    needle = (url or "").strip().lower()
    # A URL or path pasted from somewhere is folded as the routes were; a bare word is matched as it is.
    needle = normalize_route(needle) if "/" in needle else needle
    found: list[tuple[str, dict]] = []
    offset, page = 0, max(limit * 2, 100)
    # The driver is scored by each group's latest call, so since_ms bounds the walk.
    while len(found) < limit:
        ids = redis.zrevrangebyscore(driver, "+inf", since_ms if since_ms is not None else "-inf",
                                     start=offset, num=page)
        if not ids:
            break
        offset += len(ids)
        pipe = redis.pipeline(transaction=False)
        for raw in ids:
            pipe.hgetall(keys.group(raw.decode()))
            for other in others:
                pipe.zscore(other, raw)
        replies = pipe.execute()
        step = len(others) + 1
        for i, raw in enumerate(ids):
            fields, *scores = replies[i * step:(i + 1) * step]
            gid = raw.decode()
            if not fields or any(s is None for s in scores):
                continue
            if needle and needle not in (fields[b"host"] + fields[b"route"]).decode().lower():
                continue
            if (since_ms is not None or until_ms is not None) and not _in_window(
                    redis, keys, gid, fields, since_ms, until_ms):
                continue
            found.append((gid, fields))
            if len(found) == limit:
                break
        if len(ids) < page:
            break
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    return _details(redis, keys, found, _chart_hours(since_ms, until_ms, now))


def get_group(redis: Redis, keys: RedisKeys, gid: str, *, now_ms: int | None = None) -> dict | None:
    """One group as query_groups lists it (chart: the last CHART_HOURS), or None."""
    if not GROUP_ID.match(gid or ""):
        return None
    fields = redis.hgetall(keys.group(gid))
    if not fields:
        return None
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    return _details(redis, keys, [(gid, fields)], _chart_hours(None, None, now))[0]


def group_sessions(redis: Redis, keys: RedisKeys, gid: str, limit: int = 50) -> list[dict]:
    """[{session, ts, call}] newest first: ts and call id of the session's latest failed call in the group."""
    limit = check_paging(limit, None, None)
    if not GROUP_ID.match(gid or ""):
        return []
    found = redis.zrevrange(keys.group_sessions(gid), 0, limit - 1, withscores=True)
    if not found:
        return []
    calls = redis.hmget(keys.group_calls(gid), [s for s, _ in found])
    return [{"session": s.decode(), "ts": int(ts), "call": c.decode() if c else None}
            for (s, ts), c in zip(found, calls)]
