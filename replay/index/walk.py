"""Paging the index: one page of sessions in every given filter, newest first (replay/index/sessions.py builds
the filters). The smallest filter (or the time list) is read in batches by rank from a cursor; each candidate is
checked against the others; the summaries of the matches are read last."""
from __future__ import annotations

from dataclasses import dataclass

from redis import Redis

from replay.core import frustration
from replay.core.keys import RedisKeys
from replay.core.redis_conn import script_pipeline
from replay.core.useragent import short_browser
from replay.index import sliced, stored_summary
from replay.index.filters import format_cursor

# Candidates read from the driving zset per round trip: the first round's size doubles up to this.
_MAX_BATCH = 5000
# A sliced zset (replay/index/sliced.py) holding at least 1/_DENSE of all sessions is checked, not walked.
_DENSE = 4

# KEYS[1]: a zset scored by start time. ARGV: hi ('' none), lo ('' none), count, then optionally the
# cursor's score and member. Returns up to count [member, score, ...] in ZREVRANGE order (score, then
# member, descending) with lo <= score <= hi, strictly after the cursor. By rank: O(log N + count).
_AFTER = """
local function sorts_after(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = a:byte(i), b:byte(i)
    if x ~= y then return x > y end
  end
  return #a > #b
end
local key, count = KEYS[1], tonumber(ARGV[3])
local lo = ARGV[2] ~= '' and tonumber(ARGV[2]) or nil
local start = 0
if ARGV[1] ~= '' then start = redis.call('ZCOUNT', key, '(' .. ARGV[1], '+inf') end
if ARGV[4] then
  local s, m, at = ARGV[4], ARGV[5], nil
  local score = redis.call('ZSCORE', key, m)
  if score and tonumber(score) == tonumber(s) then
    at = redis.call('ZREVRANK', key, m) + 1
  else
    -- The cursor's session is not (or no longer) here at that score: count what sorts before it.
    at = redis.call('ZCOUNT', key, '(' .. s, '+inf')
    for _, member in ipairs(redis.call('ZRANGEBYSCORE', key, s, s)) do
      if sorts_after(member, m) then at = at + 1 end
    end
  end
  if at > start then start = at end
end
local items = redis.call('ZREVRANGE', key, start, start + count - 1, 'WITHSCORES')
local out = {}
for i = 1, #items, 2 do
  if lo and tonumber(items[i + 1]) < lo then break end
  out[#out + 1] = items[i]
  out[#out + 1] = items[i + 1]
end
return out
"""


@dataclass
class Page:
    """One page of summaries, newest first, and the cursor of the next page (None on the last)."""

    sessions: list[dict]
    next_cursor: str | None


def complete(s: dict) -> dict:
    """A summary indexed before a field existed gets what can be derived (`replay reindex` fills the rest)."""
    if "browser" not in s:
        s["browser"] = short_browser(s.get("user_agent"))
    if "has_5xx" not in s:
        s["has_5xx"] = any(500 <= st <= 599 for st in s.get("statuses") or [])
    s.setdefault("pages_visited", 1 if s.get("first_url") else 0)
    s.setdefault("page_urls", [s["first_url"]] if s.get("first_url") else [])
    for name in ("release", "environment", "failing_endpoint"):
        s.setdefault(name, None)
    s.setdefault("releases", [])
    s.setdefault("frustration", {kind: 0 for kind in frustration.KINDS})
    return s


def _batch(redis: Redis, driver: list[str], empty: set[str], bounds: list[str], size: int,
           position) -> tuple[list, bool]:
    """The next (member, score) of a union of zsets after position, in index order (up to `size`, at least
    one if any); and whether it ran out. Each zset is read by rank; a sliced one's count is read after."""
    script = redis.register_script(_AFTER)
    while True:
        read = _readable(driver, empty)
        # Each of many zsets holds about its share of the next `size`: read twice that (or 8), then keep
        # what is exact, down to the highest last item of a zset that had more.
        per = size if len(read) == 1 else min(size, max(8, 2 * size // len(read) + 1))
        args = [*bounds, per, *(position or ())]
        if len(read) == 1 and not isinstance(driver, Sliced):
            replies = [script(keys=read, args=args)]
            break
        pipe = script_pipeline(redis)
        for key in read:
            script(keys=[key], args=args, client=pipe)
        if isinstance(driver, Sliced):
            pipe.get(sliced.record_key(driver.name))
        replies = pipe.execute()
        if not isinstance(driver, Sliced) or not driver.recount(replies.pop()):
            break
    merged = {(flat[i], int(float(flat[i + 1]))) for flat in replies for i in range(0, len(flat), 2)}
    items = sorted(merged, key=lambda item: (item[1], item[0]), reverse=True)
    more = [(int(float(flat[-1])), flat[-2]) for flat in replies if len(flat) >= 2 * per]
    if more:
        cut = max(more)
        items = [item for item in items if (item[1], item[0]) >= cut]
    exhausted = not more and len(items) <= size
    return [(member.decode(), score) for member, score in items[:size]], exhausted


class Sliced(list):
    """A zset then its slices (sliced.all_keys): a session can be only in the zset or in its slice."""

    def __init__(self, name: str, record):
        self.name, self.record, self.count = name, record, sliced.as_count(record)
        super().__init__(sliced.all_keys(name, self.count))
        # Members moved since the query began: zsets empty then may not be now.
        self.moved = False

    def recount(self, record) -> bool:
        """Take the record read again; whether members moved meanwhile (then the union is read again)."""
        if record == self.record:
            return False
        self.record, self.count, self.moved = record, sliced.as_count(record), True
        self[:] = sliced.all_keys(self.name, self.count)
        return True


def _readable(union: list[str], empty: set[str]) -> list[str]:
    """The zsets of a union worth reading: not those empty at the start, unless members moved since."""
    return list(union) if getattr(union, "moved", False) else [key for key in union if key not in empty]


def _in_all(redis: Redis, unions: list[list[str]], empty: set[str], items: list[tuple[str, int]]) -> list:
    """The items whose session is in every union (in any of its zsets; in a Sliced, in the zset or its slice).

    Plain unions first, in one pipeline of ZMSCORE; then each Sliced, rarest first, on what is left (a check
    in a packed slice reads it through, so fewer candidates cost less).
    """
    plain = [union for union in unions if not isinstance(union, Sliced)]
    if plain:
        asks = []  # union number, one per ZMSCORE
        pipe = redis.pipeline(transaction=False)
        for u, union in enumerate(plain):
            for key in union:
                if key not in empty:
                    pipe.zmscore(key, [sid for sid, _ in items])
                    asks.append(u)
        found = [[False] * len(items) for _ in plain]
        for u, scores in zip(asks, pipe.execute()):
            for i, score in enumerate(scores):
                found[u][i] = found[u][i] or score is not None
        items = [item for i, item in enumerate(items) if all(f[i] for f in found)]
    for union in unions:
        if isinstance(union, Sliced) and items:
            items = [item for item, hit in zip(items, _has(redis, union, [sid for sid, _ in items])) if hit]
    return items


def _has(redis: Redis, union: Sliced, sessions: list[str]) -> list[bool]:
    """Whether each session is in a sliced zset: one script, again if a split changed the count meanwhile."""
    while True:
        pipe = script_pipeline(redis)
        sliced.ask_has(redis, pipe, union.name, union.count, sessions)
        hits = sliced.has(pipe.execute()[0])
        if hits is not None:
            return hits
        union.recount(redis.get(sliced.record_key(union.name)))


def walk(redis: Redis, keys: RedisKeys, filters: list[list[str]], since_ms, until_ms, limit: int,
          after: tuple[int, str] | None) -> Page:
    """Page the smallest filter newest first from the cursor, keeping candidates that are in all the others.

    One match past the page is looked for, so next_cursor is None on the last page.
    """
    if len(filters) == 1 and len(filters[0]) == 1 and not isinstance(filters[0], Sliced):
        # One zset (the plain list, newest first): nothing to choose between, so no round trip to count it.
        driver, others, empty = filters[0], [], set()
    else:
        plan = _plan(redis, keys, filters)
        if plan is None:
            return Page([], None)
        driver, others, empty = plan
    bounds = ["" if until_ms is None else str(until_ms), "" if since_ms is None else str(since_ms)]
    found: list[tuple[int, dict]] = []
    position = after
    size = min(max((limit + 1) * 2, 100), _MAX_BATCH)
    while len(found) <= limit:
        items, exhausted = _batch(redis, driver, empty, bounds, size, position)
        if not items:
            break
        matches = items
        if others:
            matches = _in_all(redis, others, empty, items)
        raws = redis.mget([keys.session(sid) for sid, _ in matches]) if matches else []
        for (sid, score), raw in zip(matches, raws):
            if raw:
                found.append((score, complete(stored_summary.decode(raw))))
                if len(found) > limit:
                    break
        position = (items[-1][1], items[-1][0])
        if exhausted:
            break
        size = min(size * 2, _MAX_BATCH)
    page = found[:limit]
    more = len(found) > limit
    return Page([s for _, s in page], format_cursor(page[-1][0], page[-1][1]["session"]) if more else None)


def _plan(redis: Redis, keys: RedisKeys, filters: list[list[str]]):
    """The union to page (the smallest filter, or the time list), the others to check, and the zsets found empty;
    None when a filter has no session."""
    pipe = redis.pipeline(transaction=False)
    for union in filters:
        for key in union:
            pipe.zcard(key)
    pipe.zcard(keys.by_time())
    cards, replies, empty = [], iter(pipe.execute()), set()
    for union in filters:
        card = 0
        for key in union:
            n = next(replies)
            card += n
            if not n:
                empty.add(key)
        cards.append(card)
    if min(cards) == 0:
        return None
    order = sorted(range(len(filters)), key=lambda i: cards[i])
    driver = filters[order[0]]
    others = [filters[i] for i in order[1:]]
    if isinstance(driver, Sliced) and len(_readable(driver, empty)) > 1 and cards[order[0]] * _DENSE >= next(replies):
        # Merging the slices costs a read of each; a zset holding most sessions is walked as well by time.
        driver, others = [keys.by_time()], [filters[i] for i in order]
    return driver, others, empty
