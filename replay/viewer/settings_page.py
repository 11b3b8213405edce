"""The settings page: projects (key, embed snippet, allowed and refused origins, retention, enabled) and API tokens.

Every change is a POST form with the page's CSRF token, answered by a redirect back
to the page (to the project's section) with a one-line notice of what changed.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for

from replay.core import sampling
from replay.core.accounts import AccountError
from replay.core.projects import normalize_origin
from replay.core.refusals import Refusals
from replay.ingest.routes import ingest_service
from replay.web.auth import check_csrf, csrf_token, current_user, login_required
from replay.web.errors import ApiError
from replay.web.security import page_headers
from replay.web.services import services

bp = Blueprint("settings", __name__)

# What the page says of each refusal reason.
REASONS = {"origin_not_allowed": "origin not allowed", "project_disabled": "project disabled"}


@bp.after_request
def security_headers(response):
    return page_headers(response)


def _refusals() -> Refusals:
    svc = services()
    return Refusals(svc.redis, svc.keys, svc.settings.REFUSED_ORIGINS_KEPT, svc.settings.REFUSED_ORIGINS_TTL_S)


@bp.get("/settings")
@login_required
def settings_page():
    svc = services()
    refusals = _refusals()
    projects = [{"project": p, "refused": refusals.of_project(p.key),
                 "sample_rate": sampling.parse(p.extra.get(sampling.FIELD)),
                 "heartbeats": sampling.heartbeats(svc.redis, svc.keys, p.key)} for p in svc.accounts.projects()]
    notice, error = session.pop("settings_notice", None), session.pop("settings_error", None)
    return render_template("settings.html", projects=projects, tokens=svc.accounts.tokens(), reasons=REASONS,
                           public_url=(svc.settings.PUBLIC_URL or request.host_url).rstrip("/"),
                           notice=notice, error=error, user=current_user(), csrf=csrf_token(),
                           default_retention=svc.settings.RETENTION_DAYS)


def _change(view):
    """A POST of the settings page: logged in, CSRF checked; an AccountError becomes the page's error line."""

    @login_required
    def wrapper(**kwargs):
        if not check_csrf(request.form.get("csrf")):
            raise ApiError(403, "csrf_failed", "use the settings page's buttons: its CSRF token was missing or stale")
        anchor = kwargs.get("key")
        try:
            session["settings_notice"] = view(**kwargs)
        except AccountError as exc:
            session["settings_error"] = str(exc)
        if anchor:
            # This process takes the change at once; others within their project cache time (5 s).
            ingest_service().forget_project(anchor)
        return redirect(url_for("settings.settings_page", _anchor=f"p-{anchor}" if anchor else "tokens"))

    wrapper.__name__ = view.__name__
    return wrapper


@bp.post("/settings/projects/<key>/origins")
@_change
def add_origin(key: str) -> str:
    project, changed = services().accounts.project_store.add_origin(key, request.form.get("origin", ""))
    origin = normalize_origin(request.form.get("origin", ""))
    _refusals().forget(project.key, origin)
    return f"{origin} {'may now send' if changed else 'could already send'} to {project.name}."


@bp.post("/settings/projects/<key>/origins/remove")
@_change
def remove_origin(key: str) -> str:
    project, changed = services().accounts.project_store.remove_origin(key, request.form.get("origin", ""))
    origin = normalize_origin(request.form.get("origin", ""))
    return f"{origin} {'no longer sends' if changed else 'was not allowed'} to {project.name}."


@bp.post("/settings/projects/<key>/enabled")
@_change
def set_enabled(key: str) -> str:
    enabled = request.form.get("enabled") == "1"
    project = services().accounts.project_store.set_enabled(key, enabled)
    return f"{project.name} is {'enabled: it records again' if project.enabled else 'disabled: its pages are refused'}."


@bp.post("/settings/projects/<key>/retention")
@_change
def set_retention(key: str) -> str:
    project = services().accounts.project_store.set_retention(key, request.form.get("days", ""))
    days = project.retention_days
    return f"{project.name} keeps its sessions {days} day{'s' if days != 1 else ''}; older ones are deleted within minutes."


@bp.post("/settings/tokens/revoke")
@_change
def revoke_token() -> str:
    token = services().accounts.revoke_token(request.form.get("id", ""))
    return f"API token {token.id} ({token.name}) revoked."
