"""Viewer pages: login, the recent sessions, and the replay page."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from replay.app import services
from replay.params import whole_number
from replay.session_view import session_view
from replay.auth import check_csrf, csrf_token, current_user, login_required
from worker import groups, index, recording
from worker.keys import ID_PATTERN

bp = Blueprint("pages", __name__)

# Recorded pages replay in a sandboxed iframe without scripts; the viewer itself
# runs only its own files. Images, styles and fonts of the recorded site may load.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline' *; "
       "img-src 'self' data: blob: *; font-src 'self' data: *; media-src 'self' data: blob: *; "
       "connect-src 'self'; frame-src 'self' blob:; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


@bp.after_request
def security_headers(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def _safe_next(target: str | None) -> str:
    """Only a path on this site: browsers drop tabs and newlines and read backslashes as slashes."""
    if target and target.isprintable() and target.startswith("/"):
        cleaned = target.replace("\\", "/")
        parts = urlsplit(cleaned)
        if not cleaned.startswith("//") and not parts.scheme and not parts.netloc:
            return cleaned
    return url_for("pages.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        email = request.form.get("email", "")
        if not check_csrf(request.form.get("csrf")):
            error = "The form expired; please try again."
        elif services().accounts.check_user(email, request.form.get("password", "")):
            session.clear()
            session.permanent = True
            session["user"] = email.strip().lower()
            return redirect(_safe_next(request.args.get("next")))
        else:
            error = "Wrong email or password."
    return render_template("login.html", error=error, csrf=csrf_token()), (401 if error else 200)


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("pages.login"))


@bp.get("/")
@login_required
def home():
    svc = services()
    status = request.args.get("status") or None
    try:
        sessions = index.query_sessions(svc.redis, svc.keys, status=status, limit=100)
    except ValueError as exc:
        sessions, status = [], None
        return render_template("home.html", sessions=sessions, status=status, error=str(exc),
                               user=current_user(), csrf=csrf_token()), 400
    return render_template("home.html", sessions=sessions, status=status, error=None,
                           user=current_user(), csrf=csrf_token())


@bp.get("/failures")
@login_required
def failures():
    svc = services()
    status = request.args.get("status") or None
    url = request.args.get("url") or None
    try:
        found = groups.query_groups(svc.redis, svc.keys, status=status, url=url, limit=200)
        error = None
    except ValueError as exc:
        found, error = [], str(exc)
    return render_template("failures.html", groups=found, status=status, url=url, error=error,
                           user=current_user(), csrf=csrf_token()), (400 if error else 200)


@bp.get("/failures/<group_id>")
@login_required
def failure_group(group_id: str):
    svc = services()
    group = groups.get_group(svc.redis, svc.keys, group_id)
    if group is None:
        abort(404, "No such group of failed calls.")
    sessions = groups.group_sessions(svc.redis, svc.keys, group_id, limit=200)
    summaries = {s: index.get_summary(svc.redis, svc.keys, s) or {} for s in (i["session"] for i in sessions)}
    return render_template("failure_group.html", group=group, sessions=sessions, summaries=summaries,
                           user=current_user(), csrf=csrf_token())


@bp.get("/sessions/<session_id>")
@login_required
def replay_page(session_id: str):
    if not ID_PATTERN.match(session_id):
        abort(404)
    manifest = recording.load_manifest(services().store, session_id)
    if manifest is None:
        abort(404, "No such session yet. A new session appears within seconds of its first events.")
    view = session_view(manifest, whole_number(request.args.get("t")), request.args.get("call"))
    return render_template("session.html", **view, user=current_user(), csrf=csrf_token())


@bp.app_template_filter("when")
def when(ms) -> str:
    """Epoch ms as a UTC time a person reads."""
    from datetime import datetime, timezone

    if not ms:
        return "—"
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


@bp.app_template_filter("duration")
def duration(ms) -> str:
    if ms is None:
        return "—"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


@bp.app_template_filter("bars")
def bars(buckets, width: int = 168, height: int = 28) -> list[dict]:
    """Hourly counts as SVG bar rectangles (x, y, w, h), scaled to the busiest hour."""
    counts = [c for _, c in buckets or []]
    if not counts:
        return []
    top = max(counts) or 1
    w = width / len(counts)
    return [{"x": round(i * w, 2), "w": max(round(w - 0.5, 2), 0.5), "h": round(c / top * height, 2),
             "y": round(height - c / top * height, 2), "count": c, "hour": h}
            for i, ((h, c)) in enumerate(zip((b[0] for b in buckets), counts)) if c]
