"""Login records in Redis: created at login, ended by logout, by a password reset and by removing the user."""
import time

import pytest

from replay.core.accounts import Accounts
from replay.core.keys import RedisKeys
from replay.core.logins import Logins

EMAIL, PASSWORD = "dev@example.com", "correct horse"
TTL_S = 3600


@pytest.fixture
def accounts(redis, keys) -> Accounts:
    accounts = Accounts(redis, keys)
    accounts.create_user(EMAIL, PASSWORD)
    return accounts


def log_in(accounts: Accounts, email: str = EMAIL, password: str = PASSWORD) -> str:
    password_id = accounts.authenticate(email, password)
    assert password_id is not None
    return accounts.logins.create(email, password_id, TTL_S)


def test_a_login_names_its_user_until_revoked(accounts):
    login_id = log_in(accounts)
    assert accounts.logins.user_of(login_id) == EMAIL
    accounts.logins.revoke(login_id)
    assert accounts.logins.user_of(login_id) is None
    accounts.logins.revoke(login_id)  # twice is harmless


def test_the_record_holds_user_and_times_under_a_digest_and_expires(accounts, redis, keys):
    before = int(time.time() * 1000)
    login_id = log_in(accounts)
    [key] = [k.decode() for k in redis.scan_iter(keys.login("*"))]
    assert login_id not in key  # a copy of Redis does not hold usable login ids
    record = {k.decode(): v.decode() for k, v in redis.hgetall(key).items()}
    assert record["user"] == EMAIL and before <= int(record["created_ms"]) == int(record["seen_ms"])
    assert 0 < redis.ttl(key) <= TTL_S
    assert redis.zcard(keys.logins_of_user(EMAIL)) == 1 and 0 < redis.ttl(keys.logins_of_user(EMAIL)) <= TTL_S


@pytest.mark.parametrize("bad", [None, "", 42, ["x"], "x" * 500, "no-such-login"])
def test_anything_else_names_nobody(accounts, bad):
    assert accounts.logins.user_of(bad) is None
    accounts.logins.revoke(bad)


def login_records(redis, keys) -> list[bytes]:
    return list(redis.scan_iter(keys.login("*")))


def test_resetting_the_password_ends_every_login_of_that_user_only(accounts, redis, keys):
    accounts.create_user("other@example.com", PASSWORD)
    mine = [log_in(accounts), log_in(accounts)]
    theirs = log_in(accounts, "other@example.com")
    accounts.reset_password(EMAIL, "a new password")
    assert [accounts.logins.user_of(i) for i in mine] == [None, None]
    assert accounts.logins.user_of(theirs) == "other@example.com"
    assert len(login_records(redis, keys)) == 1  # the records are gone, not only refused
    assert accounts.logins.user_of(log_in(accounts, password="a new password")) == EMAIL


def test_records_are_deleted_not_only_refused(accounts, redis, keys):
    log_in(accounts)
    log_in(accounts)
    assert accounts.logins.revoke_user(EMAIL) == 2
    assert login_records(redis, keys) == [] and not redis.exists(keys.logins_of_user(EMAIL))


def test_a_login_checked_against_the_old_password_during_a_reset_does_not_survive_it(accounts):
    password_id = accounts.authenticate(EMAIL, PASSWORD)  # the form's check passed...
    accounts.reset_password(EMAIL, "a new password")  # ...the reset runs and revokes...
    late = accounts.logins.create(EMAIL, password_id, TTL_S)  # ...then the login is written
    assert accounts.logins.user_of(late) is None


def test_removing_the_user_ends_its_logins(accounts, redis, keys):
    login_id = log_in(accounts)
    assert accounts.delete_user(EMAIL) is True
    assert accounts.logins.user_of(login_id) is None
    assert login_records(redis, keys) == [] and not redis.exists(keys.logins_of_user(EMAIL))
    assert accounts.delete_user(EMAIL) is False


def test_a_user_from_before_password_ids_keeps_working_until_reset(accounts, redis, keys):
    redis.hdel(keys.user(EMAIL), "password_id")
    login_id = log_in(accounts)
    assert accounts.logins.user_of(login_id) == EMAIL
    accounts.reset_password(EMAIL, PASSWORD)
    assert accounts.logins.user_of(login_id) is None


def test_last_seen_is_written_at_most_once_per_interval_and_never_revives_a_record(accounts, redis, keys):
    login_id = log_in(accounts)
    [key] = list(redis.scan_iter(keys.login("*")))
    redis.hset(key, "seen_ms", 1000)
    accounts.logins.user_of(login_id, seen_interval_s=60)
    assert int(redis.hget(key, "seen_ms")) > 1000
    redis.hset(key, "seen_ms", int(time.time() * 1000) - 1000)
    seen = int(redis.hget(key, "seen_ms"))
    accounts.logins.user_of(login_id, seen_interval_s=60)
    assert int(redis.hget(key, "seen_ms")) == seen
    assert redis.ttl(key) > 0  # writing seen_ms keeps the expiry
    # The record expires between the read and the write: the write must not bring it back.
    Logins(redis, keys)._set_if_exists(keys=["replay:login:gone"], args=["seen_ms", 1])
    assert not redis.exists("replay:login:gone")


def test_expired_logins_are_dropped_from_the_users_list_at_the_next_login(accounts, redis, keys):
    redis.zadd(keys.logins_of_user(EMAIL), {"old-digest": 1000})
    log_in(accounts)
    assert redis.zscore(keys.logins_of_user(EMAIL), "old-digest") is None


def test_keys_stay_under_the_prefix(redis):
    other = Accounts(redis, RedisKeys("other:"))
    other.create_user(EMAIL, PASSWORD)
    log_in(other)
    assert all(k.startswith(b"other:") for k in redis.keys("*"))
