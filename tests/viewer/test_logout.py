"""Logout by POST with the page's CSRF token ends the login server-side; a password reset ends every login."""
import re

import pytest

from replay.cli import main as cli_main
from tests.viewer.test_login_throttle import EMAIL, PASSWORD, attempt

SESSION_COOKIE = "session"


@pytest.fixture
def logged_in(app, client, accounts):
    accounts.create_user(EMAIL, PASSWORD)
    assert attempt(client, EMAIL, PASSWORD).status_code == 302
    return client


def logout_form_token(client) -> str:
    """The CSRF token the Log out button posts, read from a page."""
    html = client.get("/").get_data(as_text=True)
    form = re.search(r'<form class="logout"[^>]*>(.*?)</form>', html, re.S).group(1)
    return re.search(r'name="csrf" value="([^"]+)"', form).group(1)


def cookie_of(client) -> str:
    return client.get_cookie(SESSION_COOKIE).value


def with_cookie(app, value: str):
    """A fresh client holding a copy of someone's session cookie."""
    other = app.test_client()
    other.set_cookie(SESSION_COOKIE, value)
    return other


def assert_logged_out(client):
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    assert client.get("/api/sessions").status_code == 401


@pytest.mark.parametrize("token", [None, "", "wrong-token", "é-not-ascii"])
def test_a_logout_without_the_pages_token_is_refused_and_the_login_lives_on(logged_in, token):
    data = {} if token is None else {"csrf": token}
    r = logged_in.post("/logout", data=data)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "csrf_failed"
    assert logged_in.get("/").status_code == 200


def test_logout_with_the_token_ends_the_login_for_every_copy_of_the_cookie(app, logged_in):
    stolen = cookie_of(logged_in)
    assert with_cookie(app, stolen).get("/").status_code == 200
    r = logged_in.post("/logout", data={"csrf": logout_form_token(logged_in)})
    assert r.status_code == 302 and r.headers["Location"] == "/login"
    assert_logged_out(logged_in)
    assert_logged_out(with_cookie(app, stolen))


def test_the_token_may_come_as_a_header(logged_in):
    token = logout_form_token(logged_in)
    assert logged_in.post("/logout", headers={"X-CSRF-Token": token}).status_code == 302
    assert_logged_out(logged_in)


def test_logout_by_get_is_not_allowed(logged_in):
    assert logged_in.get("/logout").status_code == 405
    assert logged_in.get("/").status_code == 200


def test_logout_without_a_live_login_just_goes_to_the_login_page(client):
    r = client.post("/logout")
    assert r.status_code == 302 and r.headers["Location"] == "/login"


def test_resetting_the_password_from_the_cli_ends_every_login_of_that_user(app, logged_in, accounts, monkeypatch):
    second = app.test_client()
    assert attempt(second, EMAIL, PASSWORD, ip="10.0.0.2").status_code == 302
    accounts.create_user("other@example.com", PASSWORD)
    other = app.test_client()
    assert attempt(other, "other@example.com", PASSWORD).status_code == 302
    settings = app.extensions["replay"].settings
    monkeypatch.setenv("REPLAY_REDIS_URL", settings.REDIS_URL)
    monkeypatch.setenv("REPLAY_DATA_DIR", settings.DATA_DIR)
    assert cli_main(["user", "create", EMAIL, "--reset", "--password", "a brand new password"]) == 0
    assert_logged_out(logged_in)
    assert_logged_out(second)
    assert other.get("/").status_code == 200
    assert attempt(logged_in, EMAIL, "a brand new password").status_code == 302


def test_removing_the_user_ends_its_logins(logged_in, accounts):
    accounts.delete_user(EMAIL)
    assert_logged_out(logged_in)


def test_the_cookie_holds_only_the_login_id_and_the_csrf_token(app, logged_in):
    data = app.session_interface.get_signing_serializer(app).loads(cookie_of(logged_in))
    assert set(data) == {"login", "csrf", "_permanent"} and EMAIL not in str(data)


def test_a_login_starts_a_new_session_and_ends_the_one_before(app, client, accounts):
    accounts.create_user(EMAIL, PASSWORD)
    serializer = app.session_interface.get_signing_serializer(app)
    # Whatever a session held before the login (here: planted by someone else) does not carry over.
    with client.session_transaction() as s:
        s["csrf"] = "planted-token"
        s["login"] = "planted-login-id"
        s["next"] = "planted"
    assert attempt(client, EMAIL, PASSWORD, csrf="planted-token").status_code == 302
    first = serializer.loads(cookie_of(client))
    assert first["login"] != "planted-login-id" and first["csrf"] != "planted-token" and "next" not in first
    before = cookie_of(client)
    assert attempt(client, EMAIL, PASSWORD).status_code == 302
    second = serializer.loads(cookie_of(client))
    assert second["login"] != first["login"] and second["csrf"] != first["csrf"]
    assert_logged_out(with_cookie(app, before))  # logging in again ended the earlier login
    assert client.get("/").status_code == 200


def test_bearer_tokens_are_unchanged(app, client, token, accounts):
    assert client.get("/api/sessions", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/api/sessions", headers={"Authorization": "Bearer rpt_nope"}).status_code == 401


def test_a_cookie_from_before_server_side_logins_logs_in_nobody(client, accounts):
    accounts.create_user(EMAIL, PASSWORD)
    with client.session_transaction() as s:  # what the login wrote before: the email, signed
        s["user"] = EMAIL
    assert_logged_out(client)
