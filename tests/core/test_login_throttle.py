"""Failed-login counters: atomic under parallel attempts, windowed, given back only for a right password."""
import threading
import time

import pytest

from replay.core import settings as settings_mod
from replay.core.login_throttle import LoginThrottle, address_bucket


def throttle(redis, keys, **overrides) -> LoginThrottle:
    values = {"LOGIN_MAX_FAILURES_PER_ACCOUNT": 3, "LOGIN_MAX_FAILURES_PER_IP": 5, "LOGIN_FAILURE_WINDOW_S": 60}
    return LoginThrottle(redis, keys, settings_mod.load({**values, **overrides}, environ={}))


@pytest.mark.parametrize("remote, bucket", [
    ("203.0.113.7", "203.0.113.7"),
    ("::ffff:203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("fe80::1%eth0", "fe80::/64"),
    ("", "unknown"),
    (None, "unknown"),
    ("not an address", "unknown"),
    ("203.0.113.7, 10.0.0.1", "unknown"),
])
def test_addresses_are_counted_by_host_for_ipv4_and_by_network_for_ipv6(remote, bucket):
    assert address_bucket(remote, 64) == bucket


def test_ipv6_prefix_length_is_a_setting():
    assert address_bucket("2001:db8:1:2:aaaa::1", 48) == "2001:db8:1::/48"
    assert address_bucket("2001:db8:1:2:aaaa::1", 128) == "2001:db8:1:2:aaaa::1/128"


def test_the_account_limit_refuses_from_any_address_until_the_window_ends(redis, keys):
    t = throttle(redis, keys, LOGIN_FAILURE_WINDOW_S=1)
    for i in range(3):
        assert not t.begin("dev@example.com", f"10.0.0.{i}").refused
    refused = t.begin("dev@example.com", "10.0.0.99")
    assert refused.refused and refused.retry_after_s == 1
    assert not t.begin("other@example.com", "10.0.0.99").refused  # another account is not held up
    time.sleep(1.1)
    assert not t.begin("dev@example.com", "10.0.0.99").refused


def test_the_address_limit_refuses_every_account(redis, keys):
    t = throttle(redis, keys)
    for i in range(5):
        assert not t.begin(f"user{i}@example.com", "10.0.0.1").refused
    attempt = t.begin("fresh@example.com", "10.0.0.1")
    assert attempt.refused and 55 <= attempt.retry_after_s <= 60
    assert not t.begin("fresh@example.com", "10.0.0.2").refused


def test_a_right_password_gives_back_only_its_own_count(redis, keys):
    t = throttle(redis, keys)
    for i in range(4):
        t.begin(f"user{i}@example.com", "10.0.0.1")
    t.succeeded(t.begin("mine@example.com", "10.0.0.1"))  # a success in between resets nothing
    t.begin("user5@example.com", "10.0.0.1")
    assert t.begin("mine@example.com", "10.0.0.1").refused


def test_refused_attempts_neither_count_nor_extend_the_window(redis, keys):
    t = throttle(redis, keys, LOGIN_FAILURE_WINDOW_S=2)
    for _ in range(3):
        t.begin("dev@example.com", "10.0.0.1")
    time.sleep(1)
    for _ in range(20):
        assert t.begin("dev@example.com", "10.0.0.1").retry_after_s == 1
    assert int(redis.get(keys.login_failures_of_account("dev@example.com"))) == 3


def test_giving_back_to_an_expired_counter_leaves_no_key_without_expiry(redis, keys):
    t = throttle(redis, keys)
    attempt = t.begin("dev@example.com", "10.0.0.1")
    redis.delete(*attempt.counters)
    t.succeeded(attempt)
    assert not any(redis.exists(k) for k in attempt.counters)
    attempt = t.begin("dev@example.com", "10.0.0.1")
    assert all(0 < redis.ttl(k) <= 60 for k in attempt.counters)


def test_parallel_attempts_never_get_more_tries_than_the_limit(redis, keys):
    t = throttle(redis, keys, LOGIN_MAX_FAILURES_PER_IP=1000)
    allowed = []
    start = threading.Barrier(40)

    def guess():
        start.wait()
        if not t.begin("dev@example.com", "10.0.0.1").refused:
            allowed.append(1)

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(allowed) == 3


def test_the_account_counter_is_per_normalised_email_and_keeps_any_email_short(keys):
    assert keys.login_failures_of_account("Dev@Example.com") == keys.login_failures_of_account("dev@example.com")
    assert len(keys.login_failures_of_account("x" * 100_000)) < 100
