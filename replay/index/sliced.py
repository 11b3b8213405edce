"""Big index zsets kept compact: a search term's or a project's sessions in one small zset, then in slices.

The zsets of a search term (`by_term`, the inverted index: 40% of the index's bytes before), of a
project (`by_project`: with one project, a copy of `by_time`), of a status, of errors and of frustration
are sliced (releases and environments are free text, where a '#' could name another's slice: not yet). A zset of more than 128 members
(Redis's default `zset-max-listpack-entries`, `zset-max-ziplist-entries` before 7.0) is stored as a
skiplist and a hash table, about 100 bytes a member with a 21-character session id; up to that size it is
one packed list, about 32 bytes a member. So such a zset takes every new session and, once past SPLIT_AT
members, its members move to slices by a hash h of the session id (name + "#0", "#1", ...), each a packed
list while it holds up to the configured entries (the embedded Redis sets 512).

The slices grow with the zset by linear hashing. Their count is in the zset's record (name + "#n",
"count version"; none: SLICES, as the index built before this kept). With `level` the largest SLICES * 2^k
not above the count, a session is in slice h % level, or h % (2 * level) when that is below count - level
(the slices split in this round). When a slice passes SLICE_MAX the next slice in turn, count - level, is
split: its members whose h % (2 * level) is not its number move to the new slice `count`, and the count
grows by one. Each split moves about half of one slice (a few hundred members: one Lua call stays short
whatever the zset's size; at most MAX_SPLITS a call); a slice waiting for its turn takes few members more
meanwhile, so it stays packed. A word in 100,000 sessions has about 400 slices of 150 to 400.

The sessions are the union of the zset and its slices, whatever happened in between (a flush adding to
the zset while another splits it leaves the session in one or the other, and a later split moves it).
Every script that moves members writes a new version in the record, in the same atomic call. A query reads
the record, then checks a session in the zset and then in its one slice and reads the record again in the
same pipeline: unchanged, no member moved in between; changed, it checks again with the new count. Paging
merges the zset and the slices, each read by rank, with the record read after the same way, or, when they
hold most sessions, pages `by_time` and checks (replay/index/walk.py). `by_time` itself is not
sliced: it pages the unfiltered list, the commonest query. An index built before keeps its whole zsets:
they are read as a zset with no slices yet, and split when the next session is added. The alert counts'
active sessions (replay/index/alert_counts.py) use the slices without the zset: a script adds each
session to its slice and splits as needed.

Why not by time (a bucket a day): sessions starting together (a burst, a busy hour) would still fill one
bucket past the packed size; a hash spreads them whatever their times. Why not a compact integer per
session instead of its id: it saves about 20 of the 32 bytes of a packed member but needs a map back to
ids (itself about as big) and touches every reader of the index. Why not drop the project zset when
there is one project: it must exist whole as soon as a second one does.
"""
from __future__ import annotations

from redis import Redis

# Slices a zset is split into at first (and the count of an index with no count kept, built before).
SLICES = 32
SPLIT_AT = 128
# A slice past this is split (the next in turn): below the packed size, 512, with room for the members a
# slice takes while it waits its turn.
SLICE_MAX = 400
# Splits one script does at most (each moves about half of one slice).
MAX_SPLITS = 4
# Members one script moves from a zset to its slices at most (an index built before has whole zsets).
MOVE_MAX = 2000
# The hash of a session id: the same in Python and in the split's Lua (exact in a double).
_MODULUS = 1000003
# Times a split is tried again when another one changed the count in between.
_TRIES = 8

# The scripts' common part. KEYS[1]: a zset's record, KEYS[2..]: its slices 0 to count + MAX_SPLITS - 1
# (slice n at KEYS[2 + n]). ARGV: the count the keys were named for, SLICES, SLICE_MAX, MAX_SPLITS, and the
# seconds the slices expire after their last write (0: never). A script returns -1 when the count is no
# longer ARGV[1] (the caller tries again with the new count).
_COMMON = """
local record = KEYS[1]
local first, max_slice, max_splits, horizon = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local raw = redis.call('GET', record)
local count, version = first, 0
if raw then count, version = tonumber(string.match(raw, '^%d+')), tonumber(string.match(raw, '%d+$')) end
if count ~= tonumber(ARGV[1]) then return -1 end
local moved = 0
local function hash(member)
  local h = 0
  for j = 1, #member do h = (h * 31 + member:byte(j)) % 1000003 end
  return h
end
local function level_of(n)
  local level = first
  while level * 2 <= n do level = level * 2 end
  return level
end
local function slice_of(member)
  local h, level = hash(member), level_of(count)
  local b = h % level
  if b < count - level then b = h % (2 * level) end
  return b
end
local function add(key, args)
  for i = 1, #args, 1000 do redis.call('ZADD', key, unpack(args, i, math.min(i + 999, #args))) end
end
-- While one of these slices holds more than max_slice, split the next slice in turn (at most max_splits).
local function split_over(touched)
  for _ = 1, max_splits do
    local over = false
    for n in pairs(touched) do
      if redis.call('ZCARD', KEYS[2 + n]) > max_slice then over = true break end
    end
    if not over then break end
    local level = level_of(count)
    local from, to = KEYS[2 + count - level], KEYS[2 + count]
    local items = redis.call('ZRANGE', from, 0, -1, 'WITHSCORES')
    local go, gone = {}, {}
    for i = 1, #items, 2 do
      if hash(items[i]) % (2 * level) == count then
        table.insert(go, items[i + 1])
        table.insert(go, items[i])
        table.insert(gone, items[i])
      end
    end
    add(to, go)
    for i = 1, #gone, 1000 do redis.call('ZREM', from, unpack(gone, i, math.min(i + 999, #gone))) end
    if horizon > 0 and #go > 0 then redis.call('EXPIRE', to, horizon) end
    moved = moved + #gone
    count = count + 1
  end
  if moved > 0 then redis.call('SET', record, count .. ' ' .. (version + 1)) end
  if horizon > 0 and redis.call('EXISTS', record) == 1 then redis.call('EXPIRE', record, horizon) end
end
"""

# The zset (KEYS[#KEYS]) past ARGV[6] members is moved to its slices (its first ARGV[7]: a whole zset of an
# index built before moves over several calls), then slices past SLICE_MAX are split. Returns the members moved.
_SPLIT = _COMMON + """
local base = KEYS[#KEYS]
local touched = {}
if redis.call('ZCARD', base) > tonumber(ARGV[6]) then
  local items = redis.call('ZRANGE', base, 0, tonumber(ARGV[7]) - 1, 'WITHSCORES')
  local by_slice = {}
  for i = 1, #items, 2 do
    local n = slice_of(items[i])
    by_slice[n] = by_slice[n] or {}
    table.insert(by_slice[n], items[i + 1])
    table.insert(by_slice[n], items[i])
  end
  for n, args in pairs(by_slice) do
    add(KEYS[2 + n], args)
    touched[n] = true
  end
  local gone = {}
  for i = 1, #items, 2 do table.insert(gone, items[i]) end
  for i = 1, #gone, 1000 do redis.call('ZREM', base, unpack(gone, i, math.min(i + 999, #gone))) end
  moved = #gone
end
split_over(touched)
return moved
"""

# A member (ARGV[6]) scored ARGV[7] added to its slice only if that raises its score (ZADD GT), the slice's
# members below ARGV[8] dropped, its expiry set; then slices past SLICE_MAX are split. Returns 0.
_ADD = _COMMON + """
local n = slice_of(ARGV[6])
local key = KEYS[2 + n]
redis.call('ZADD', key, 'GT', ARGV[7], ARGV[6])
redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. ARGV[8])
redis.call('EXPIRE', key, horizon)
split_over({[n] = true})
return 0
"""


# KEYS[1]: a zset's record, KEYS[2]: the zset, KEYS[3..]: some of its slices. ARGV: the count the slices
# were named for, SLICES, then pairs of a session and the position in KEYS of its slice. Returns 1 or 0 for
# each session (in the zset or in its slice), or -1 when the count is no longer ARGV[1].
_HAS = """
local raw = redis.call('GET', KEYS[1])
local count = raw and tonumber(string.match(raw, '^%d+')) or tonumber(ARGV[2])
if count ~= tonumber(ARGV[1]) then return -1 end
local out = {}
for i = 3, #ARGV, 2 do
  local found = redis.call('ZSCORE', KEYS[2], ARGV[i]) or redis.call('ZSCORE', KEYS[tonumber(ARGV[i + 1])], ARGV[i])
  out[#out + 1] = found and 1 or 0
end
return out
"""


def _hash(session: str) -> int:
    h = 0
    for byte in session.encode():
        h = (h * 31 + byte) % _MODULUS
    return h


def slice_of(session: str, count: int | None = None) -> int:
    """The slice a session's postings go to among `count` (SLICES if None; what the split's Lua computes)."""
    count = count or SLICES
    level = SLICES
    while level * 2 <= count:
        level *= 2
    h = _hash(session)
    n = h % level
    return h % (2 * level) if n < count - level else n


def slice_key(name: str, n: int) -> str:
    """Slice n of a zset ('#' is in no search term, project key or prefix)."""
    return f"{name}#{n}"


def record_key(name: str) -> str:
    """A zset's record: "count version", its count of slices and how many scripts moved members (none:
    SLICES, none moved)."""
    return f"{name}#n"


def as_count(record) -> int:
    """The count of slices in a record as read."""
    return int(record.split()[0]) if record else SLICES


def slice_count(redis: Redis, name: str) -> int:
    return as_count(redis.get(record_key(name)))


def all_keys(name: str, count: int | None = None) -> list[str]:
    """A zset, then its `count` (or SLICES) slices (slice n at n + 1)."""
    return [name] + [slice_key(name, n) for n in range(count or SLICES)]


def _run(redis: Redis, script: str, name: str, extra_keys: list[str], args: list, horizon_s: int = 0) -> int:
    """Run a slices script with the keys of the count there is now, again if a split changed it meanwhile."""
    run = redis.register_script(script)
    for _ in range(_TRIES):
        count = slice_count(redis, name)
        keys = [record_key(name)] + [slice_key(name, n) for n in range(count + MAX_SPLITS)] + extra_keys
        done = run(keys=keys, args=[count, SLICES, SLICE_MAX, MAX_SPLITS, horizon_s, *args])
        if done >= 0:
            return done
    raise RuntimeError(f"{name}: its slices kept changing")


def split_full(redis: Redis, names: list[str]) -> int:
    """Move those of these zsets that passed SPLIT_AT into their slices, and split slices that passed
    SLICE_MAX; returns the members moved."""
    return sum(_run(redis, _SPLIT, name, [name], [SPLIT_AT, MOVE_MAX]) for name in names)


def add_member(redis: Redis, name: str, member: str, score: int, oldest: int, horizon_s: int) -> None:
    """Add a member straight to its slice of a sliced zset with no zset of its own (raising its score only),
    drop that slice's members scored below `oldest`, and expire the slice and the record after horizon_s."""
    _run(redis, _ADD, name, [], [member, score, oldest], horizon_s)


def ask_has(redis: Redis, pipe, name: str, count: int, sessions: list[str]) -> None:
    """Queue on pipe (a script pipeline) the check of which sessions a zset with `count` slices holds: its
    reply, read by has(), says it for each, or that the count changed (one script: no split in between)."""
    keys, at = [record_key(name), name], {}
    args: list = [count, SLICES]
    for session in sessions:
        key = slice_key(name, slice_of(session, count))
        if key not in at:
            at[key] = len(keys) + 1
            keys.append(key)
        args += [session, at[key]]
    redis.register_script(_HAS)(keys=keys, args=args, client=pipe)


def has(reply) -> list[bool] | None:
    """ask_has's answer: for each session whether it is there; None when the count changed (ask again)."""
    return None if reply == -1 else [bool(found) for found in reply]


def records(redis: Redis, names: list[str]) -> list:
    """The records of these zsets, in one round trip."""
    pipe = redis.pipeline(transaction=False)
    for name in names:
        pipe.get(record_key(name))
    return pipe.execute()


def remove(redis: Redis, names: list[str], session: str) -> None:
    """Take a session out of these sliced zsets: from each zset and its slice, again if a split moved it."""
    now = records(redis, names)
    for _ in range(_TRIES):
        pipe = redis.pipeline(transaction=False)
        for name, record in zip(names, now):
            pipe.zrem(name, session)
            pipe.zrem(slice_key(name, slice_of(session, as_count(record))), session)
        for name in names:
            pipe.get(record_key(name))
        after = pipe.execute()[2 * len(names):]
        if after == now:
            return
        now = after


def count_between(redis: Redis, name: str, lo, hi) -> int:
    """Members of a sliced zset scored from lo to hi (each once: in the zset or its slice, not both)."""
    record = redis.get(record_key(name))
    for _ in range(_TRIES):
        pipe = redis.pipeline(transaction=False)
        for key in all_keys(name, as_count(record)):
            pipe.zcount(key, lo, hi)
        pipe.get(record_key(name))
        *counts, now = pipe.execute()
        if now == record:
            break
        record = now
    return int(sum(counts))


def members(redis: Redis, name: str) -> list[str]:
    """Every session of a sliced zset (each once)."""
    found: set[str] = set()
    record = redis.get(record_key(name))
    for _ in range(_TRIES):
        pipe = redis.pipeline(transaction=False)
        for key in all_keys(name, as_count(record)):
            pipe.zrange(key, 0, -1)
        pipe.get(record_key(name))
        *got, now = pipe.execute()
        found |= {m.decode() for members in got for m in members}
        if now == record:
            break
        record = now
    return sorted(found)
