"""The alerts page: the default rules listed, a rule created, edited, muted and test-sent (delivered by the real
job to a real receiver), the history; every change needs the page's CSRF; and the page in Chromium."""
from __future__ import annotations

import os
import re
import threading

import pytest
from rq import Queue, SimpleWorker
from werkzeug.serving import make_server

from replay.core.alert_rules import AlertRules
from tests.alerts.receiver import Receiver
from tests.alerts.test_alerts_e2e import deliver, record
from tests.e2e.conftest import CHROMIUM_ARGS
from worker import alert_delivery, context

SHOTS = os.environ.get("REPLAY_SCREENSHOTS", "/tmp")


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def app(make_app, receiver):
    return make_app(PUBLIC_URL="https://replay.example", ALERT_WINDOW_S=2, ALERT_WEBHOOK_URL=receiver.url)


def page(viewer) -> str:
    r = viewer.get("/alerts")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def csrf_of(html):
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def run_jobs(app):
    svc = app.extensions["replay"]
    context.configure(svc.settings)
    alert_delivery.enqueue_due(svc.redis, svc.keys, svc.settings)
    SimpleWorker([Queue(svc.settings.QUEUE_NAME, connection=svc.redis)], connection=svc.redis).work(burst=True)


def test_defaults_create_edit_mute_and_test_send(app, viewer, project_key, receiver):
    html = page(viewer)
    assert 'href="/alerts"' in html
    for name in ("Failure spike", "New failure group", "Sessions with a 5xx"):
        assert f'<td class="name">{name}' in html
    csrf = csrf_of(html)
    r = viewer.post(f"/alerts/{project_key}/rules", data={
        "csrf": csrf, "name": "Pay refused", "kind": "spike", "scope": "cause:upstream_refused", "threshold": "3",
        "multiple": "2", "webhook_url": receiver.url, "format": "slack"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/alerts#p-{project_key}")
    svc = app.extensions["replay"]
    rules = {r["name"]: r for r in AlertRules(svc.redis, svc.keys).of_project(project_key)}
    rule = rules["Pay refused"]
    assert (rule["scope"], rule["threshold"], rule["multiple"], rule["format"]) == ("cause:upstream_refused", 3, 2.0, "slack")
    viewer.post(f"/alerts/{project_key}/rules/{rule['id']}", data={"csrf": csrf, "threshold": "7"})
    assert "Rule “Pay refused” saved." in page(viewer)
    assert AlertRules(svc.redis, svc.keys).get(project_key, rule["id"])["threshold"] == 7
    # A bad value is the page's error line, and changes nothing.
    viewer.post(f"/alerts/{project_key}/rules/{rule['id']}", data={"csrf": csrf, "webhook_url": "ftp://x"})
    assert "webhook_url must be an http:// or https:// URL" in page(viewer)
    viewer.post(f"/alerts/{project_key}/rules/{rule['id']}/mute", data={"csrf": csrf, "muted": "1"})
    assert AlertRules(svc.redis, svc.keys).get(project_key, rule["id"])["muted"] is True
    # Test send: queued, delivered by the worker's job in Slack's form, listed as sent.
    viewer.post(f"/alerts/{project_key}/rules/{rule['id']}/test", data={"csrf": csrf})
    run_jobs(app)
    [body] = receiver.wait_for(1)
    assert body == {"text": ":bell: *Test: Pay refused: shop* (shop)"}
    html = page(viewer)
    assert re.search(r'<span class="event test">test</span> Test: Pay refused', html)
    assert '<span class="status sent">sent</span>' in html


def test_changes_need_the_csrf_token(viewer, project_key, app):
    r = viewer.post(f"/alerts/{project_key}/rules", data={"name": "x"})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "csrf_failed"
    r = viewer.post("/alerts/pk_nope/rules", data={"csrf": csrf_of(page(viewer))})
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_the_page_in_chromium(app, accounts, project_key, receiver):
    """A spike and its alert in the history; the page as a user sees it (screenshot)."""
    from playwright.sync_api import sync_playwright

    record(app, project_key, "sess_page_0000000000001", 12)
    deliver(app)
    receiver.wait_for(2)
    accounts.create_user("dev@example.com", "correct horse battery")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page_ = browser.new_page(viewport={"width": 1280, "height": 1000})
            page_.goto(base + "/alerts")
            page_.fill("input[name=email]", "dev@example.com")
            page_.fill("input[name=password]", "correct horse battery")
            page_.click("button[type=submit]")
            page_.wait_for_selector("table.history")
            assert page_.locator("table.rules tbody tr").count() == 3
            assert page_.locator("table.history tr.firing").count() == 2
            assert "POST shop.example/api/pay → 502" in page_.locator("table.history").inner_text()
            page_.screenshot(path=f"{SHOTS}/alerts-page.png", full_page=True)
            page_.locator("table.rules tbody tr").first.locator("summary").click()
            page_.screenshot(path=f"{SHOTS}/alerts-page-edit.png", full_page=True)
            browser.close()
    finally:
        server.shutdown()
