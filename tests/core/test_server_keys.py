"""Server keys: one per project, fit for nginx's syslog tag, looked up in one GET, replaced by rotation."""
import pytest

from replay.core import server_keys
from replay.core.accounts import AccountError, Accounts
from replay.core.server_keys import ServerKeyCache


@pytest.fixture
def accounts(redis, keys):
    return Accounts(redis, keys)


def test_a_project_keeps_one_server_key_until_rotated(redis, keys, accounts):
    project = accounts.create_project("shop", ["https://shop.example"]).key
    first = server_keys.issue(redis, keys, project)
    assert server_keys.PATTERN.match(first) and len(first) <= 32 and first != project
    assert server_keys.issue(redis, keys, project) == first
    assert server_keys.project_of(redis, keys, first) == project
    rotated = server_keys.issue(redis, keys, project, rotate=True)
    assert rotated != first
    assert server_keys.project_of(redis, keys, first) is None
    assert server_keys.project_of(redis, keys, rotated) == project
    server_keys.forget(redis, keys, project)
    assert server_keys.project_of(redis, keys, rotated) is None


def test_no_key_for_a_project_that_does_not_exist_and_none_for_junk(redis, keys):
    assert server_keys.issue(redis, keys, "pk_nope") is None
    for junk in ("", "pk_public", "sk_" + "a" * 30, "sk_a b", "sk_a\n"):
        assert server_keys.project_of(redis, keys, junk) is None


def test_the_cache_forgets_after_its_ttl(redis, keys, accounts):
    project = accounts.create_project("shop", ["https://shop.example"]).key
    key = server_keys.issue(redis, keys, project)
    cache = ServerKeyCache(redis, keys, ttl_s=0.0)
    assert cache.project_of(key) == project
    server_keys.issue(redis, keys, project, rotate=True)
    assert cache.project_of(key) is None


def test_a_project_is_found_by_key_or_by_a_name_no_other_project_has(accounts):
    shop = accounts.create_project("Shop", ["https://shop.example"])
    accounts.create_project("blog", ["https://blog.example"])
    accounts.create_project("blog", ["https://blog2.example"])
    assert server_keys.find_project(accounts, shop.key) == shop
    assert server_keys.find_project(accounts, "shop") == shop
    with pytest.raises(AccountError, match="2 projects are named 'blog'"):
        server_keys.find_project(accounts, "blog")
    with pytest.raises(AccountError, match="no project"):
        server_keys.find_project(accounts, "nothing")


def test_deleting_a_project_refuses_its_server_key(redis, keys, accounts):
    project = accounts.create_project("shop", ["https://shop.example"]).key
    key = server_keys.issue(redis, keys, project)
    accounts.project_store.delete(project)
    assert server_keys.project_of(redis, keys, key) is None
