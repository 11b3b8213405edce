"""The Redis index of sessions (rebuildable from manifests) and the queries the list and the API run on it.

Every index zset scores a session by its start time, so any of them can be
paged newest first, since/until are score bounds on any of them, and a query
walks the smallest one and checks the others per candidate. Pages follow
Redis's own order (start time, then session id, both descending) and resume
strictly after a cursor naming the last session shown, so sessions that
started in the same millisecond are neither skipped nor repeated.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from redis import Redis

from replay.core.redis_conn import script_pipeline

from replay.core import frustration
from replay.core.events import normalise_url
from replay.core.evidence.cause_codes import parse_cause
from replay.core.search_terms import query_terms
from replay.index.filters import (check_paging, format_cursor, parse_cursor, parse_errors, parse_frustration,
                                  parse_status, status_terms)
from replay.index import sliced, stored_summary
from replay.index.groups import index_groups
from replay.core.keys import RedisKeys
from replay.storage.manifest import summary
from replay.core.route_folding import normalize_route
from replay.core.useragent import short_browser

# A union of URL zsets lives only while one query runs; the expiry covers a crash mid-query.
_TMP_TTL_S = 60
# Candidates read from the driving zset per round trip: the first round's size doubles up to this.
_MAX_BATCH = 5000
# A URL needle matching up to this many zsets is walked as a merge of them; past it, as one stored union.
_MAX_UNION_KEYS = 16
# Keys per ZUNIONSTORE call when a URL needle matches many URLs.
_UNION_CHUNK = 1000
_SCAN_COUNT = 1000
# A sliced zset (replay/index/sliced.py) holding at least 1/_DENSE of all sessions is checked, not walked.
_DENSE = 4

_ERROR_KEYS = {"console": RedisKeys.with_console_errors, "exception": RedisKeys.with_exceptions,
               "any": RedisKeys.with_errors}

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


_UNREAD = object()


def index_manifest(redis: Redis, keys: RedisKeys, manifest: dict, previous: dict | None = _UNREAD) -> dict:
    """Index one manifest; indexing the same manifest again changes nothing. Returns its summary.

    `previous`: the session's indexed summary (None: not indexed) when the caller read it already.
    """
    s = summary(manifest)
    session = s["session"]
    score = s["started_ms"] or 0
    if previous is _UNREAD:
        previous = get_summary(redis, keys, session)
    pipe = redis.pipeline(transaction=True)
    # The user is the only indexed fact that can change (a later identify wins).
    old_user = (previous or {}).get("user") or {}
    if old_user.get("id") and old_user["id"] != (s["user"] or {}).get("id"):
        pipe.zrem(keys.by_user(old_user["id"]), session)
    pipe.set(keys.session(session), stored_summary.encode(s))
    pipe.zadd(keys.by_time(), {session: score})
    # Sliced zsets (sliced.py): each one's size follows its ZADD; one past SPLIT_AT is split below.
    grown = []

    def add_sliced(name: str) -> None:
        pipe.zadd(name, {session: score})
        pipe.zcard(name)
        grown.append((len(pipe) - 1, name))

    if s["project"]:
        add_sliced(keys.by_project(s["project"]))
    if s["user"]:
        pipe.zadd(keys.by_user(s["user"]["id"]), {session: score})
    for term in status_terms(s["statuses"]):
        add_sliced(keys.by_status(term))
    for url in manifest.get("failed_urls") or []:
        route = normalize_route(url)
        pipe.zadd(keys.by_failed_url(url), {session: score})
        pipe.zadd(keys.by_failed_route(route), {session: score})
        pipe.sadd(keys.route_urls(route), url)
        pipe.sadd(keys.failed_routes(), route)
    # Releases and environments are free text (a '#' in one could name another's slice): whole zsets.
    for release in s["releases"]:
        pipe.zadd(keys.by_release(release), {session: score})
    old_environment = (previous or {}).get("environment")
    if old_environment and old_environment != s["environment"]:
        pipe.zrem(keys.by_environment(old_environment), session)
    if s["environment"]:
        pipe.zadd(keys.by_environment(s["environment"]), {session: score})
    for kind, count in s["frustration"].items():
        if count:
            add_sliced(keys.with_frustration(kind))
    # Terms only accumulate (a later flush adds, never removes), so a re-index only adds too.
    for term in manifest.get("search_terms") or []:
        add_sliced(keys.by_term(term))
    if s["counts"].get("console_errors"):
        add_sliced(keys.with_console_errors())
    if s["counts"].get("exceptions"):
        add_sliced(keys.with_exceptions())
    if s["counts"].get("exceptions") or s["counts"].get("console_errors"):
        add_sliced(keys.with_errors())
    replies = pipe.execute()
    full = [name for at, name in grown if replies[at] > sliced.SPLIT_AT]
    if full:
        sliced.split_full(redis, full)
    index_groups(redis, keys, manifest)
    return s


def get_summary(redis: Redis, keys: RedisKeys, session: str) -> dict | None:
    """The indexed summary of one session, or None."""
    raw = redis.get(keys.session(session))
    return _complete(stored_summary.decode(raw)) if raw else None


def _complete(s: dict) -> dict:
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


def _glob(needle: str) -> str:
    """A Redis MATCH pattern for 'contains needle', ASCII letters in either case."""
    out = []
    for ch in needle:
        if ch.isascii() and ch.isalpha():
            out.append(f"[{ch.lower()}{ch.upper()}]")
        else:
            out.append("\\" + ch if ch in "*?[]\\" else ch)
    return "*" + "".join(out) + "*"


def _scan_urls(redis: Redis, keys: RedisKeys, routes: list[str], needle: str) -> list[str]:
    """The failed URLs under these routes that contain needle; Redis filters (SSCAN MATCH), route by route."""
    pattern, found = _glob(needle), []
    pending = {route: 0 for route in routes}
    while pending:
        pipe = redis.pipeline(transaction=False)
        for route, cursor in pending.items():
            pipe.sscan(keys.route_urls(route), cursor, match=pattern, count=_SCAN_COUNT)
        replies = pipe.execute()
        for route, (cursor, members) in zip(list(pending), replies):
            found.extend(m.decode() for m in members)
            if cursor:
                pending[route] = cursor
            else:
                del pending[route]
    return sorted(set(found))


def _url_sources(redis: Redis, keys: RedisKeys, url: str) -> list[str]:
    """Zsets of sessions with a failed call whose URL or folded route contains `url` (case-insensitive).

    Routes are few (ids are folded) and matched here; URLs are searched only under the routes that
    did not match as a whole, so a needle such as '/api/orders' costs one zset, not one per order id.
    """
    # Indexed URLs carry no query, so neither may the needle; a path is also matched as a folded route.
    needle = normalise_url(url).lower()
    folded = normalize_route(needle).lower() if "/" in needle else needle
    routes = sorted(r.decode() for r in redis.smembers(keys.failed_routes()))
    matched = [r for r in routes if needle in r.lower() or folded in r.lower()]
    rest = [r for r in routes if not (needle in r.lower() or folded in r.lower())]
    urls = _scan_urls(redis, keys, rest, needle) if rest else []
    return [keys.by_failed_route(r) for r in matched] + [keys.by_failed_url(u) for u in urls]


def query_sessions(redis: Redis, keys: RedisKeys, **filters) -> list[dict]:
    """Summaries of the sessions matching every given filter, newest first (query_page without the cursor)."""
    return query_page(redis, keys, **filters).sessions


def query_page(redis: Redis, keys: RedisKeys, *, status: str | int | None = None, url: str | None = None,
               user: str | None = None, project: str | None = None, errors: str | None = None,
               since_ms: int | None = None, until_ms: int | None = None, limit: int = 50,
               cursor: str | None = None, release: str | None = None, frustration: str | None = None,
               q: str | None = None, cause: str | None = None, environment: str | None = None) -> Page:
    """One page of the sessions matching every given filter, newest first (by start time, then id).

    status: '502', '5xx' or 'error' (no response); url: a failed call's URL or folded route contains it;
    errors: 'console', 'exception' or 'any'; release: exactly a release the session ran; environment: exactly
    the environment it ran in (its last); frustration:
    'rage', 'dead' or 'retry'; q: words (URLs, user id and traits, console and error text) that must all
    be among the session's search terms; cause: a cause code of DESIGN (or 'unconfirmed') that one of the
    session's failed calls has (replay/index/causes.py); cursor: a previous page's next_cursor. ValueError for a filter
    of the wrong kind.
    """
    limit = check_paging(limit, since_ms, until_ms)
    after = parse_cursor(cursor) if cursor else None
    # Each filter is a union of zsets (most often one); a session must be in every filter. A name alone is a
    # sliced zset (replay/index/sliced.py): a union of it and its slices, whose records are read first.
    wanted: list = []
    if status is not None and status != "":
        wanted.append(keys.by_status(parse_status(status)))
    if errors:
        wanted.append(_ERROR_KEYS[parse_errors(errors)](keys))
    if user:
        wanted.append([keys.by_user(user)])
    if project:
        wanted.append(keys.by_project(project))
    if release:
        wanted.append([keys.by_release(release.strip())])
    if environment:
        wanted.append([keys.by_environment(environment.strip())])
    if frustration:
        wanted.append(keys.with_frustration(parse_frustration(frustration)))
    if cause:
        wanted.append([keys.sessions_by_cause(parse_cause(cause))])
    if q:
        # Each word: the walk drives by the rarest and checks the rest per candidate.
        wanted.extend(keys.by_term(term) for term in query_terms(q))
    names = [w for w in wanted if isinstance(w, str)]
    records = dict(zip(names, sliced.records(redis, names))) if names else {}
    filters = [_Sliced(w, records[w]) if isinstance(w, str) else w for w in wanted]
    if since_ms is not None and until_ms is not None and since_ms > until_ms:
        return Page([], None)
    tmp = None
    try:
        if url:
            url_sources = _url_sources(redis, keys, url)
            if not url_sources:
                return Page([], None)
            if len(url_sources) > _MAX_UNION_KEYS:
                # A needle found in many URLs (a bare digit, say): one union beats walking each.
                tmp = keys.query_tmp(uuid.uuid4().hex)
                pipe = redis.pipeline(transaction=True)
                for i in range(0, len(url_sources), _UNION_CHUNK):
                    chunk = url_sources[i:i + _UNION_CHUNK]
                    pipe.zunionstore(tmp, chunk + ([tmp] if i else []), aggregate="MAX")
                pipe.expire(tmp, _TMP_TTL_S)
                pipe.execute()
                url_sources = [tmp]
            filters.append(url_sources)
        return _walk(redis, keys, filters or [[keys.by_time()]], since_ms, until_ms, limit, after)
    finally:
        if tmp:
            redis.unlink(tmp)


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
        if len(read) == 1 and not isinstance(driver, _Sliced):
            replies = [script(keys=read, args=args)]
            break
        pipe = script_pipeline(redis)
        for key in read:
            script(keys=[key], args=args, client=pipe)
        if isinstance(driver, _Sliced):
            pipe.get(sliced.record_key(driver.name))
        replies = pipe.execute()
        if not isinstance(driver, _Sliced) or not driver.recount(replies.pop()):
            break
    merged = {(flat[i], int(float(flat[i + 1]))) for flat in replies for i in range(0, len(flat), 2)}
    items = sorted(merged, key=lambda item: (item[1], item[0]), reverse=True)
    more = [(int(float(flat[-1])), flat[-2]) for flat in replies if len(flat) >= 2 * per]
    if more:
        cut = max(more)
        items = [item for item in items if (item[1], item[0]) >= cut]
    exhausted = not more and len(items) <= size
    return [(member.decode(), score) for member, score in items[:size]], exhausted


class _Sliced(list):
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
    """The items whose session is in every union (in any of its zsets; in a _Sliced, in the zset or its slice).

    Plain unions first, in one pipeline of ZMSCORE; then each _Sliced, rarest first, on what is left (a check
    in a packed slice reads it through, so fewer candidates cost less).
    """
    plain = [union for union in unions if not isinstance(union, _Sliced)]
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
        if isinstance(union, _Sliced) and items:
            items = [item for item, hit in zip(items, _has(redis, union, [sid for sid, _ in items])) if hit]
    return items


def _has(redis: Redis, union: _Sliced, sessions: list[str]) -> list[bool]:
    """Whether each session is in a sliced zset: one script, again if a split changed the count meanwhile."""
    while True:
        pipe = script_pipeline(redis)
        sliced.ask_has(redis, pipe, union.name, union.count, sessions)
        hits = sliced.has(pipe.execute()[0])
        if hits is not None:
            return hits
        union.recount(redis.get(sliced.record_key(union.name)))


def _walk(redis: Redis, keys: RedisKeys, filters: list[list[str]], since_ms, until_ms, limit: int,
          after: tuple[int, str] | None) -> Page:
    """Page the smallest filter newest first from the cursor, keeping candidates that are in all the others.

    One match past the page is looked for, so next_cursor is None on the last page.
    """
    if len(filters) == 1 and len(filters[0]) == 1 and not isinstance(filters[0], _Sliced):
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
                found.append((score, _complete(stored_summary.decode(raw))))
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
    if isinstance(driver, _Sliced) and len(_readable(driver, empty)) > 1 and cards[order[0]] * _DENSE >= next(replies):
        # Merging the slices costs a read of each; a zset holding most sessions is walked as well by time.
        driver, others = [keys.by_time()], [filters[i] for i in order]
    return driver, others, empty
