"""The replay page's Delete button (a form behind a confirm step), and the banner every page shows on a full disk."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for

from replay.core.keys import ID_PATTERN
from replay.index import erase
from replay.ingest.flush import now_ms
from replay.ingest.routes import ingest_service
from replay.web.auth import check_csrf, login_required
from replay.web.errors import ApiError
from replay.web.security import page_headers
from replay.web.services import services

bp = Blueprint("deletion", __name__)


@bp.after_request
def security_headers(response):
    return page_headers(response)


@bp.post("/sessions/<session_id>/delete")
@login_required
def delete_session(session_id: str):
    """Delete one session for good (what DELETE /api/sessions/<id> does), then back to the list saying so."""
    svc = services()
    if not check_csrf(request.form.get("csrf")):
        raise ApiError(403, "csrf_failed", "use the replay page's Delete button: its CSRF token was missing or stale")
    if not ID_PATTERN.match(session_id) or erase.is_deleted(svc.redis, svc.keys, session_id) \
            or not erase.known(svc.redis, svc.keys, svc.store, session_id):
        raise ApiError(404, "not_found", "no such session (or it was deleted already)")
    erase.delete_sessions(svc.redis, svc.keys, svc.store, [session_id], now_ms(), svc.settings.ERASE_AGAIN_MS)
    flash(f"Session {session_id} was deleted for good: its recording, evidence, share links and list entries.")
    return redirect(url_for("pages.home"))


@bp.app_context_processor
def disk_banner() -> dict:
    """`disk_full`: the banner's text while new sessions are refused for want of disk (replay/core/disk.py)."""
    disk = ingest_service().disk
    return {"disk_full": disk.message() if disk.low() else None}
