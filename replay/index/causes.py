"""The failed-call groups by confirmed cause and by upstream address, and the groups of one cause.

Per group: a hash cause -> calls (DESIGN's codes and "unconfirmed") and a hash upstream address -> calls; per
cause, a zset of the groups with such calls, scored by each group's latest call (as the group lists are), and
a zset of the sessions with such calls, scored by start time (as the session lists are: the list's cause= filter).
Built at flush time after the join (worker/cause_index.py) from the manifest and its evidence object. As in
groups.py, what a session added is kept per session, so indexing it again applies only the difference.
"""
from __future__ import annotations

import json

from redis import Redis

from replay.core.evidence.cause_codes import FILTER_VALUES, UNCONFIRMED, confirmed_cause, upstream_addrs
from replay.core.failure_signs import sign as call_sign
from replay.core.keys import RedisKeys
from replay.core.route_folding import route_parts
from replay.index.groups import group_id
from replay.storage.manifest import failure_groups

# Upstream addresses one session adds to one group (a group lists groups.MAX_GROUP_UPSTREAMS, the most calls first).
MAX_SESSION_UPSTREAMS = 16
_CAS_TRIES = 5

# KEYS[1]: the session's last contribution; KEYS[2..1+#FILTER_VALUES]: the groups-by-cause zsets, then as many
# sessions-by-cause zsets, both in FILTER_VALUES order; then per group: group hash, causes hash, upstreams hash.
# ARGV: the contribution read ('' none), the new one ('' none), the group ids in KEYS order, the cause names,
# the session id and its start time. 0 and no change if KEYS[1] moved.
_APPLY = """
local raw = redis.call('GET', KEYS[1])
if (raw or '') ~= ARGV[1] then return 0 end
local old = ARGV[1] ~= '' and cjson.decode(ARGV[1]) or {groups = {}}
local new = ARGV[2] ~= '' and cjson.decode(ARGV[2]) or {groups = {}}
local gids, names = cjson.decode(ARGV[3]), cjson.decode(ARGV[4])
local lists, sessions = {}, {}
for i, name in ipairs(names) do
  lists[name] = KEYS[1 + i]
  sessions[name] = KEYS[1 + #names + i]
end
local k = 2 + 2 * #names
local function apply(H, o, n)
  local seen = {}
  for f in pairs(o) do seen[f] = true end
  for f in pairs(n) do seen[f] = true end
  for f in pairs(seen) do
    local d = (n[f] or 0) - (o[f] or 0)
    if d ~= 0 and tonumber(redis.call('HINCRBY', H, f, d)) <= 0 then redis.call('HDEL', H, f) end
  end
end
for _, gid in ipairs(gids) do
  local G, C, U = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  k = k + 3
  local o, n = old.groups[gid] or {}, new.groups[gid] or {}
  apply(C, o.causes or {}, n.causes or {})
  apply(U, o.upstreams or {}, n.upstreams or {})
  -- Every cause list the group is in is scored by its latest call, which this session may have moved.
  local last = redis.call('HGET', G, 'last_ms')
  for name, L in pairs(lists) do
    local calls = tonumber(redis.call('HGET', C, name) or '0')
    if calls > 0 and last then redis.call('ZADD', L, last, gid) else redis.call('ZREM', L, gid) end
  end
end
-- The session is in the list of each cause one of its groups has calls of.
local has = {}
for _, g in pairs(new.groups) do
  for name, calls in pairs(g.causes or {}) do
    if calls > 0 then has[name] = true end
  end
end
for name, S in pairs(sessions) do
  if has[name] then redis.call('ZADD', S, ARGV[6], ARGV[5]) else redis.call('ZREM', S, ARGV[5]) end
end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2]) end
return 1
"""


def _contribution(manifest: dict, evidence: dict) -> dict:
    """{"groups": {group id: {"causes": {cause: calls}, "upstreams": {addr: calls}}}} of this session."""
    project = manifest.get("project")
    out: dict = {}
    for g in failure_groups(manifest).values():
        gid = group_id(project, g["method"], g["host"], g["route"], g["status"], g.get("sign") or "")
        out[gid] = {"count": g["count"], "causes": {}, "upstreams": {}}
    for call in manifest.get("network_failures") or []:
        host, route = route_parts(call.get("url") or "")
        gid = group_id(project, call.get("method") or "GET", host, route, int(call.get("status") or 0),
                       call_sign(call))
        entry = evidence.get(call.get("id")) if call.get("id") else None
        group = out.get(gid)
        if group is None or entry is None:
            continue
        cause = confirmed_cause(entry, call.get("status"))
        if cause is not None:
            group["causes"][cause] = group["causes"].get(cause, 0) + 1
        for addr in upstream_addrs(entry):
            if addr in group["upstreams"] or len(group["upstreams"]) < MAX_SESSION_UPSTREAMS:
                group["upstreams"][addr] = group["upstreams"].get(addr, 0) + 1
    for group in out.values():
        # The calls the manifest counts beyond those confirmed (listed or not) are unconfirmed.
        rest = group.pop("count") - sum(group["causes"].values())
        if rest > 0:
            group["causes"][UNCONFIRMED] = rest
    return {"groups": out}


def index_causes(redis: Redis, keys: RedisKeys, manifest: dict, evidence: dict) -> None:
    """Bring the groups' cause and upstream counts up to date with this session; indexing it again changes nothing."""
    session = manifest["session"]
    new = _contribution(manifest, evidence)
    new_raw = json.dumps(new, sort_keys=True, separators=(",", ":")) if new["groups"] else ""
    apply = redis.register_script(_APPLY)
    for _ in range(_CAS_TRIES):
        old_raw = (redis.get(keys.session_causes(session)) or b"").decode()
        if old_raw == new_raw:
            return
        old = json.loads(old_raw) if old_raw else {"groups": {}}
        gids = sorted(set(old["groups"]) | set(new["groups"]))
        names = [keys.session_causes(session), *(keys.groups_by_cause(c) for c in FILTER_VALUES),
                 *(keys.sessions_by_cause(c) for c in FILTER_VALUES)]
        for gid in gids:
            names += [keys.group(gid), keys.group_causes(gid), keys.group_upstreams(gid)]
        started = int(manifest.get("started_ms") or 0)
        if apply(keys=names, args=[old_raw, new_raw, json.dumps(gids), json.dumps(list(FILTER_VALUES)), session,
                                   started]):
            return
    raise RuntimeError(f"the cause counts of {session} kept changing while being indexed")

