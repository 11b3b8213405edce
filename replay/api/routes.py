"""The JSON API: sessions by failed status, URL, user, errors, project and time; one session; its recording."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from replay.api import responses
from replay.api.responses import load_manifest
from replay.api.urls import group_session_url, replay_url
from replay.core.keys import ID_PATTERN
from replay.index import erase, groups
from replay.index import sessions as index
from replay.web.auth import api_auth, check_csrf
from replay.web.errors import ApiError
from replay.ingest.flush import now_ms
from replay.web.params import epoch_ms, time_range, whole_number
from replay.web.services import services

bp = Blueprint("api", __name__, url_prefix="/api")

# Stored bookkeeping that is of no use to an API reader.
PRIVATE_FIELDS = ("windows", "segments", "segment_spans")


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
    limit, most = whole_number(raw), services().settings.MAX_LIST_LIMIT
    if limit is None or not 1 <= limit <= most:
        raise ApiError(400, "invalid_parameter", f"'limit' is a whole number from 1 to {most}")
    return limit


@bp.get("/sessions")
@api_auth
def list_sessions():
    """Sessions matching every filter, newest first; `next_cursor` (null on the last page) fetches the next page."""
    svc = services()
    args = request.args
    try:
        since_ms, until_ms = time_range(_time_param("since"), _time_param("until"))
        page = index.query_page(
            svc.redis, svc.keys, status=args.get("status") or None, url=args.get("url") or None,
            user=args.get("user") or None, project=args.get("project") or None, errors=args.get("errors") or None,
            since_ms=since_ms, until_ms=until_ms, limit=_limit(),
            cursor=args.get("cursor") or None, release=args.get("release") or None,
            frustration=args.get("frustration") or None, q=args.get("q") or None, cause=args.get("cause") or None,
            environment=args.get("environment") or None)
    except ValueError as exc:
        raise ApiError(400, "invalid_parameter", str(exc)) from None
    for item in page.sessions:
        item["replay_url"] = replay_url(item["session"])
    return jsonify({"sessions": page.sessions, "count": len(page.sessions), "next_cursor": page.next_cursor})


@bp.get("/sessions/<session_id>")
@api_auth
def get_session(session_id: str):
    manifest = load_manifest(session_id)
    body = {k: v for k, v in manifest.items() if k not in PRIVATE_FIELDS}
    body["replay_url"] = replay_url(session_id)
    started = manifest.get("started_ms") or 0
    for failure in body.get("network_failures", []):
        failure["replay_url"] = replay_url(session_id, max(0, (failure.get("ts") or started) - started))
    return jsonify(body)


@bp.delete("/sessions/<session_id>")
@api_auth
def delete_session(session_id: str):
    """Delete one session for good: recording, evidence, index entries, share links (docs: README, Deleting)."""
    svc = services()
    # A viewer's cookie alone is not enough: its page sends the CSRF token too (a bearer token needs none).
    if not request.headers.get("Authorization") and not check_csrf(request.headers.get("X-CSRF-Token")):
        raise ApiError(403, "csrf_failed", "send the page's CSRF token as X-CSRF-Token, or use a bearer token")
    if not ID_PATTERN.match(session_id) or erase.is_deleted(svc.redis, svc.keys, session_id) \
            or not erase.known(svc.redis, svc.keys, svc.store, session_id):
        raise ApiError(404, "not_found", "no such session (or it was deleted already)")
    erase.delete_sessions(svc.redis, svc.keys, svc.store, [session_id], now_ms(), svc.settings.ERASE_AGAIN_MS)
    return jsonify({"deleted": session_id})


@bp.get("/sessions/<session_id>/events")
@api_auth
def get_events(session_id: str):
    load_manifest(session_id)
    return responses.events_response(session_id)


@bp.get("/failures")
@api_auth
def list_failure_groups():
    """Failed calls grouped by method + folded route + status, most recently seen first."""
    svc = services()
    try:
        since_ms, until_ms = time_range(_time_param("since"), _time_param("until"))
        found = groups.query_groups(
            svc.redis, svc.keys, status=request.args.get("status") or None, url=request.args.get("url") or None,
            project=request.args.get("project") or None, cause=request.args.get("cause") or None,
            since_ms=since_ms, until_ms=until_ms, limit=_limit())
    except ValueError as exc:
        raise ApiError(400, "invalid_parameter", str(exc)) from None
    return jsonify({"groups": found, "count": len(found)})


@bp.get("/failures/<group_id>/sessions")
@api_auth
def failure_group_sessions(group_id: str):
    """The sessions behind one group, each with a link that opens at its first failed call of the group."""
    svc = services()
    group = groups.get_group(svc.redis, svc.keys, group_id)
    if group is None:
        raise ApiError(404, "not_found", "no such failure group")
    found = groups.group_sessions(svc.redis, svc.keys, group_id, limit=_limit())
    for item in found:
        item["replay_url"] = group_session_url(group_id, item["session"])
    return jsonify({"group": group, "sessions": found})


# The replay page's data: calls, console entries and tracked events for its panels, and the recording
# segment by segment so that a long session starts playing before it has all loaded.
# Share links serve the same through their token (replay/share_routes.py).

@bp.get("/sessions/<session_id>/calls")
@api_auth
def get_calls(session_id: str):
    return responses.calls_response(load_manifest(session_id))


@bp.get("/sessions/<session_id>/console")
@api_auth
def get_console(session_id: str):
    return responses.console_response(load_manifest(session_id))


@bp.get("/sessions/<session_id>/tracked")
@api_auth
def get_tracked(session_id: str):
    return responses.tracked_response(load_manifest(session_id))


@bp.get("/sessions/<session_id>/segments")
@api_auth
def get_segments(session_id: str):
    return responses.segments_response(load_manifest(session_id))


@bp.get("/sessions/<session_id>/segments/<segment_id>")
@api_auth
def get_segment(session_id: str, segment_id: str):
    return responses.segment_response(session_id, segment_id)


