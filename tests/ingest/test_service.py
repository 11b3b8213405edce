"""Ingest on a real Redis: admission, append-before-ack, dedup, limits, and the flush it asks for."""
import json

import pytest
from rq import Queue

from replay.core.accounts import Accounts
from replay.ingest.service import Connection, Ingest
from replay.ingest.protocol import ProtocolError
from replay.ingest.flush import request_flush

ORIGIN = "https://shop.example"
SESSION, WINDOW = "sess_0123456789abcdef", "win_0123456789abcdef"


@pytest.fixture
def ingest(settings, redis, keys):
    return Ingest(settings, redis, keys, lambda s, d: request_flush(redis, settings, s, d))


@pytest.fixture
def project_key(redis, keys):
    return Accounts(redis, keys).create_project("shop", [ORIGIN]).key


def hello(key, session=SESSION, window=WINDOW):
    return json.dumps({"type": "hello", "v": 1, "key": key, "session": session, "window": window,
                       "url": ORIGIN + "/cart", "ua": "test"})


def batch(seq, n=2):
    return json.dumps({"type": "batch", "seq": seq,
                       "events": [{"type": 3, "timestamp": 1_700_000_000_000 + seq * 10 + i, "data": {}} for i in range(n)]})


def test_hello_then_batches_are_acked_after_they_are_in_redis(ingest, project_key, redis, keys):
    conn = Connection(origin=ORIGIN)
    assert ingest.receive(conn, hello(project_key)) == {"type": "ready", "acked": 0}
    assert ingest.receive(conn, batch(1)) == {"type": "ack", "seq": 1, "acked": 1}
    assert redis.llen(keys.buffer(SESSION)) == 1
    assert redis.hget(keys.session_meta(SESSION), "project").decode() == project_key


def test_duplicates_are_dropped_and_a_reconnect_learns_what_is_held(ingest, project_key, redis, keys):
    conn = Connection(origin=ORIGIN)
    ingest.receive(conn, hello(project_key))
    for seq in (1, 2, 2, 1, 4):
        ingest.receive(conn, batch(seq))
    assert redis.llen(keys.buffer(SESSION)) == 3
    again = Connection(origin=ORIGIN)
    # 3 is missing, so only 1..2 count as held; the client resends 3 and 4, and 4 is dropped.
    assert ingest.receive(again, hello(project_key)) == {"type": "ready", "acked": 2}
    assert ingest.receive(again, batch(3))["acked"] == 4
    assert ingest.receive(again, batch(4))["acked"] == 4
    assert redis.llen(keys.buffer(SESSION)) == 4


@pytest.mark.parametrize("origin", [None, "https://evil.example", "http://shop.example", "https://shop.example:8443"])
def test_origins_not_on_the_list_are_refused(ingest, project_key, origin, redis, keys):
    with pytest.raises(ProtocolError) as info:
        ingest.receive(Connection(origin=origin), hello(project_key))
    assert info.value.code == "origin_not_allowed" and info.value.close_code == 4403
    assert not redis.exists(keys.buffer(SESSION))


def test_unknown_key_and_batch_before_hello(ingest, project_key):
    with pytest.raises(ProtocolError) as info:
        ingest.receive(Connection(origin=ORIGIN), hello("pk_doesnotexist"))
    assert info.value.code == "unknown_project"
    with pytest.raises(ProtocolError) as info:
        ingest.receive(Connection(origin=ORIGIN), batch(1))
    assert info.value.code == "hello_required"


def test_a_session_id_cannot_move_to_another_project(ingest, project_key, redis, keys):
    other = Accounts(redis, keys).create_project("other", [ORIGIN]).key
    ingest.receive(Connection(origin=ORIGIN), hello(project_key))
    with pytest.raises(ProtocolError) as info:
        ingest.receive(Connection(origin=ORIGIN), hello(other))
    assert info.value.code == "session_conflict"


def test_rate_limit_per_window(redis, keys, settings, project_key):
    from dataclasses import replace

    tight = Ingest(replace(settings, MAX_BATCHES_PER_WINDOW_PER_MINUTE=3), redis, keys,
                   lambda s, d: request_flush(redis, settings, s, d))
    conn = Connection(origin=ORIGIN)
    tight.receive(conn, hello(project_key))
    for seq in (1, 2, 3):
        tight.receive(conn, batch(seq))
    with pytest.raises(ProtocolError) as info:
        tight.receive(conn, batch(4))
    assert (info.value.code, info.value.close_code, info.value.http_status) == ("rate_limited", 4429, 429)


def test_http_envelope_appends_every_batch_once(ingest, project_key, redis, keys):
    body = json.dumps({"v": 1, "key": project_key, "session": SESSION, "window": WINDOW, "url": ORIGIN,
                       "batches": [json.loads(batch(1)), json.loads(batch(2))]}).encode()
    assert ingest.http_batch(ORIGIN, body) == {"acked": 2, "stored": 2, "duplicates": 0}
    assert ingest.http_batch(ORIGIN, body) == {"acked": 2, "stored": 0, "duplicates": 2}
    assert redis.llen(keys.buffer(SESSION)) == 2


def test_appends_ask_the_worker_for_a_flush(ingest, project_key, redis, settings):
    conn = Connection(origin=ORIGIN)
    ingest.receive(conn, hello(project_key))
    ingest.receive(conn, batch(1))
    ingest.receive(conn, batch(2))
    ingest.closed(conn)
    queue = Queue(settings.QUEUE_NAME, connection=redis)
    jobs = queue.jobs + [queue.fetch_job(j) for j in queue.scheduled_job_registry.get_job_ids()]
    flushes = [j for j in jobs if j and j.func_name == "worker.jobs.flush_session" and j.args == (SESSION,)]
    assert flushes, "no flush job was enqueued or scheduled"
