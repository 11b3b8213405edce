"""The alerts page: each project's alert rules (create, edit, mute, test-send, delete) and its alert history.

Changes are POST forms with the page's CSRF token, answered by a redirect back to the project's section with a
one-line notice, as on the settings page. A test-send queues a sample alert; a worker delivers it.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for

from replay.core import alert_messages, alert_outbox
from replay.core.alert_rules import AlertRules, RuleError
from replay.web.auth import check_csrf, csrf_token, current_user, login_required
from replay.web.errors import ApiError
from replay.web.security import page_headers
from replay.web.services import services

bp = Blueprint("alerts", __name__)

HISTORY_SHOWN = 50


@bp.after_request
def security_headers(response):
    return page_headers(response)


def _rules() -> AlertRules:
    svc = services()
    return AlertRules(svc.redis, svc.keys)


@bp.get("/alerts")
@login_required
def alerts_page():
    svc = services()
    projects = [{"project": p, "rules": _rules().of_project(p.key),
                 "history": alert_outbox.history(svc.redis, svc.keys, p.key, HISTORY_SHOWN)}
                for p in svc.accounts.projects()]
    notice, error = session.pop("alerts_notice", None), session.pop("alerts_error", None)
    return render_template("alerts.html", projects=projects, settings=svc.settings, notice=notice, error=error,
                           user=current_user(), csrf=csrf_token())


def _change(view):
    """A POST of the alerts page: logged in, CSRF checked, the project known; a RuleError becomes the error line."""

    @login_required
    def wrapper(key: str, **kwargs):
        if not check_csrf(request.form.get("csrf")):
            raise ApiError(403, "csrf_failed", "use the alerts page's buttons: its CSRF token was missing or stale")
        project = services().accounts.project(key)
        if project is None:
            raise ApiError(404, "not_found", "no such project")
        try:
            session["alerts_notice"] = view(project, **kwargs)
        except RuleError as exc:
            session["alerts_error"] = str(exc)
        return redirect(url_for("alerts.alerts_page", _anchor=f"p-{key}"))

    wrapper.__name__ = view.__name__
    return wrapper


@bp.post("/alerts/<key>/rules")
@_change
def create_rule(project) -> str:
    rule = _rules().create(project.key, request.form)
    return f"Rule “{rule['name']}” added to {project.name}."


@bp.post("/alerts/<key>/rules/<rule_id>")
@_change
def update_rule(project, rule_id: str) -> str:
    rule = _rules().update(project.key, rule_id, request.form)
    return f"Rule “{rule['name']}” saved."


@bp.post("/alerts/<key>/rules/<rule_id>/mute")
@_change
def mute_rule(project, rule_id: str) -> str:
    rule = _rules().set_muted(project.key, rule_id, request.form.get("muted") == "1")
    return f"Rule “{rule['name']}” is {'muted' if rule['muted'] else 'on again'}."


@bp.post("/alerts/<key>/rules/<rule_id>/delete")
@_change
def delete_rule(project, rule_id: str) -> str:
    rule = _rules().delete(project.key, rule_id)
    return f"Rule “{rule['name']}” deleted."


@bp.post("/alerts/<key>/rules/<rule_id>/test")
@_change
def test_rule(project, rule_id: str) -> str:
    svc = services()
    rule = _rules().get(project.key, rule_id)
    if rule is None:
        raise RuleError(f"no alert rule {rule_id!r} in this project")
    url = rule.get("webhook_url") or svc.settings.ALERT_WEBHOOK_URL
    if not url:
        raise RuleError(f"“{rule['name']}” has no webhook (nor is REPLAY_ALERT_WEBHOOK_URL set): nothing to test")
    payload = alert_messages.payload(event="test", rule=rule, project={"key": project.key, "name": project.name},
                                     now_ms=alert_outbox.now_ms(), window_s=svc.settings.ALERT_WINDOW_S)
    alert_outbox.record(svc.redis, svc.keys, rule=rule, payload=payload, url=url, fmt=rule.get("format") or "json",
                        kept=svc.settings.ALERT_HISTORY_KEPT, ttl_s=svc.settings.ALERT_HISTORY_TTL_S)
    return f"Test alert of “{rule['name']}” queued for {url}; its delivery shows in the history below."
