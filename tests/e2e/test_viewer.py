"""The developer's path in Chromium: failed-calls overview → the group → the session, at the failing call."""
from __future__ import annotations

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_capture_502 import place_order, wait_for_failure


def login(page, base, viewer_login, path="/"):
    page.goto(base + path)
    email, password = viewer_login
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_from_the_overview_to_the_failing_call_with_its_diagnosis(browser, site, api, replay_server, viewer_login):
    session_id = place_order(browser, site)
    wait_for_failure(api, session_id)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    login(page, replay_server, viewer_login, "/failures?status=502")
    row = page.locator("table.groups tbody tr", has_text="/api/orders")
    assert row.locator(".status").inner_text() == "502"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "failures.png"), full_page=True)
    row.locator("a").first.click()
    page.wait_for_url("**/failures/*")
    page.screenshot(path=str(ARTIFACTS / "failure-group.png"), full_page=True)
    page.locator(f"table.sessions a[href*='/sessions/{session_id}?call=']").click()
    page.wait_for_selector("#player[data-ready=true]", timeout=15000)
    opened = page.locator("ol.calls li.failed details[open]")
    assert opened.count() == 1
    diagnosis = opened.locator(".diagnosis").inner_text()
    assert "upstream down or refusing" in diagnosis.lower() and "nginx" in diagnosis
    assert f"session={session_id}" in diagnosis
    page.screenshot(path=str(ARTIFACTS / "replay-at-call.png"), full_page=True)
    page.goto(replay_server + "/?status=502")
    assert page.locator(f"table.sessions tbody tr[data-session='{session_id}'] .mark-5xx").count() == 1
    page.screenshot(path=str(ARTIFACTS / "sessions.png"), full_page=True)
    context.close()
