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

from redis import Redis

from replay.core.events import normalise_url
from replay.core.evidence.cause_codes import parse_cause
from replay.core.search_terms import query_terms
from replay.index.filters import (check_paging, parse_cursor, parse_errors, parse_frustration,
                                  parse_status, status_terms)
from replay.index import sliced, stored_summary
from replay.index.groups import index_groups
from replay.index.walk import Page, Sliced, complete, walk
from replay.core.keys import RedisKeys
from replay.storage.manifest import summary
from replay.core.route_folding import normalize_route

# A union of URL zsets lives only while one query runs; the expiry covers a crash mid-query.
_TMP_TTL_S = 60
# A URL needle matching up to this many zsets is walked as a merge of them; past it, as one stored union.
_MAX_UNION_KEYS = 16
# Keys per ZUNIONSTORE call when a URL needle matches many URLs.
_UNION_CHUNK = 1000
_SCAN_COUNT = 1000

_ERROR_KEYS = {"console": RedisKeys.with_console_errors, "exception": RedisKeys.with_exceptions,
               "any": RedisKeys.with_errors}

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
    return complete(stored_summary.decode(raw)) if raw else None


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
    filters = [Sliced(w, records[w]) if isinstance(w, str) else w for w in wanted]
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
        return walk(redis, keys, filters or [[keys.by_time()]], since_ms, until_ms, limit, after)
    finally:
        if tmp:
            redis.unlink(tmp)
