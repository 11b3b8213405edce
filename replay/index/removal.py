"""Taking sessions out of the index (a project deleted with its recordings); the objects are the caller's."""
from __future__ import annotations

from redis import Redis

from replay.core.keys import RedisKeys
from replay.core.route_folding import normalize_route
from replay.index.filters import status_terms
from replay.index.causes import index_causes
from replay.index.groups import index_groups
from replay.index.sessions import get_summary


def unindex_session(redis: Redis, keys: RedisKeys, session: str, manifest: dict | None) -> None:
    """Remove one session from every list, search and failed-call group it is in (what indexing added)."""
    summary = get_summary(redis, keys, session) or {}
    project = summary.get("project") or (manifest or {}).get("project")
    # Indexing an empty manifest takes back what the session added to the failed-call groups.
    index_groups(redis, keys, {"session": session, "project": project})
    index_causes(redis, keys, {"session": session, "project": project}, {})
    pipe = redis.pipeline(transaction=True)
    lists = [keys.by_time(), keys.with_errors(), keys.with_console_errors(), keys.with_exceptions()]
    if project:
        lists.append(keys.by_project(project))
    if summary.get("environment"):
        lists.append(keys.by_environment(summary["environment"]))
    lists += [keys.by_release(r) for r in summary.get("releases") or []]
    user = (summary.get("user") or {}).get("id")
    if user:
        lists.append(keys.by_user(user))
    lists += [keys.by_status(term) for term in status_terms(summary.get("statuses") or [])]
    for url in (manifest or {}).get("failed_urls") or []:
        lists += [keys.by_failed_url(url), keys.by_failed_route(normalize_route(url))]
    for name in lists:
        pipe.zrem(name, session)
    pipe.delete(keys.session(session), keys.session_groups(session), keys.session_causes(session))
    pipe.execute()
