"""Viewer pages: login goes back only to a page of this site."""
import re

import pytest


def login(client, accounts, next_param):
    accounts.create_user("dev@example.com", "correct horse")
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    return client.post("/login", query_string={"next": next_param},
                       data={"email": "dev@example.com", "password": "correct horse", "csrf": csrf})


@pytest.mark.parametrize("target", ["//evil.example/", "/\t/evil.example", "/\\evil.example", "https://evil.example/",
                                    "/\n/evil.example", "javascript:alert(1)"])
def test_login_never_redirects_off_site(client, accounts, target):
    r = login(client, accounts, target)
    # To the sessions list instead.
    assert (r.status_code, r.headers["Location"]) == (302, "/")


def test_login_returns_to_the_page_asked_for(client, accounts):
    r = login(client, accounts, "/sessions/abcdefgh12345678?t=5")
    assert r.headers["Location"] == "/sessions/abcdefgh12345678?t=5"


def test_login_without_csrf_is_refused(client, accounts):
    accounts.create_user("dev@example.com", "correct horse")
    r = client.post("/login", data={"email": "dev@example.com", "password": "correct horse"})
    assert r.status_code == 401 and "expired" in r.get_data(as_text=True)


def test_whole_numbers_are_ascii_digits_only():
    from replay.web.params import whole_number

    assert whole_number("1200") == 1200
    assert [whole_number(v) for v in ("²", "١٢", "-1", "1.5", "", None, 12)] == [None] * 7


@pytest.mark.parametrize("target", ["/\\[", "//[::1", "/\\evil.example:abc"])
def test_login_with_a_next_no_parser_takes_apart_goes_home(client, accounts, target):
    # urlsplit raised ValueError on these: the login form answered 500.
    r = login(client, accounts, target)
    assert r.status_code == 302 and r.headers["Location"] == "/"
