"""Viewer pages: login, the recent sessions, and the replay page."""
from __future__ import annotations

import time
from datetime import datetime, timezone

from flask import Blueprint, abort, redirect, render_template, request, url_for
from markupsafe import Markup

from replay.web.security import allow_assets_from, page_headers
from replay.web.services import services
from replay.web.params import epoch_ms, time_range, whole_number
from replay.viewer import call_detail
from replay.viewer.session_view import first_call_of_group, recorded_origins, session_view, user_id
from replay.web.auth import check_csrf, csrf_token, current_user, log_in, log_out, login_required
from replay.web.errors import ApiError
from replay.index import groups
from replay.index import sessions as index
from replay.storage import recording
from replay.core.evidence.cause_codes import FILTER_VALUES, UNCONFIRMED
from replay.core.keys import ID_PATTERN
from replay.core.urls import split

bp = Blueprint("pages", __name__)

# The sessions list's filters (query string names, as in GET /api/sessions), and its page size.
LIST_FILTERS = ("q", "status", "cause", "url", "user", "errors", "frustration", "release", "environment", "project", "since", "until")
LIST_PARAMS = (*LIST_FILTERS, "cursor")
LIST_PAGE_SIZE = 50
# The failed-calls page's filters (as in GET /api/failures), and how many groups it lists.
GROUP_FILTERS = ("status", "url", "cause", "project", "since", "until")
GROUPS_LISTED = 200

@bp.after_request
def security_headers(response):
    return page_headers(response)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: browsers drop tabs and newlines and read backslashes as slashes."""
    if target and target.isprintable() and target.startswith("/"):
        cleaned = target.replace("\\", "/")
        parts = split(cleaned)
        if parts and not cleaned.startswith("//") and not parts.scheme and not parts.netloc:
            return cleaned
    return url_for("pages.home")


# The base template's Log out form posts this page's CSRF token.
bp.add_app_template_global(csrf_token, "csrf_token")


def _retry_message(retry_after_s: int) -> str:
    at = datetime.fromtimestamp(time.time() + retry_after_s, tz=timezone.utc).strftime("%H:%M:%S UTC")
    if retry_after_s < 120:
        wait = "1 second" if retry_after_s == 1 else f"{retry_after_s} seconds"
    else:
        wait = f"{-(-retry_after_s // 60)} minutes"
    return f"Too many failed logins. Logins here are paused: try again in {wait} (after {at})."


@bp.route("/login", methods=["GET", "POST"])
def login():
    # Every refusal renders the same page for a known and an unknown email.
    error, status, headers = None, 200, {}
    if request.method == "POST":
        if not check_csrf(request.form.get("csrf")):
            error, status = "The form expired; please try again.", 401
        else:
            outcome = log_in(request.form.get("email", ""), request.form.get("password", ""))
            if outcome.user:
                return redirect(_safe_next(request.args.get("next")))
            if outcome.retry_after_s:
                error, status = _retry_message(outcome.retry_after_s), 429
                headers["Retry-After"] = str(outcome.retry_after_s)
            else:
                error, status = "Wrong email or password.", 401
    return render_template("login.html", error=error, csrf=csrf_token()), status, headers


@bp.post("/logout")
def logout():
    """POST only (a GET is 405); a live login needs the page's CSRF token, so no other site can log you out."""
    token = request.form.get("csrf") or request.headers.get("X-CSRF-Token")
    if current_user() is not None and not check_csrf(token):
        raise ApiError(403, "csrf_failed", "log out with the page's Log out button: its CSRF token was missing or stale")
    log_out()
    return redirect(url_for("pages.login"))


def _form_time(label: str, raw: str) -> int | None:
    if not raw:
        return None
    try:
        return epoch_ms(raw)
    except ValueError:
        raise ValueError(f"{label} is a date and time such as 2026-11-22T10:00 (UTC), or epoch milliseconds") from None


def _time_input(ms: int | None) -> str:
    """The value a datetime-local field shows for a time (UTC, as every time on these pages)."""
    if ms is None:
        return ""
    try:
        when = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return ""
    return when.strftime("%Y-%m-%dT%H:%M:%S" if when.second else "%Y-%m-%dT%H:%M")


def _without_empty_fields(endpoint: str, params: tuple[str, ...]):
    """A redirect to the same page without empty form fields (so the URL to bookmark says only what is
    filtered), or None when there are none."""
    args = request.args
    if any(k in params and not v.strip() for k, v in args.items(multi=True)):
        return redirect(url_for(endpoint, **{k: v.strip() for k, v in args.items() if k in params and v.strip()}))
    return None


def _project_choices() -> dict:
    projects = services().accounts.projects()
    return {"projects": projects, "project_names": {p.key: p.name for p in projects}}


@bp.get("/")
@login_required
def home():
    """The sessions list: filters in the URL (bookmarkable), newest first, pages by cursor."""
    svc = services()
    if (cleaned := _without_empty_fields("pages.home", LIST_PARAMS)) is not None:
        return cleaned
    filters = {name: request.args.get(name, "").strip() for name in LIST_FILTERS}
    cursor = request.args.get("cursor", "").strip()
    since_ms = until_ms = None
    try:
        since_ms, until_ms = time_range(_form_time("From", filters["since"]), _form_time("To", filters["until"]))
        page = index.query_page(
            svc.redis, svc.keys, status=filters["status"] or None, url=filters["url"] or None,
            user=filters["user"] or None, project=filters["project"] or None, errors=filters["errors"] or None,
            since_ms=since_ms, until_ms=until_ms, limit=LIST_PAGE_SIZE, cursor=cursor or None,
            release=filters["release"] or None, frustration=filters["frustration"] or None, q=filters["q"] or None,
            cause=filters["cause"] or None, environment=filters["environment"] or None)
        error = None
    except ValueError as exc:
        page, error = index.Page([], None), str(exc)
    active = {k: v for k, v in filters.items() if v}
    html = render_template(
        "home.html", sessions=page.sessions, filters=filters, active=active, cursor=cursor, error=error,
        cause_choices=FILTER_VALUES,
        since_value=_time_input(since_ms) or filters["since"], until_value=_time_input(until_ms) or filters["until"],
        **_project_choices(),
        older_url=url_for("pages.home", **active, cursor=page.next_cursor) if page.next_cursor else None,
        newest_url=url_for("pages.home", **active) if cursor else None,
        public_url=(svc.settings.PUBLIC_URL or request.host_url).rstrip("/"),
        user=current_user(), csrf=csrf_token())
    return html, (400 if error else 200)


def _cause_totals(found: list[dict], most_upstreams: int = 8) -> dict:
    """The calls of the groups listed by cause (confirmed ones first) and by upstream address, the most first."""
    causes: dict[str, int] = {}
    upstreams: dict[str, int] = {}
    for g in found:
        for c, n in g.get("causes", {}).items():
            causes[c] = causes.get(c, 0) + n
        for a, n in g.get("upstreams", {}).items():
            upstreams[a] = upstreams.get(a, 0) + n
    ups = sorted(upstreams.items(), key=lambda kv: (-kv[1], kv[0]))
    return {"causes": sorted(causes.items(), key=lambda kv: (kv[0] == UNCONFIRMED, -kv[1], kv[0])),
            "upstreams": ups[:most_upstreams], "more_upstreams": max(0, len(ups) - most_upstreams)}


@bp.get("/failures")
@login_required
def failures():
    """Failed calls grouped by method, route and status; filters in the URL, as the sessions list has them."""
    svc = services()
    if (cleaned := _without_empty_fields("pages.failures", GROUP_FILTERS)) is not None:
        return cleaned
    filters = {name: request.args.get(name, "").strip() for name in GROUP_FILTERS}
    since_ms = until_ms = None
    try:
        since_ms, until_ms = time_range(_form_time("From", filters["since"]), _form_time("To", filters["until"]))
        found = groups.query_groups(svc.redis, svc.keys, status=filters["status"] or None,
                                    url=filters["url"] or None, project=filters["project"] or None,
                                    cause=filters["cause"] or None, since_ms=since_ms, until_ms=until_ms, limit=GROUPS_LISTED)
        error = None
    except ValueError as exc:
        found, error = [], str(exc)
    active = {k: v for k, v in filters.items() if v}
    hours = len(found[0]["buckets"]) if found else 0
    return render_template(
        "failures.html", groups=found, filters=filters, active=active, error=error, chart_hours=hours,
        cause_choices=FILTER_VALUES, totals=_cause_totals(found),
        since_value=_time_input(since_ms) or filters["since"], until_value=_time_input(until_ms) or filters["until"],
        **_project_choices(), user=current_user(), csrf=csrf_token()), (400 if error else 200)


@bp.get("/failures/<group_id>")
@login_required
def failure_group(group_id: str):
    svc = services()
    group = groups.get_group(svc.redis, svc.keys, group_id)
    if group is None:
        abort(404, "No such group of failed calls: it may have been emptied since the link was made.")
    sessions = groups.group_sessions(svc.redis, svc.keys, group_id, limit=200)
    summaries = {s: index.get_summary(svc.redis, svc.keys, s) or {} for s in (i["session"] for i in sessions)}
    return render_template("failure_group.html", group=group, sessions=sessions, summaries=summaries,
                           **_project_choices(), user=current_user(), csrf=csrf_token())


@bp.get("/failures/<group_id>/sessions/<session_id>")
@login_required
def open_in_group(group_id: str, session_id: str):
    """The session's replay, opened at its first failed call of the group (the index keeps only its latest)."""
    svc = services()
    group = groups.get_group(svc.redis, svc.keys, group_id)
    manifest = recording.load_manifest(svc.store, session_id) if ID_PATTERN.match(session_id) else None
    if group is None or manifest is None:
        abort(404, "No such session in this group of failed calls.")
    call = first_call_of_group(manifest, group)
    return redirect(url_for("pages.replay_page", session_id=session_id, **({"call": call} if call else {})))


@bp.get("/sessions/<session_id>")
@login_required
def replay_page(session_id: str):
    if not ID_PATTERN.match(session_id):
        abort(404, "There is no session with this id: a session id is 8 to 64 letters, digits, '-' and '_'.")
    manifest = recording.load_manifest(services().store, session_id)
    if manifest is None:
        abort(404, "No such session yet. A new session appears within seconds of its first events.")
    view = session_view(manifest, whole_number(request.args.get("t")), request.args.get("call"))
    allow_assets_from(recorded_origins(manifest))
    return render_template("session.html", **view, user=current_user(), csrf=csrf_token())


@bp.errorhandler(404)
def not_found(exc):
    """A page that is not there is a page too (the API's 404s stay JSON)."""
    return render_template("not_found.html", message=exc.description, user=current_user()), 404


bp.app_template_filter("waterfall")(call_detail.waterfall)


@bp.app_template_filter("user_id")
def user_id_filter(user) -> str | None:
    """A session's user id as pages show it: None for no user, and for identify(null)'s "null"."""
    return user_id(user)


@bp.app_template_filter("breakable_path")
def breakable_path(path) -> Markup:
    """A path that a narrow column may wrap after each slash (escaped, with <wbr> after each "/")."""
    return Markup("/<wbr>").join(str(path or "").split("/"))


@bp.app_template_filter("url_path")
def url_path(url) -> str:
    """A page URL as a narrow column shows it: path and query (the host is in its title); the URL when it has no path."""
    found = split(url)
    if found is None or not found.netloc:
        return url or "—"
    return (found.path or "/") + (f"?{found.query}" if found.query else "")


@bp.app_template_filter("when")
def when(ms) -> str:
    """Epoch ms as a UTC time a person reads; "—" for none, and for a time no calendar holds."""
    if not ms or isinstance(ms, bool) or not isinstance(ms, (int, float)):
        return "—"
    try:
        return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return "—"


@bp.app_template_filter("when_ms")
def when_ms(ms) -> str:
    """As `when`, to the millisecond (a call's send and answer, to find in a proxy's log)."""
    text = when(ms)
    if text == "—":
        return text
    return text.replace(" UTC", f".{int(ms) % 1000:03d} UTC")


@bp.app_template_filter("duration")
def duration(ms) -> str:
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{int(ms)} ms"
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
