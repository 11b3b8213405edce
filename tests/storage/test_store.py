"""The same contract for both object stores: a folder, and an S3 server."""
from __future__ import annotations

import pytest

from replay.core import settings as settings_mod
from tests.conftest import free_port
from replay.storage.store import LocalStore, NotFound, S3Store, StorageError, make_store


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStore(tmp_path / "objects")
    s = request.getfixturevalue("s3_settings")
    return S3Store(s["S3_ENDPOINT"], s["S3_ACCESS_KEY"], s["S3_SECRET_KEY"], s["S3_BUCKET"],
                   secure=False, region="us-east-1")


def test_put_get_exists_delete(store):
    assert not store.exists("a/b.json")
    store.put("a/b.json", b'{"x": 1}', "application/json")
    assert store.exists("a/b.json")
    assert store.get("a/b.json") == b'{"x": 1}'
    store.put("a/b.json", b"replaced", "text/plain")
    assert store.get("a/b.json") == b"replaced"
    store.delete("a/b.json")
    assert not store.exists("a/b.json")
    store.delete("a/b.json")  # deleting what is gone is not an error


def test_put_new_writes_only_where_nothing_is(store):
    assert store.put_new("a/new.json", b"first", "application/json") is True
    assert store.put_new("a/new.json", b"second", "application/json") is False
    assert store.get("a/new.json") == b"first"  # the second write changed nothing
    assert list(store.list("a/")) == ["a/new.json"]  # and left no temp file behind


def test_missing_key_is_not_found(store):
    with pytest.raises(NotFound):
        store.get("nothing/here")
    assert issubclass(NotFound, StorageError)


def test_list_with_and_without_delimiter(store):
    for key in ("sessions/s1/manifest.json", "sessions/s1/segments/w/1-2.json.gz",
                "sessions/s2/manifest.json", "sessionsX/other", "top"):
        store.put(key, b"x")
    assert list(store.list("sessions/")) == [
        "sessions/s1/manifest.json", "sessions/s1/segments/w/1-2.json.gz", "sessions/s2/manifest.json"]
    assert list(store.list("sessions/", delimiter="/")) == ["sessions/s1/", "sessions/s2/"]
    assert sorted(store.list("sessions/s1/", delimiter="/")) == ["sessions/s1/manifest.json", "sessions/s1/segments/"]
    assert list(store.list("sessions/s", delimiter="/")) == ["sessions/s1/", "sessions/s2/"]
    assert list(store.list("sessions")) == [
        "sessions/s1/manifest.json", "sessions/s1/segments/w/1-2.json.gz", "sessions/s2/manifest.json",
        "sessionsX/other"]
    # S3 gives a page's keys before its common prefixes: callers must not rely on the order.
    assert sorted(store.list("", delimiter="/")) == ["sessions/", "sessionsX/", "top"]
    assert list(store.list("nope/")) == []
    store.delete("sessions/s2/manifest.json")
    assert list(store.list("sessions/", delimiter="/")) == ["sessions/s1/"]


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "..", "a//b", "a/./b", "a\\b", "a/", ".tmp-x"])
def test_bad_keys_are_refused(store, key):
    with pytest.raises(StorageError):
        store.put(key, b"x")
    with pytest.raises(StorageError):
        store.get(key)


def test_bad_list_arguments(store):
    with pytest.raises(StorageError):
        list(store.list("../"))
    with pytest.raises(ValueError):
        list(store.list("a/", delimiter="-"))


def test_a_local_write_leaves_no_temp_file_and_stays_inside_root(tmp_path):
    # Atomicity itself (killed writers, a full disk) is tested in test_local_atomic.py.
    store = LocalStore(tmp_path / "objects")
    store.put("a/b", b"1")
    assert sorted(p.name for p in (tmp_path / "objects" / "a").iterdir()) == ["b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["objects"]


def test_unreachable_s3_raises_storage_error():
    store = S3Store(f"127.0.0.1:{free_port()}", "k", "s", "bucket", secure=False, region="us-east-1")
    with pytest.raises(StorageError) as info:
        store.put("a", b"x")
    assert info.value.__cause__ is not None


def test_make_store_picks_the_backend(tmp_path, s3_settings):
    local = make_store(settings_mod.load({"DATA_DIR": str(tmp_path)}, environ={}))
    assert isinstance(local, LocalStore) and local.root == (tmp_path / "objects").resolve()
    s3 = make_store(settings_mod.load(s3_settings, environ={}))
    assert isinstance(s3, S3Store) and s3.bucket == s3_settings["S3_BUCKET"]
    s3.put("k", b"v")  # creates the bucket on first use
    assert s3.get("k") == b"v"
