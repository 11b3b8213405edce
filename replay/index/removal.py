"""Taking sessions out of the index (a deletion, retention, a project deleted with its recordings)."""
from __future__ import annotations

from redis import Redis

from replay.core import frustration
from replay.core.keys import RedisKeys
from replay.core.route_folding import normalize_route
from replay.index.filters import status_terms
from replay.index.alert_counts import forget_session
from replay.index.causes import index_causes
from replay.index.groups import index_groups
from replay.index.sessions import get_summary
from replay.index import sliced

# Drop a failed URL from its route's set (and the route from the set of routes) once no session has it.
_FORGET_URL = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
if redis.call('EXISTS', KEYS[3]) == 0 then redis.call('SREM', KEYS[4], ARGV[2]) end
return 0
"""


def unindex_session(redis: Redis, keys: RedisKeys, session: str, manifest: dict | None) -> None:
    """Remove one session from every list, search and failed-call group it is in (what indexing added)."""
    summary = get_summary(redis, keys, session) or {}
    manifest = manifest or {}
    project = summary.get("project") or manifest.get("project")
    # Indexing an empty manifest takes back what the session added to the failed-call groups.
    index_groups(redis, keys, {"session": session, "project": project})
    index_causes(redis, keys, {"session": session, "project": project}, {})
    forget_session(redis, keys, {**manifest, "session": session, "project": project})
    pipe = redis.pipeline(transaction=True)
    lists = [keys.by_time()]
    # Sliced zsets (replay/index/sliced.py): the zset and the session's slice, whatever the splits did.
    sliced_names = [keys.with_errors(), keys.with_console_errors(), keys.with_exceptions()]
    sliced_names += [keys.with_frustration(kind) for kind in frustration.KINDS]
    sliced_names += [keys.by_project(project)] if project else []
    sliced_names += [keys.by_term(term) for term in manifest.get("search_terms") or []]
    environment = summary.get("environment") or manifest.get("environment")
    if environment:
        lists.append(keys.by_environment(environment))
    user = (summary.get("user") or {}).get("id") or (manifest.get("user") or {}).get("id")
    if user:
        lists.append(keys.by_user(user))
    sliced_names += [keys.by_status(term) for term in status_terms(summary.get("statuses") or [])]
    lists += [keys.by_release(release) for release in summary.get("releases") or manifest.get("releases") or []]
    failed_urls = manifest.get("failed_urls") or []
    for url in failed_urls:
        lists += [keys.by_failed_url(url), keys.by_failed_route(normalize_route(url))]
    for name in lists:
        pipe.zrem(name, session)
    pipe.delete(keys.session(session), keys.session_groups(session), keys.session_causes(session))
    pipe.execute()
    if sliced_names:
        sliced.remove(redis, sliced_names, session)
    forget = redis.register_script(_FORGET_URL)
    for url in failed_urls:
        route = normalize_route(url)
        forget(keys=[keys.by_failed_url(url), keys.route_urls(route), keys.by_failed_route(route),
                     keys.failed_routes()], args=[url, route])
