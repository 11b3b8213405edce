"""The join, run by the flush job: the proxy's lines (and the app's events: worker/app_evidence.py) waiting in Redis joined to the session's failed calls and
stored beside its manifest (replay/storage/evidence.py). Lines keyed by the session join by session; failed lines
without one (kept per route) join what is left by host, method, URI and time ("time_url")."""
from __future__ import annotations

import json

from replay.core.evidence.join import errors_of, join_access
from replay.core.evidence.proxy import proxy_entry
from replay.core.proxy_logs.access_log import route_of
from replay.core.urls import parts as split_url
from replay.storage.evidence import load_evidence, save_evidence
from worker.app_evidence import app_entries
from worker.context import Context


def _records(raw: list[bytes]) -> list[dict]:
    out = []
    for item in raw:
        try:
            record = json.loads(item)
        except ValueError:
            continue  # the intake wrote every one of these; a hand-written key is no reason to fail a flush
        if isinstance(record, dict):
            out.append(record)
    return out


def _unkeyed_route(call: dict) -> str | None:
    url = split_url(call.get("url") or "")
    if not url.hostname or not call.get("method"):
        return None
    return route_of(call["method"], url.hostname, url.path or "/")


def join_session(ctx: Context, manifest: dict, now_ms: int) -> int:
    """Join the lines waiting for this session's failed calls; store what changed. Returns the calls joined now."""
    session, project = manifest["session"], manifest.get("project")
    failures = [f for f in manifest.get("network_failures") or [] if f.get("id")]
    if not project or not failures:
        return 0
    s, keys = ctx.settings, ctx.keys
    offsets = {w: (v or {}).get("clock_offset_ms") for w, v in (manifest.get("windows") or {}).items()}
    keyed = [r for r in _records(ctx.redis.lrange(keys.proxy_session(project, session), 0, -1))
             if r.get("kind") == "access"]
    joined = {cid: (r, "session") for cid, r in join_access(failures, offsets, keyed, s.PROXY_JOIN_TOLERANCE_MS).items()}
    rest = [f for f in failures if f["id"] not in joined]
    routes = sorted({r for r in map(_unkeyed_route, rest) if r})
    if routes:
        pipe = ctx.redis.pipeline(transaction=False)
        for route in routes:
            pipe.lrange(keys.proxy_route(project, route), 0, -1)
        unkeyed = [r for raw in pipe.execute() for r in _records(raw) if r.get("kind") == "access"]
        for cid, r in join_access(rest, offsets, unkeyed, s.PROXY_JOIN_TOLERANCE_MS, by_host=True).items():
            joined[cid] = (r, "time_url")
    fresh = _proxy_entries(ctx, project, joined)
    server = app_entries(ctx, project, session, failures, offsets, _records)
    if not fresh and not server:
        return 0
    stored = load_evidence(ctx.store, session)
    # Lines and events expire from Redis; what was joined before stays unless a join now says otherwise.
    merged = dict(stored)
    for name, found in (("proxy", fresh), ("server", server)):
        for cid, entry in found.items():
            merged[cid] = {**merged.get(cid, {}), name: entry}
    if merged != stored:
        save_evidence(ctx.store, session, merged, now_ms)
    return len(set(fresh) | set(server))


def _proxy_entries(ctx: Context, project: str, joined: dict) -> dict:
    """{call id: proxy entry}: each joined access record with the error lines of its nginx connection."""
    s, keys = ctx.settings, ctx.keys
    if not joined:
        return {}
    connections = sorted({r["connection"] for r, _ in joined.values() if r.get("connection") is not None})
    pipe = ctx.redis.pipeline(transaction=False)
    for connection in connections:
        pipe.lrange(keys.proxy_connection(project, connection), 0, -1)
    errors = [e for raw in pipe.execute() for e in _records(raw) if e.get("kind") == "error"] if connections else []
    return {cid: proxy_entry(r, errors_of(r, errors), how, s.MAX_ERROR_LINES_PER_CALL)
            for cid, (r, how) in joined.items()}
