"""Big index zsets kept compact: a search term's or a project's sessions in one small zset, then in slices.

The zsets of a search term (`by_term`, the inverted index: 40% of the index's bytes before) and of a
project (`by_project`: with one project, a copy of `by_time`) are sliced. A zset of more than 128 members
(Redis's default `zset-max-listpack-entries`, `zset-max-ziplist-entries` before 7.0) is stored as a
skiplist and a hash table, about 100 bytes a member with a 21-character session id; up to that size it is
one packed list, about 32 bytes a member. So such a zset takes every new session and, once past SPLIT_AT
members, its members move to SLICES slices by a hash of the session id (its name + "#n"), each a packed
list while it holds up to the configured entries (the embedded Redis sets 512: up to about 16,000
sessions a term or project stay packed; past that a slice is a skiplist, as the whole zset was before).

The sessions are the union of the zset and its slices, whatever happened in between (a flush adding to
the zset while another splits it leaves the session in one or the other, and a later split moves it). A
query checks a session in the zset and in its one slice; paging by them merges the zsets, each read by
rank, or, when they hold most sessions, pages `by_time` and checks (replay/index/sessions.py). `by_time`
itself is not sliced: it pages the unfiltered list, the commonest query. An index built before keeps its
whole zsets: they are read as a zset with no slices yet, and split when the next session is added.

Why not by time (a bucket a day): sessions starting together (a burst, a busy hour) would still fill one
bucket past the packed size; a hash spreads them whatever their times. Why not a compact integer per
session instead of its id: it saves about 20 of the 32 bytes of a packed member but needs a map back to
ids (itself about as big) and touches every reader of the index. Why not drop the project zset when
there is one project: it must exist whole as soon as a second one does.
"""
from __future__ import annotations

from redis import Redis

SLICES = 32
SPLIT_AT = 128
# The hash of a session id: the same in Python and in the split's Lua (exact in a double).
_MODULUS = 1000003

# KEYS[1]: a zset, KEYS[2..]: its slices. ARGV[1]: the size past which it is split.
_SPLIT = """
local base = KEYS[1]
if redis.call('ZCARD', base) <= tonumber(ARGV[1]) then return 0 end
local slices = #KEYS - 1
local items = redis.call('ZRANGE', base, 0, -1, 'WITHSCORES')
local moved = {}
for i = 1, #items, 2 do
  local member, h = items[i], 0
  for j = 1, #member do h = (h * 31 + member:byte(j)) % 1000003 end
  local key = KEYS[2 + h % slices]
  moved[key] = moved[key] or {}
  table.insert(moved[key], items[i + 1])
  table.insert(moved[key], member)
end
for key, args in pairs(moved) do
  for i = 1, #args, 1000 do
    redis.call('ZADD', key, unpack(args, i, math.min(i + 999, #args)))
  end
end
redis.call('DEL', base)
return #items / 2
"""


def slice_of(session: str) -> int:
    """The slice a session's postings go to (what the split's Lua computes)."""
    h = 0
    for byte in session.encode():
        h = (h * 31 + byte) % _MODULUS
    return h % SLICES


def slice_key(name: str, n: int) -> str:
    """Slice n of a zset ('#' is in no search term, project key or prefix)."""
    return f"{name}#{n}"


def all_keys(name: str) -> list[str]:
    """A zset, then its slices (slice n at n + 1)."""
    return [name] + [slice_key(name, n) for n in range(SLICES)]


def split_full(redis: Redis, names: list[str]) -> int:
    """Split those of these zsets that passed SPLIT_AT into their slices; returns the members moved."""
    split = redis.register_script(_SPLIT)
    return sum(split(keys=all_keys(name), args=[SPLIT_AT]) for name in names)


def session_keys(name: str, session: str) -> list[str]:
    """The keys that may hold one session of a sliced zset (what removing it removes it from)."""
    return [name, slice_key(name, slice_of(session))]


def members(redis: Redis, name: str) -> list[str]:
    """Every session of a sliced zset (each once)."""
    pipe = redis.pipeline(transaction=False)
    for key in all_keys(name):
        pipe.zrange(key, 0, -1)
    return sorted({m.decode() for found in pipe.execute() for m in found})
