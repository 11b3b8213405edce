"""The pool's cheaper readiness check: a connection not ready for a command is still never handed out as is."""
from __future__ import annotations

import select

from replay.core import redis_conn
from replay.core.settings import load


def _client(redis_url, tmp_path):
    return redis_conn.connect(load({"REDIS_URL": redis_url, "DATA_DIR": str(tmp_path)}, environ={}), 4)


def test_tcp_and_unix_socket_connections_use_the_quick_check(redis_url, tmp_path):
    redis = _client(redis_url, tmp_path)
    assert redis.connection_pool.connection_class is redis_conn.QuickCheckConnection
    assert redis.ping()
    unix = redis_conn.connect(load({"REDIS_URL": f"unix://{tmp_path}/none.sock", "DATA_DIR": str(tmp_path)}, environ={}))
    assert unix.connection_pool.connection_class is redis_conn.QuickCheckUnixConnection


def test_a_connection_returned_with_an_unread_reply_is_not_used_as_is(redis_url, tmp_path):
    redis = _client(redis_url, tmp_path)
    redis.set("quick:a", "1")
    pool = redis.connection_pool
    conn = pool.get_connection()
    conn.send_command("GET", "quick:a")  # its reply is never read: the next command must not get it
    select.select([conn._sock], [], [], 5)  # the reply is there (a check cannot see what has not arrived)
    pool.release(conn)
    assert redis.get("quick:b") is None
    assert redis.incr("quick:n") == 1


def test_a_connection_the_server_closed_is_replaced(redis_url, tmp_path):
    redis = _client(redis_url, tmp_path)
    pool = redis.connection_pool
    conn = pool.get_connection()
    name = f"quick-{id(conn)}"
    conn.send_command("CLIENT", "SETNAME", name)
    assert conn.read_response() == b"OK"
    pool.release(conn)
    other = redis_conn.connect(load({"REDIS_URL": redis_url}, environ={}), 2)
    other.execute_command("CLIENT", "KILL", "SKIPME", "yes", "TYPE", "normal")
    assert redis.set("quick:c", "2") and redis.get("quick:c") == b"2"


def test_nothing_to_read_is_told_quickly_and_data_is_not(redis_url, tmp_path):
    redis = _client(redis_url, tmp_path)
    conn = redis.connection_pool.get_connection()
    assert conn.can_read() is False
    conn.send_command("PING")
    select.select([conn._sock], [], [], 5)
    assert conn.can_read() is True
    assert conn.read_response() == b"PONG"
    assert conn.can_read() is False


def test_a_quick_script_runs_loads_itself_again_and_rides_out_a_killed_connection(redis_url, tmp_path):
    redis = _client(redis_url, tmp_path)
    add = redis_conn.QuickScript(redis.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])"))
    assert add(1, "quick:sum", 2) == 2
    redis.script_flush()  # as a restarted Redis: the script is gone (NOSCRIPT), loaded again
    assert add(1, "quick:sum", 3) == 5
    other = redis_conn.connect(load({"REDIS_URL": redis_url}, environ={}), 2)
    other.execute_command("CLIENT", "KILL", "SKIPME", "yes", "TYPE", "normal")
    assert add(1, "quick:sum", 4) == 9
