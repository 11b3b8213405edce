"""The admin commands on a real Redis: list, rename, disable, delete, origins, users, tokens; bad input is one line."""
import json

import pytest
from redis import Redis

from replay.core.keys import RedisKeys, manifest_key
from replay.storage.store import LocalStore
from tests.test_cli import BIN, last_word, run  # noqa: F401 (BIN: the installed command)


@pytest.fixture
def env(redis_url, tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("REPLAY_")}
    env.update(REPLAY_REDIS_URL=redis_url, REPLAY_DATA_DIR=str(tmp_path / "data"))
    return env


def ok(env, *args):
    out = run(env, *args)
    assert out.returncode == 0, out.stderr
    return out.stdout


def refused(env, *args, says):
    """Exit 2, one line on stderr saying `says`, no traceback (run() checks that)."""
    out = run(env, *args)
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], out.stderr
    return lines[0]


def test_projects_list_rename_disable_enable_and_origins(env):
    key = last_word(run(env, "project", "create", "shop", "--origin", "https://shop.example"))
    assert "no projects" not in ok(env, "project", "list")
    ok(env, "project", "rename", key, "My shop")
    ok(env, "project", "disable", key)
    listed = ok(env, "project", "list")
    assert key in listed and "My shop" in listed and "DISABLED" in listed
    ok(env, "project", "enable", key)
    assert "DISABLED" not in ok(env, "project", "list")
    assert "may now send" in ok(env, "project", "origin", "add", key, "http://LOCALHOST:8080/")
    assert "could already send" in ok(env, "project", "origin", "add", key, "http://localhost:8080")
    assert "http://localhost:8080" in ok(env, "project", "list")
    ok(env, "project", "origin", "remove", key, "http://localhost:8080")
    assert "localhost" not in ok(env, "project", "list")
    refused(env, "project", "origin", "remove", key, "http://localhost:8080", says="was not an origin")


@pytest.mark.parametrize("origin", ["http://localhost:99999", ":abc", "http://[::1", "http://localhost:0",
                                    "ftp://x.example", "https://shop.example/path", "https://a b.example",
                                    "http://x.example:", "http://user:pw@x.example", "http://x.example?a=1",
                                    "http://x.example#f"])
def test_a_bad_origin_is_one_clear_line_and_exit_2_in_every_command(env, origin):
    refused(env, "project", "create", "shop", "--origin", origin, says=repr(origin))
    key = last_word(run(env, "project", "create", "shop", "--origin", "https://shop.example"))
    refused(env, "project", "origin", "add", key, origin, says=repr(origin))
    refused(env, "project", "origin", "remove", key, origin, says=repr(origin))


@pytest.mark.parametrize("args", [["rename", "pk_nope", "x"], ["disable", "pk_nope"], ["enable", "pk_nope"],
                                  ["delete", "pk_nope"], ["origin", "add", "pk_nope", "https://a.example"],
                                  ["origin", "remove", "pk_nope", "https://a.example"]])
def test_an_unknown_project_key_is_one_clear_line(env, args):
    refused(env, "project", *args, says="no project has the key 'pk_nope'")


@pytest.mark.parametrize("args", [["disable", "nobody@example.com"], ["enable", "nobody@example.com"],
                                  ["delete", "nobody@example.com"],
                                  ["create", "nobody@example.com", "--reset", "--password", "long enough"]])
def test_an_unknown_email_is_one_clear_line(env, args):
    refused(env, "user", *args, says="no user has the email 'nobody@example.com'")


def test_user_create_refuses_an_existing_email_unless_reset(env):
    ok(env, "user", "create", "dev@example.com", "--password", "first password")
    line = refused(env, "user", "create", "Dev@Example.com", "--password", "other password", says="exists")
    assert "replay user create dev@example.com --reset" in line
    out = ok(env, "user", "create", "dev@example.com", "--reset", "--password", "second password")
    assert out.strip().splitlines()[-1].split()[-1] == "dev@example.com"


def test_users_list_disable_enable_delete(env):
    ok(env, "user", "create", "a@example.com", "--password", "long enough")
    ok(env, "user", "create", "b@example.com", "--password", "long enough")
    ok(env, "user", "disable", "a@example.com")
    rows = {line.split()[0]: line.split()[1] for line in ok(env, "user", "list").splitlines()[1:]}
    assert rows == {"a@example.com": "DISABLED", "b@example.com": "enabled"}
    ok(env, "user", "enable", "a@example.com")
    ok(env, "user", "delete", "b@example.com")
    assert [line.split()[:2] for line in ok(env, "user", "list").splitlines()[1:]] == [["a@example.com", "enabled"]]


def test_tokens_get_an_id_at_creation_and_are_revoked_by_it(env, redis_url):
    out = ok(env, "token", "create", "--name", "ci")
    token = last_word(run(env, "token", "create", "--name", "deploy"))
    first = out.strip().splitlines()[-1].split()[-1]
    assert first.startswith("rpt_") and first[:12] in out.splitlines()[0]
    listed = ok(env, "token", "list")
    assert first[:12] in listed and token[:12] in listed and "ci" in listed and first not in listed
    refused(env, "token", "revoke", "rpt_nope", says="no API token has the id 'rpt_nope'")
    ok(env, "token", "revoke", first[:12])
    listed = ok(env, "token", "list")
    assert first[:12] not in listed and token[:12] in listed
    ok(env, "token", "revoke", token)  # the whole token works too
    assert "no API tokens" in ok(env, "token", "list")


def test_deleting_a_project_keeps_its_recordings_unless_asked(env, redis_url, tmp_path):
    redis, keys = Redis.from_url(redis_url), RedisKeys()
    store = LocalStore(tmp_path / "data" / "objects")
    kept = last_word(run(env, "project", "create", "kept", "--origin", "https://a.example"))
    gone = last_word(run(env, "project", "create", "gone", "--origin", "https://b.example"))
    for project, session in ((kept, "sess_kept_0123456789"), (gone, "sess_gone_0123456789")):
        manifest = {"session": session, "project": project, "started_ms": 1000, "failed_urls": []}
        store.put(manifest_key(session), json.dumps(manifest).encode())
        redis.zadd(keys.by_project(project), {session: 1000})
        redis.zadd(keys.by_time(), {session: 1000})
        redis.set(keys.session(session), json.dumps({"session": session, "project": project, "statuses": []}))
    out = ok(env, "project", "delete", kept)
    assert "recordings were kept" in out
    assert store.exists(manifest_key("sess_kept_0123456789")) and redis.zscore(keys.by_time(), "sess_kept_0123456789")
    out = ok(env, "project", "delete", gone, "--delete-recordings")
    assert "deleted 1 recorded session" in out
    assert not list(store.list("sessions/sess_gone_0123456789/"))
    assert redis.zscore(keys.by_time(), "sess_gone_0123456789") is None
    assert not redis.exists(keys.session("sess_gone_0123456789"), keys.by_project(gone))
    assert "no projects" in ok(env, "project", "list")

