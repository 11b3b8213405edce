"""The login form under attack: throttled per account and per client address, and no telling known emails apart."""
import re
import statistics
import threading
import time

import pytest
import requests


EMAIL, PASSWORD = "dev@example.com", "correct horse"


@pytest.fixture
def make_app(make_app):
    """Apps with these settings, and one viewer user."""

    def make(**overrides):
        app = make_app(**overrides)
        app.extensions["replay"].accounts.create_user(EMAIL, PASSWORD)
        return app

    return make


def csrf_of(client) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)


def attempt(client, email, password, ip="10.0.0.1", csrf=None):
    return client.post("/login", data={"email": email, "password": password, "csrf": csrf or csrf_of(client)},
                       environ_base={"REMOTE_ADDR": ip})


def assert_throttled(r):
    assert r.status_code == 429
    text = r.get_data(as_text=True)
    assert "Too many failed logins" in text and re.search(r"try again in \d+ (seconds|minutes) \(after [\d:]+ UTC\)", text)
    assert int(r.headers["Retry-After"]) >= 1
    assert r.headers["Content-Security-Policy"]  # still a viewer page, with its headers


def test_300_wrong_passwords_then_the_right_one_is_refused_until_the_window_ends(make_app):
    # Long enough for 300 tries on a loaded machine (the first 10 each check a password), short enough to wait out.
    client = make_app(LOGIN_FAILURE_WINDOW_S=10).test_client()
    csrf = csrf_of(client)
    statuses = [attempt(client, EMAIL, f"guess {i}", csrf=csrf).status_code for i in range(300)]
    assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}
    right = attempt(client, EMAIL, PASSWORD, csrf=csrf)
    assert_throttled(right)
    assert client.get("/").status_code == 302  # not logged in
    time.sleep(int(right.headers["Retry-After"]) + 0.2)
    r = attempt(client, EMAIL, PASSWORD, csrf=csrf)
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert client.get("/").status_code == 200


def test_one_address_spraying_many_accounts_is_stopped_even_where_it_knows_the_password(make_app):
    client = make_app(LOGIN_MAX_FAILURES_PER_IP=5, LOGIN_MAX_FAILURES_PER_ACCOUNT=100).test_client()
    csrf = csrf_of(client)
    for i in range(4):
        assert attempt(client, f"user{i}@example.com", "password1", csrf=csrf).status_code == 401
    # A success in between gives back only its own try: the spraying still counts.
    assert attempt(client, EMAIL, PASSWORD, csrf=csrf).status_code == 302
    csrf = csrf_of(client)
    assert attempt(client, "user4@example.com", "password1", csrf=csrf).status_code == 401
    assert_throttled(attempt(client, EMAIL, PASSWORD, csrf=csrf))
    assert_throttled(attempt(client, "user5@example.com", "password1", csrf=csrf))
    # Another address is not held up.
    assert attempt(client, EMAIL, PASSWORD, ip="10.0.0.2", csrf=csrf).status_code == 302


def test_one_account_guessed_from_many_addresses_is_stopped(make_app):
    client = make_app(LOGIN_MAX_FAILURES_PER_ACCOUNT=3, LOGIN_MAX_FAILURES_PER_IP=100).test_client()
    csrf = csrf_of(client)
    # Spellings of one email are one account.
    for i, spelling in enumerate([EMAIL, " Dev@Example.com", "DEV@EXAMPLE.COM "]):
        assert attempt(client, spelling, "wrong guess", ip=f"192.0.2.{i}", csrf=csrf).status_code == 401
    assert_throttled(attempt(client, EMAIL, PASSWORD, ip="198.51.100.1", csrf=csrf))
    assert attempt(client, "someone.else@example.com", "wrong", ip="198.51.100.1", csrf=csrf).status_code == 401


def test_ipv6_addresses_of_one_network_share_a_counter(make_app):
    client = make_app(LOGIN_MAX_FAILURES_PER_IP=3, LOGIN_MAX_FAILURES_PER_ACCOUNT=100).test_client()
    csrf = csrf_of(client)
    for i in range(3):
        attempt(client, f"user{i}@example.com", "wrong", ip=f"2001:db8:0:1::{i + 1}", csrf=csrf)
    assert_throttled(attempt(client, EMAIL, PASSWORD, ip="2001:db8:0:1:ffff::9", csrf=csrf))
    assert attempt(client, EMAIL, PASSWORD, ip="2001:db8:0:2::1", csrf=csrf).status_code == 302


def test_an_unknown_email_gets_the_same_answer_as_a_known_one(make_app):
    client = make_app(LOGIN_MAX_FAILURES_PER_ACCOUNT=2, LOGIN_MAX_FAILURES_PER_IP=100).test_client()
    csrf = csrf_of(client)
    known = attempt(client, EMAIL, "wrong password", csrf=csrf)
    unknown = attempt(client, "nobody@example.com", "wrong password", csrf=csrf)
    assert (known.status_code, known.get_data()) == (unknown.status_code, unknown.get_data()) == (
        401, known.get_data())
    assert known.headers.get("Set-Cookie") == unknown.headers.get("Set-Cookie")
    # Unknown emails are throttled exactly like known ones.
    attempt(client, EMAIL, "wrong password", csrf=csrf)
    attempt(client, "nobody@example.com", "wrong password", csrf=csrf)
    known, unknown = attempt(client, EMAIL, "x", csrf=csrf), attempt(client, "nobody@example.com", "x", csrf=csrf)
    assert known.status_code == unknown.status_code == 429
    assert abs(int(known.headers["Retry-After"]) - int(unknown.headers["Retry-After"])) <= 1


def test_an_unknown_email_takes_as_long_as_a_known_one(make_app):
    client = make_app(LOGIN_MAX_FAILURES_PER_ACCOUNT=1000, LOGIN_MAX_FAILURES_PER_IP=1000).test_client()
    csrf = csrf_of(client)
    timings = {"known": [], "unknown": []}
    for i in range(9):  # interleaved, so a load spike hits both sides alike
        for kind, email in (("known", EMAIL), ("unknown", f"nobody{i}@example.com")):
            start = time.perf_counter()
            assert attempt(client, email, "wrong password", csrf=csrf).status_code == 401
            timings[kind].append(time.perf_counter() - start)
    known, unknown = statistics.median(timings["known"]), statistics.median(timings["unknown"])
    # Generous for a loaded machine: without the dummy hash an unknown email is ~40 times faster.
    assert 0.6 < unknown / known < 1.67, (known, unknown)


def test_parallel_guesses_get_no_more_tries_than_the_limit(make_app):
    from werkzeug.serving import make_server

    app = make_app(LOGIN_MAX_FAILURES_PER_ACCOUNT=3, LOGIN_MAX_FAILURES_PER_IP=1000)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        session = requests.Session()
        csrf = re.search(r'name="csrf" value="([^"]+)"', session.get(base + "/login").text).group(1)
        cookies = session.cookies.get_dict()
        statuses = []
        start = threading.Barrier(30)

        def guess(i):
            start.wait()
            statuses.append(requests.post(base + "/login", data={"email": EMAIL, "password": f"guess {i}", "csrf": csrf},
                                          cookies=cookies, allow_redirects=False, timeout=60).status_code)

        threads = [threading.Thread(target=guess, args=(i,)) for i in range(30)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(statuses) == [401] * 3 + [429] * 27
    finally:
        server.shutdown()


def test_a_login_without_the_form_token_is_not_counted(make_app):
    client = make_app(LOGIN_MAX_FAILURES_PER_ACCOUNT=2).test_client()
    for _ in range(5):
        r = client.post("/login", data={"email": EMAIL, "password": "wrong"})
        assert r.status_code == 401 and "expired" in r.get_data(as_text=True)
    assert attempt(client, EMAIL, PASSWORD).status_code == 302


@pytest.mark.parametrize("seconds, says", [(1, "1 second "), (59, "59 seconds"), (119, "119 seconds"),
                                           (120, "2 minutes"), (121, "3 minutes"), (900, "15 minutes")])
def test_the_message_says_how_long_to_wait(seconds, says):
    from replay.viewer.pages import _retry_message

    assert f"try again in {says}" in _retry_message(seconds)
