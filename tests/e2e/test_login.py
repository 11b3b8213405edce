"""Logging in and out in Chromium: the Log out button ends the login for good; a throttled login says when to retry."""
from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import ARTIFACTS, replay_cli
from tests.e2e.test_viewer import login

MAX_FAILURES = 3


@pytest.fixture(scope="module")
def replay_env(replay_env):
    """This module's server throttles an account after a few failures (but not its own test address too soon)."""
    return {**replay_env, "REPLAY_LOGIN_MAX_FAILURES_PER_ACCOUNT": str(MAX_FAILURES),
            "REPLAY_LOGIN_MAX_FAILURES_PER_IP": "50", "REPLAY_LOGIN_FAILURE_WINDOW_S": "600"}


def test_log_out_with_the_button_and_the_sessions_list_asks_for_the_login_again(browser, replay_server, viewer_login):
    context = browser.new_context()
    page = context.new_page()
    login(page, replay_server, viewer_login, "/")
    page.wait_for_url(replay_server + "/")
    assert page.locator("form.logout .who").inner_text() == viewer_login[0]
    cookies_while_logged_in = context.cookies()

    page.click("form.logout button[type=submit]")
    page.wait_for_url(replay_server + "/login")
    assert page.locator("form.login").is_visible()

    # Back to the sessions list: it is fetched again (no-store) and asks for the login.
    page.go_back()
    page.wait_for_url(re.compile(r"/login\?next=/"))
    assert page.locator("form.login input[name=password]").is_visible()
    assert page.locator("form.logout").count() == 0

    # A copy of the cookie from before the logout is worth nothing now.
    context.clear_cookies()
    context.add_cookies(cookies_while_logged_in)
    page.goto(replay_server + "/")
    assert "/login" in page.url and page.locator("form.login").is_visible()
    context.close()


def test_a_throttled_login_says_when_to_try_again(browser, replay_env, replay_server):
    email, password = "locked@example.com", "the right password"
    replay_cli(replay_env, "user", "create", email, "--password", password)
    context = browser.new_context(viewport={"width": 900, "height": 600})
    page = context.new_page()
    page.goto(replay_server + "/login")
    for i in range(MAX_FAILURES):
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", f"wrong guess {i}")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.click("button[type=submit]")
        assert answer.value.status == 401
        assert page.locator("p.error").inner_text() == "Wrong email or password."
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)  # the right one, too late
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("button[type=submit]")
    assert answer.value.status == 429 and int(answer.value.headers["retry-after"]) > 500
    message = page.locator("p.error").inner_text()
    assert re.fullmatch(r"Too many failed logins\. Logins here are paused: try again in 10 minutes "
                        r"\(after \d\d:\d\d:\d\d UTC\)\.", message), message
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "login-throttled.png"), full_page=True)
    context.close()
