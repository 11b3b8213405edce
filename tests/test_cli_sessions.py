"""`replay sessions delete` (one, a user's, a project's) and `replay project retention`, on a real Redis."""
import json

from redis import Redis

from replay.core.keys import RedisKeys, manifest_key
from replay.storage.store import LocalStore
from tests.test_cli import last_word, run
from tests.test_cli_admin import env, ok, refused  # noqa: F401 (env: a fixture)


def stored_session(redis, keys, store, session, project, user):
    manifest = {"session": session, "project": project, "started_ms": 1000, "failed_urls": [],
                "user": {"id": user}, "search_terms": [user]}
    store.put(manifest_key(session), json.dumps(manifest).encode())
    for name in (keys.by_project(project), keys.by_time(), keys.by_user(user), keys.by_term(user)):
        redis.zadd(name, {session: 1000})
    redis.set(keys.session(session), json.dumps({"session": session, "project": project, "statuses": [],
                                                 "user": {"id": user}}))


def test_delete_one_a_users_and_a_projects_sessions(env, redis_url, tmp_path):
    redis, keys = Redis.from_url(redis_url), RedisKeys()
    store = LocalStore(tmp_path / "data" / "objects")
    shop = last_word(run(env, "project", "create", "shop", "--origin", "https://a.example"))
    blog = last_word(run(env, "project", "create", "blog", "--origin", "https://b.example"))
    for session, project, user in (("sess_one_0123456789", shop, "u-1"), ("sess_a1_0123456789", shop, "u-a"),
                                   ("sess_a2_0123456789", blog, "u-a"), ("sess_blog_0123456789", blog, "u-2")):
        stored_session(redis, keys, store, session, project, user)

    assert "deleted 1 session of session sess_one_0123456789" in ok(env, "sessions", "delete", "sess_one_0123456789")
    assert not list(store.list("sessions/sess_one_0123456789/")) and not redis.exists(keys.session("sess_one_0123456789"))
    refused(env, "sessions", "delete", "sess_one_0123456789", says="no session 'sess_one_0123456789'")

    assert "deleted 2 sessions of user id 'u-a'" in ok(env, "sessions", "delete", "--user", "u-a")
    assert not redis.exists(keys.by_user("u-a"), keys.by_term("u-a"))
    assert [s.decode() for s in redis.zrange(keys.by_time(), 0, -1)] == ["sess_blog_0123456789"]

    assert "deleted 1 session of project" in ok(env, "sessions", "delete", "--project", blog)
    assert redis.zcard(keys.by_time()) == 0 and not list(store.list("sessions/"))
    # Every deleted id stays refused by flush and reindex.
    assert redis.zcard(keys.deleted()) == 4
    refused(env, "sessions", "delete", "--user", "x", "--project", blog, says="give one session id")


def test_project_retention_shows_and_sets_the_days(env):
    key = last_word(run(env, "project", "create", "shop", "--origin", "https://a.example"))
    assert "keeps sessions 30 days (the REPLAY_RETENTION_DAYS default)" in ok(env, "project", "retention", key)
    assert "keeps sessions 7 days" in ok(env, "project", "retention", key, "7")
    assert "keeps sessions 7 days" in ok(env, "project", "retention", key)
    refused(env, "project", "retention", key, "0", says="retention is a whole number of days from 1 to 3650")
    assert "30 days (the REPLAY_RETENTION_DAYS default)" in ok(env, "project", "retention", key, "default")
