"""The developer's path in Chromium: failed-calls overview (filtered by project and time) → the group → the
session, at its first failing call of the group; and pages that are not there."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

from tests.e2e.conftest import ARTIFACTS, poll, replay_cli
from tests.e2e.recorded import call, now_ms, page_load, record
from tests.e2e.test_capture_502 import place_order, wait_for_failure


def login(page, base, viewer_login, path="/"):
    page.goto(base + path)
    email, password = viewer_login
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    # The click only starts the sign-in: wait until it has left the login page.
    page.wait_for_url(lambda url: "/login" not in url)


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
    page.locator(f"table.sessions tr[data-session='{session_id}'] a[href$='/sessions/{session_id}']").click()
    page.wait_for_url(f"**/sessions/{session_id}?call=*")
    page.wait_for_selector("#player[data-ready=true]", timeout=15000)
    opened = page.locator("ol.calls li.failed details[open]")
    assert opened.count() == 1
    diagnosis = opened.locator(".diagnosis").inner_text()
    assert "the upstream refused or dropped the connection" in diagnosis.lower() and "nginx" in diagnosis
    assert "upstream prematurely closed connection" in diagnosis  # how to tell a dead port from a dropped one
    assert f"session={session_id}" in diagnosis
    page.screenshot(path=str(ARTIFACTS / "replay-at-call.png"), full_page=True)
    page.goto(replay_server + "/?status=502")
    assert page.locator(f"table.sessions tbody tr[data-session='{session_id}'] .mark-5xx").count() == 1
    page.screenshot(path=str(ARTIFACTS / "sessions.png"), full_page=True)
    context.close()


def test_a_group_opens_each_session_at_its_first_failure_of_the_group(browser, site, api, replay_server, viewer_login):
    """Two 502s of one route in one session: the index keeps the latest, the overview opens at the first."""
    context = browser.new_context()
    shop = context.new_page()
    shop.goto(site["url"])
    shop.wait_for_function("window.Replay && window.Replay.getSessionURL && window.Replay.getSessionURL()")
    for _ in range(2):
        shop.evaluate("window.__lastStatus = 0")
        shop.click("#place")
        shop.wait_for_function("window.__lastStatus === 502")
        shop.wait_for_timeout(700)
    session_id = shop.evaluate("window.Replay.getSessionURL()").rsplit("/sessions/", 1)[1].split("?")[0]
    context.close()
    detail = poll(lambda: (d := api(f"/api/sessions/{session_id}").json()).get("counts", {}).get(
        "network_failures") == 2 and d)
    first, latest = sorted(detail["network_failures"], key=lambda f: f["ts"])
    [group] = [g for g in api("/api/failures", status="502").json()["groups"] if g["route"] == "/api/orders"]
    indexed = {i["session"]: i["call"] for i in api(f"/api/failures/{group['id']}/sessions").json()["sessions"]}
    assert indexed[session_id] == latest["id"]  # what the index keeps

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    login(page, replay_server, viewer_login, f"/failures/{group['id']}")
    page.locator(f"tr[data-session='{session_id}'] td.started a").click()
    page.wait_for_url(f"**/sessions/{session_id}?call={first['id']}")
    page.wait_for_selector("#player[data-ready=true]", timeout=15000)
    opened = page.locator("ol.calls li.failed details[open]")
    assert opened.count() == 1
    assert opened.locator("xpath=..").get_attribute("data-call-id") == first["id"]
    context.close()


def _local(ms: int) -> str:
    """A time as a datetime-local field takes it (UTC, as every time on these pages)."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def test_the_failed_calls_page_filters_by_project_and_time(browser, site, api, replay_env, replay_server,
                                                           viewer_login):
    session_id = place_order(browser, site)
    wait_for_failure(api, session_id)
    # Another project's 503, three hours ago.
    origin = "http://stock.example"
    key = replay_cli(replay_env, "project", "create", "stock", "--origin", origin)
    then = now_ms() - 3 * 3600_000
    record(replay_env, origin, key, "stock_session_000001", [page_load(then, origin + "/", "Stock") + [
        call(then + 200, 30, "GET", origin + "/api/stock/123", 503, statusText="Service Unavailable",
             responseHeaders={"server": "nginx"})]])
    poll(lambda: any(g["route"] == "/api/stock/:id" for g in api("/api/failures").json()["groups"]))

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    login(page, replay_server, viewer_login, "/failures")
    routes = lambda: page.locator("table.groups td.call a").all_inner_texts()  # noqa: E731
    assert any("/api/orders" in r for r in routes()) and any("/api/stock/:id" in r for r in routes())
    # The project, from the form: only what is filtered goes in the URL.
    page.select_option("form.list-filters select[name=project]", label="stock")
    page.click("form.list-filters button[type=submit]")
    page.wait_for_url(lambda url: "project=" in url)
    assert parse_qs(urlsplit(page.url).query) == {"project": [key]}
    assert [r.split() for r in routes()] == [["GET", "/api/stock/:id"]]
    assert page.locator("table.groups td.call .host").all_inner_texts() == ["stock.example"]
    page.screenshot(path=str(ARTIFACTS / "failures-project.png"), full_page=True)
    # Time: up to two hours ago is the other project's 503 only; the last hour is acme's 502.
    page.goto(replay_server + "/failures")
    page.fill("form.list-filters input[name=until]", _local(int(time.time() * 1000) - 2 * 3600_000))
    page.click("form.list-filters button[type=submit]")
    page.wait_for_url(lambda url: "until=" in url)
    assert list(parse_qs(urlsplit(page.url).query)) == ["until"]
    assert [r.split()[1] for r in routes()] == ["/api/stock/:id"]
    page.goto(replay_server + "/failures")
    page.fill("form.list-filters input[name=since]", _local(int(time.time() * 1000) - 3600_000))
    page.click("form.list-filters button[type=submit]")
    page.wait_for_url(lambda url: "since=" in url)
    listed = routes()
    assert any("/api/orders" in r for r in listed) and not any("/api/stock" in r for r in listed)
    row = page.locator("table.groups tbody tr", has_text="/api/orders")
    assert row.locator(".status").inner_text() == "502"
    assert row.locator(".status").evaluate("e => getComputedStyle(e).color") == "rgb(198, 40, 40)"
    # Styled as the sessions list: the same filter bar and table.
    assert page.locator("form.list-filters").evaluate("e => getComputedStyle(e).backgroundColor") == \
        "rgb(255, 255, 255)"
    assert "list" in page.locator("table.groups").get_attribute("class")
    page.screenshot(path=str(ARTIFACTS / "failures-filtered.png"), full_page=True)
    # A time no one can read: the form says so.
    page.goto(replay_server + "/failures?since=yesterday")
    assert "From is a date and time" in page.locator(".error").inner_text()
    context.close()


def test_a_page_that_is_not_there_is_a_page(browser, replay_server, viewer_login, api):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    login(page, replay_server, viewer_login, "/")
    page.wait_for_selector("form.list-filters")
    for path in ("/sessions/no_such_session_0001", "/sessions/x", "/failures/0123456789abcdef",
                 "/failures/0123456789abcdef/sessions/no_such_session_0001", "/sessions/no_such_session_0001/export"):
        response = page.goto(replay_server + path)
        assert response.status == 404, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert page.locator("main h1").inner_text() == "Not found"
        assert page.locator("nav.main a", has_text="Failed calls").count() == 1  # the site's own header
    page.goto(replay_server + "/sessions/no_such_session_0001")
    assert "No such session yet" in page.locator(".not-found").inner_text()
    page.screenshot(path=str(ARTIFACTS / "not-found.png"), full_page=True)
    # The API keeps answering JSON.
    r = api("/api/sessions/no_such_session_0001")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    context.close()
