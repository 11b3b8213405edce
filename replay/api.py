"""The JSON API: sessions by failed status, URL, user, errors, project and time; one session; its recording."""
from __future__ import annotations

import json
import threading
import time
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, request, stream_with_context

from replay.app import services
from replay.auth import api_auth
from replay.errors import ApiError
from replay.params import epoch_ms, whole_number
from replay import session_data
from worker import groups, index, recording
from worker.keys import ID_PATTERN

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_LIMIT = 500
# Stored bookkeeping that is of no use to an API reader.
PRIVATE_FIELDS = ("windows", "segments", "segment_spans")


def base_url() -> str:
    return (services().settings.PUBLIC_URL or request.host_url).rstrip("/")


def replay_url(session_id: str, t_ms: int | None = None) -> str:
    suffix = f"?t={int(t_ms)}" if t_ms is not None else ""
    return f"{base_url()}/sessions/{session_id}{suffix}"


def _time_param(name: str) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    try:
        return epoch_ms(raw)
    except ValueError:
        raise ApiError(400, "invalid_parameter",
                       f"'{name}' is epoch milliseconds or an ISO 8601 time (UTC unless it says otherwise)") from None


def _limit() -> int:
    raw = request.args.get("limit", "50")
    limit = whole_number(raw)
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, "invalid_parameter", f"'limit' is a whole number from 1 to {MAX_LIMIT}")
    return limit


@bp.get("/sessions")
@api_auth
def list_sessions():
    """Sessions matching every filter, newest first; `next_cursor` (null on the last page) fetches the next page."""
    svc = services()
    args = request.args
    try:
        page = index.query_page(
            svc.redis, svc.keys, status=args.get("status") or None, url=args.get("url") or None,
            user=args.get("user") or None, project=args.get("project") or None, errors=args.get("errors") or None,
            since_ms=_time_param("since"), until_ms=_time_param("until"), limit=_limit(),
            cursor=args.get("cursor") or None)
    except ValueError as exc:
        raise ApiError(400, "invalid_parameter", str(exc)) from None
    for item in page.sessions:
        item["replay_url"] = replay_url(item["session"])
    return jsonify({"sessions": page.sessions, "count": len(page.sessions), "next_cursor": page.next_cursor})


def _manifest(session_id: str) -> dict:
    if not ID_PATTERN.match(session_id):
        raise ApiError(404, "not_found", "no such session")
    manifest = recording.load_manifest(services().store, session_id)
    if manifest is None:
        raise ApiError(404, "not_found", "no such session (a new one appears within seconds of its first events)")
    return manifest


@bp.get("/sessions/<session_id>")
@api_auth
def get_session(session_id: str):
    manifest = _manifest(session_id)
    body = {k: v for k, v in manifest.items() if k not in PRIVATE_FIELDS}
    body["replay_url"] = replay_url(session_id)
    started = manifest.get("started_ms") or 0
    for failure in body.get("network_failures", []):
        failure["replay_url"] = replay_url(session_id, max(0, (failure.get("ts") or started) - started))
    return jsonify(body)


@bp.get("/sessions/<session_id>/events")
@api_auth
def get_events(session_id: str):
    _manifest(session_id)
    return events_response(session_id)


def events_response(session_id: str) -> Response:
    """The recording as one JSON array, streamed segment by segment (also used by share links)."""
    store = services().store

    def generate():
        yield "["
        first = True
        for event in recording.iter_events(store, session_id):
            yield ("" if first else ",") + json.dumps(event, separators=(",", ":"))
            first = False
        yield "]"

    return Response(stream_with_context(generate()), mimetype="application/json")


@bp.get("/failures")
@api_auth
def list_failure_groups():
    """Failed calls grouped by method + folded route + status, most recently seen first."""
    svc = services()
    try:
        found = groups.query_groups(
            svc.redis, svc.keys, status=request.args.get("status") or None, url=request.args.get("url") or None,
            project=request.args.get("project") or None, since_ms=_time_param("since"),
            until_ms=_time_param("until"), limit=_limit())
    except ValueError as exc:
        raise ApiError(400, "invalid_parameter", str(exc)) from None
    return jsonify({"groups": found, "count": len(found)})


@bp.get("/failures/<group_id>/sessions")
@api_auth
def failure_group_sessions(group_id: str):
    """The sessions behind one group, each with a link that opens at its failing call."""
    svc = services()
    group = groups.get_group(svc.redis, svc.keys, group_id)
    if group is None:
        raise ApiError(404, "not_found", "no such failure group")
    found = groups.group_sessions(svc.redis, svc.keys, group_id, limit=_limit())
    for item in found:
        item["replay_url"] = call_url(item["session"], item.get("call"))
    return jsonify({"group": group, "sessions": found})


def call_url(session_id: str, call: str | None) -> str:
    """The replay page opened just before one failed call (or at the start when the call is unknown)."""
    if not call:
        return replay_url(session_id)
    return f"{base_url()}/sessions/{session_id}?{urlencode({'call': call})}"


# The replay page's data: calls and console entries for its panels, and the recording
# segment by segment so that a long session starts playing before it has all loaded.
# Share links serve the same through their token (replay/share_routes.py).

@bp.get("/sessions/<session_id>/calls")
@api_auth
def get_calls(session_id: str):
    return calls_response(_manifest(session_id))


@bp.get("/sessions/<session_id>/console")
@api_auth
def get_console(session_id: str):
    return console_response(_manifest(session_id))


@bp.get("/sessions/<session_id>/segments")
@api_auth
def get_segments(session_id: str):
    return segments_response(_manifest(session_id))


@bp.get("/sessions/<session_id>/segments/<segment_id>")
@api_auth
def get_segment(session_id: str, segment_id: str):
    return segment_response(session_id, segment_id)


def calls_response(manifest: dict) -> Response:
    found, truncated = session_data.calls(services().store, manifest, services().settings.MAX_BODY_CHARS)
    return jsonify({"session": manifest["session"], "calls": found, "count": len(found), "truncated": truncated})


def console_response(manifest: dict) -> Response:
    found, truncated = session_data.console(services().store, manifest)
    return jsonify({"session": manifest["session"], "entries": found, "count": len(found), "truncated": truncated})


def segments_response(manifest: dict) -> Response:
    """The segments in time order: what to fetch first to start playing."""
    listed = recording.list_segments(services().store, manifest)
    return jsonify({"session": manifest["session"], "started_ms": manifest.get("started_ms"),
                    "ended_ms": manifest.get("ended_ms"),
                    "segments": [{k: v for k, v in e.items() if k != "key"} for e in listed]})


# A long session's page asks for hundreds of segments; the listing each one is checked
# against comes from the manifest, which is read once per session here, not per segment.
SEGMENT_LISTING_TTL_S = 30.0
SEGMENT_LISTING_CACHE_SESSIONS = 256
_segment_listings: dict[tuple[int, str], tuple[float, list[dict]]] = {}
_segment_listings_lock = threading.Lock()


def _segment_listing(session_id: str, fresh: bool) -> list[dict]:
    store = services().store
    key, now = (id(store), session_id), time.monotonic()
    with _segment_listings_lock:
        hit = _segment_listings.get(key)
    if hit and not fresh and now - hit[0] < SEGMENT_LISTING_TTL_S:
        return hit[1]
    listing = recording.list_segments(store, _manifest(session_id), timed=False)
    with _segment_listings_lock:
        if len(_segment_listings) >= SEGMENT_LISTING_CACHE_SESSIONS:
            _segment_listings.clear()
        _segment_listings[key] = (now, listing)
    return listing


def segment_response(session_id: str, segment_id: str) -> Response:
    """One segment's events in time order (ids come from the listing: "window.first-last")."""
    if recording.SEGMENT_ID.match(segment_id):
        # A segment flushed after the listing was cached: look once more, in the manifest itself.
        for fresh in (False, True):
            for entry in _segment_listing(session_id, fresh):
                if entry["id"] == segment_id:
                    body = json.dumps(recording.segment_events(services().store, entry), separators=(",", ":"))
                    return Response(body, mimetype="application/json")
    raise ApiError(404, "not_found", "no such segment in this session")
