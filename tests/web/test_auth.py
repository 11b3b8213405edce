"""The client address logins are throttled by: X-Forwarded-For only behind TRUSTED_PROXIES."""
from replay.core import settings as settings_mod
from tests.viewer.test_login_throttle import EMAIL, PASSWORD, attempt, csrf_of, make_app  # noqa: F401 (fixture)


def spray(client, csrf, forwarded_for):
    """Three failures, each claiming to come from another client."""
    for i, claimed in enumerate(forwarded_for):
        r = client.post("/login", data={"email": f"user{i}@example.com", "password": "wrong", "csrf": csrf},
                        headers={"X-Forwarded-For": claimed}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
        assert r.status_code == 401


def test_without_trusted_proxies_x_forwarded_for_is_ignored(make_app):
    client = make_app(LOGIN_MAX_FAILURES_PER_IP=3, LOGIN_MAX_FAILURES_PER_ACCOUNT=100).test_client()
    csrf = csrf_of(client)
    spray(client, csrf, ["198.51.100.1", "198.51.100.2", "198.51.100.3"])
    r = client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf": csrf},
                    headers={"X-Forwarded-For": "198.51.100.4"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert r.status_code == 429


def test_behind_one_trusted_proxy_the_address_it_forwards_is_the_client(make_app):
    client = make_app(TRUSTED_PROXIES=1, LOGIN_MAX_FAILURES_PER_IP=3, LOGIN_MAX_FAILURES_PER_ACCOUNT=100).test_client()
    csrf = csrf_of(client)
    # A client's own X-Forwarded-For entries come before the one the proxy appends: only the last counts.
    spray(client, csrf, ["1.1.1.1, 198.51.100.9", "2.2.2.2, 198.51.100.9", "198.51.100.9"])
    r = client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf": csrf},
                    headers={"X-Forwarded-For": "3.3.3.3, 198.51.100.9"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert r.status_code == 429
    r = client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf": csrf},
                    headers={"X-Forwarded-For": "198.51.100.10"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert r.status_code == 302


def test_login_settings_have_units_and_sensible_defaults():
    s = settings_mod.load(environ={})
    assert (s.LOGIN_MAX_FAILURES_PER_ACCOUNT, s.LOGIN_MAX_FAILURES_PER_IP, s.LOGIN_FAILURE_WINDOW_S) == (10, 50, 900)
    assert s.TRUSTED_PROXIES == 0 and s.LOGIN_IPV6_PREFIX_BITS == 64
    env = {"REPLAY_LOGIN_MAX_FAILURES_PER_IP": "7", "REPLAY_TRUSTED_PROXIES": "2"}
    assert (settings_mod.load(environ=env).LOGIN_MAX_FAILURES_PER_IP, settings_mod.load(environ=env).TRUSTED_PROXIES) == (7, 2)


def test_the_right_password_from_a_fresh_address_logs_in(make_app):
    client = make_app().test_client()
    assert attempt(client, EMAIL, PASSWORD, ip="203.0.113.5").status_code == 302
