"""Key names on a Redis Cluster share a slot wherever one script or transaction uses them together; on one
Redis they are the names of old (a deployment upgrading keeps its buffers and index)."""
from __future__ import annotations

from redis.crc import key_slot

from replay.core.keys import RedisKeys


def slots(*names: str) -> set[int]:
    return {key_slot(name.encode()) for name in names}


def test_on_one_redis_the_names_carry_no_tags():
    keys = RedisKeys("replay:")
    assert keys.buffer("s1") == "replay:buf:s1" and keys.flush_due() == "replay:flush:due"
    assert keys.by_time() == "replay:idx:time" and keys.session("s1") == "replay:session:s1"
    assert keys.user("A@x.org") == "replay:user:a@x.org" and keys.index_patterns() == ["replay:session:*", "replay:idx:*"]
    assert keys.session_of_buffer(keys.buffer("s1")) == "s1"


def test_on_a_cluster_each_atomic_group_is_one_slot_and_sessions_spread():
    keys = RedisKeys("replay:", cluster=True)
    # The append and trim scripts of one session.
    assert len(slots(keys.seqs("s1", "w1"), keys.acked("s1"), keys.buffer("s1"), keys.buffer_bytes("s1"),
                     keys.rate_window("s1", "w1"), keys.rate_session("s1"), keys.flush_lock("s1"))) == 1
    assert len(slots(*(keys.buffer(f"session{i}") for i in range(50)))) > 40
    # The schedule; the index (one query intersects any of its zsets); accounts and deletions.
    assert len(slots(keys.flush_due(), keys.flush_tries(), keys.sweep_lock())) == 1
    assert len(slots(keys.session("s1"), keys.by_time(), keys.by_status("502"), keys.group("g"),
                     keys.session_groups("s2"), keys.alert_sessions("p"), keys.query_tmp("t"))) == 1
    assert len(slots(keys.project("p"), keys.server_key("sk_x"), keys.login("d"), keys.logins_of_user("a@x.org"),
                     keys.deleted(), keys.erase_due(), *keys.refused_origins("p"), keys.share("l"))) == 1
    assert len(slots(keys.proxy_connection("p", 1), keys.proxy_connection_session("p", 1))) == 1
    assert keys.session_of_buffer(keys.buffer("s1")) == "s1"
    assert keys.index_patterns() == ["replay:{idx}session:*", "replay:{idx}idx:*"]


def test_scripts_queued_on_a_cluster_run_command_by_command_in_order(redis_cluster):
    # redis-py's cluster pipelines refuse EVAL: what queues scripts (the flush's lock, the list's walk) goes one by one.
    from replay.core import redis_conn
    from replay.core.settings import load

    redis = redis_conn.connect(load({"REDIS_URL": redis_cluster}))
    script = redis.register_script("redis.call('SET', KEYS[1], ARGV[1]) return ARGV[1]")
    pipe = redis_conn.script_pipeline(redis)
    script(keys=["{t}a"], args=["1"], client=pipe)
    pipe.get("{t}a")
    script(keys=["{u}b"], args=["2"], client=pipe)
    assert pipe.execute() == [b"1", b"1", b"2"]
    assert pipe.execute() == []
    redis.delete("{t}a", "{u}b")
