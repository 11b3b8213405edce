"""In Chromium: the replay page's Delete button and its confirm step; the banner when the disk is under its floor."""
from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_viewer import login

EMAIL, PASSWORD = "ann@example.com", "correct horse battery staple"


@pytest.fixture
def serve():
    servers = []

    def start(app) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()


def test_delete_button_asks_first_then_deletes_the_session(browser, app, recorded, serve):
    app.extensions["replay"].accounts.create_user(EMAIL, PASSWORD)
    base = serve(app)
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    login(page, base, (EMAIL, PASSWORD), f"/sessions/{recorded}")
    page.wait_for_selector(".delete-session summary")
    assert not page.is_visible("#delete-confirm")
    page.click(".delete-session summary")
    assert page.is_visible("#delete-confirm") and "cannot be undone" in page.inner_text(".delete-confirm")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "delete-confirm.png"))
    page.click("#delete-confirm")
    page.wait_for_url(base + "/")
    assert f"Session {recorded} was deleted for good" in page.inner_text(".banner.notice")
    assert recorded not in page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "delete-done.png"))
    assert page.goto(f"{base}/sessions/{recorded}").status == 404
    assert list(app.extensions["replay"].store.list(f"sessions/{recorded}/")) == []
    # The project's retention, on the settings page.
    page.goto(base + "/settings")
    page.fill("form.retention input[name=days]", "14")
    page.click("form.retention button")
    assert "keeps its sessions 14 days" in page.inner_text("body")
    assert page.input_value("form.retention input[name=days]") == "14"
    page.locator("form.retention").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "settings-retention.png"))


def test_the_viewer_says_when_new_sessions_are_refused_for_want_of_disk(browser, make_app, serve):
    app = make_app(MIN_FREE_DISK_MB=10**9)  # above any disk's free space: the floor is crossed
    app.extensions["replay"].accounts.create_user(EMAIL, PASSWORD)
    base = serve(app)
    page = browser.new_context(viewport={"width": 1280, "height": 600}).new_page()
    login(page, base, (EMAIL, PASSWORD))
    banner = page.wait_for_selector(".banner.disk-full")
    text = banner.inner_text()
    assert text.startswith("Disk nearly full:") and "new sessions are not recorded" in text
    assert "REPLAY_MIN_FREE_DISK_MB" in text
    page.screenshot(path=str(ARTIFACTS / "disk-full-banner.png"))
    roomy = serve(make_app())
    page.goto(roomy + "/")
    assert page.url == roomy + "/" and page.is_visible("nav.main")  # still logged in: the list, not the login form
    assert page.query_selector(".banner.disk-full") is None
