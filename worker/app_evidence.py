"""The app's events waiting in Redis (replay/ingest/server_events.py) joined to a session's failed calls, in the
flush job's evidence pass (worker/evidence.py): events filed under the session join by session; events without
one (filed per route) join the calls left by host, method, URL and time ("time_url")."""
from __future__ import annotations

from replay.core.evidence.app import join_events, server_entry
from replay.core.proxy_logs.access_log import route_of
from replay.core.urls import parts as split_url
from worker.context import Context


def _routes(call: dict) -> list[str]:
    """The routes an unkeyed event of this call is filed by: with the call's host, and with none (a path-only URL)."""
    url = split_url(call.get("url") or "")
    if not url.hostname or not call.get("method"):
        return []
    return [route_of(call["method"], h, url.path or "/") for h in (url.hostname, None)]


def app_entries(ctx: Context, project: str, session: str, failures: list[dict], offsets: dict,
                records) -> dict[str, dict]:
    """{call id: server entry} for the failed calls the app's events join now; `records` reads a Redis list's JSON."""
    s, keys = ctx.settings, ctx.keys
    keyed = records(ctx.redis.lrange(keys.server_session(project, session), 0, -1))
    joined = {cid: server_entry(e, "session")
              for cid, e in join_events(failures, offsets, keyed, s.PROXY_JOIN_TOLERANCE_MS).items()}
    rest = [f for f in failures if f["id"] not in joined]
    routes = sorted({r for f in rest for r in _routes(f)})
    if routes:
        pipe = ctx.redis.pipeline(transaction=False)
        for route in routes:
            pipe.lrange(keys.server_route(project, route), 0, -1)
        unkeyed = [e for raw in pipe.execute() for e in records(raw)]
        # The route filed under names the host (or none, for an app that sent a path): the time and URL decide.
        for cid, e in join_events(rest, offsets, unkeyed, s.PROXY_JOIN_TOLERANCE_MS).items():
            joined[cid] = server_entry(e, "time_url")
    return joined
