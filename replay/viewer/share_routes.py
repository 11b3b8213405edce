"""Share link routes: create and revoke (logged in, CSRF), and the read-only shared replay page."""
from __future__ import annotations

import functools

from flask import Blueprint, current_app, jsonify, render_template, request

from replay.api import responses
from replay.api.urls import base_url
from replay.web.security import allow_assets_from, page_headers
from replay.web.services import services
from replay.web.auth import check_csrf, current_user
from replay.web.params import whole_number
from replay.web.errors import ApiError
from replay.viewer.session_view import recorded_origins, session_view
from replay.viewer.share import ShareError, ShareLinks
from replay.storage import recording
from replay.core.keys import ID_PATTERN

bp = Blueprint("share", __name__)


@bp.record_once
def _bind(state) -> None:
    svc = state.app.extensions["replay"]
    state.app.extensions["replay.share"] = ShareLinks(
        svc.redis, svc.keys, state.app.config["SECRET_KEY"], keep_s=svc.settings.SHARE_KEEP_S)


def share_links() -> ShareLinks:
    return current_app.extensions["replay.share"]


@bp.after_request
def security_headers(response):
    # The viewer's strict CSP, and shared pages stay out of search engines.
    response = page_headers(response)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _viewer_with_csrf(view):
    """JSON routes for a logged-in viewer: 401 without a login, 403 without the CSRF token."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        user = current_user()
        if user is None:
            raise ApiError(401, "unauthorized", "log in to manage share links")
        if not check_csrf(request.headers.get("X-CSRF-Token") or request.form.get("csrf")):
            raise ApiError(403, "csrf_failed", "send the page's CSRF token as X-CSRF-Token or form field 'csrf'")
        return view(user, *args, **kwargs)

    return wrapper


def _body() -> dict:
    if not request.get_data():
        return {}
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_json", "the body is a JSON object like {\"t_ms\": 1200, \"ttl_s\": 86400}")
        return body
    return request.form.to_dict()


def _whole(body: dict, name: str) -> int | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if whole_number(value) is not None:
        value = whole_number(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ApiError(400, "invalid_parameter", f"'{name}' is a whole number, 0 or more")
    return value


def _existing_session(session_id: str) -> dict | None:
    if not ID_PATTERN.match(session_id):
        return None
    return recording.load_manifest(services().store, session_id)


@bp.post("/sessions/<session_id>/share")
@_viewer_with_csrf
def create(user: str, session_id: str):
    settings = services().settings
    body = _body()
    t_ms = _whole(body, "t_ms")
    ttl_s = _whole(body, "ttl_s")
    if ttl_s == 0:
        raise ApiError(400, "invalid_parameter", "'ttl_s' is at least 1 second")
    ttl_s = min(ttl_s or settings.SHARE_TTL_S, settings.SHARE_MAX_TTL_S)
    if _existing_session(session_id) is None:
        raise ApiError(404, "not_found", "no such session")
    link_id, token = share_links().create(session_id, user, t_ms=t_ms, ttl_s=ttl_s)
    link = share_links().get(link_id)
    return jsonify({"url": f"{base_url()}/share/{token}", "id": link_id,
                    "expires_ms": link.expires_ms, "t_ms": t_ms}), 201


@bp.get("/sessions/<session_id>/shares")
def list_links(session_id: str):
    """The share links of one session, for the replay page (login only; a GET needs no CSRF)."""
    if current_user() is None:
        raise ApiError(401, "unauthorized", "log in to see share links")
    if not ID_PATTERN.match(session_id):
        raise ApiError(404, "not_found", "no such session")
    links = share_links()
    now = links.now_ms()
    return jsonify({"links": [link.as_dict(now) for link in links.list_for_session(session_id)]})


@bp.post("/share/<link_id>/revoke")
@_viewer_with_csrf
def revoke(user: str, link_id: str):
    try:
        link = share_links().revoke(link_id, user)
    except ShareError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    return jsonify({"id": link.id, "revoked": True})


def _refused(status: int, message: str):
    return render_template("share_refused.html", message=message, shared=True), status


@bp.get("/share/<token>")
def shared_page(token: str):
    try:
        link = share_links().verify(token)
    except ShareError as exc:
        return _refused(exc.status, exc.message)
    manifest = _existing_session(link.session)
    if manifest is None:
        return _refused(404, "The recording behind this link is no longer available.")
    t = whole_number(request.args.get("t"))
    view = session_view(manifest, t if t is not None else link.t_ms, request.args.get("call"), share_token=token)
    allow_assets_from(recorded_origins(manifest))
    # shared=True: read-only page, no user header, no links elsewhere; its data comes through the token.
    return render_template("session.html", **view, shared=True)


def _shared_session(token: str) -> str:
    """The session id behind a live share link, or the link's refusal as a JSON error."""
    try:
        return share_links().verify(token).session
    except ShareError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None


def _shared_manifest(token: str) -> dict:
    """The manifest of the session behind a live share link, or the link's refusal as a JSON error."""
    manifest = _existing_session(_shared_session(token))
    if manifest is None:
        raise ApiError(404, "not_found", "the recording behind this link is no longer available")
    return manifest


@bp.get("/share/<token>/events")
def shared_events(token: str):
    return responses.events_response(_shared_manifest(token)["session"])


# The replay page's data through the token, as /api/sessions/<id>/... gives it to a login.
@bp.get("/share/<token>/calls")
def shared_calls(token: str):
    return responses.calls_response(_shared_manifest(token))


@bp.get("/share/<token>/console")
def shared_console(token: str):
    return responses.console_response(_shared_manifest(token))


@bp.get("/share/<token>/tracked")
def shared_tracked(token: str):
    return responses.tracked_response(_shared_manifest(token))


@bp.get("/share/<token>/segments")
def shared_segments(token: str):
    return responses.segments_response(_shared_manifest(token))


@bp.get("/share/<token>/segments/<segment_id>")
def shared_segment(token: str, segment_id: str):
    return responses.segment_response(_shared_session(token), segment_id)
