"""Ingest on a real Redis: admission, append-before-ack, dedup, limits, and the flush it asks for."""
import json

import pytest

from replay.core.accounts import Accounts
from replay.ingest.service import Connection, Ingest
from replay.ingest.protocol import ProtocolError
from replay.ingest import flush
from replay.ingest.flush import request_flush

ORIGIN = "https://shop.example"
SESSION, WINDOW = "sess_0123456789abcdef", "win_0123456789abcdef"
SECRET = "secret_0123456789abcdef"


@pytest.fixture
def ingest(settings, redis, keys):
    return Ingest(settings, redis, keys, lambda s, d: request_flush(redis, keys, s, d))


@pytest.fixture
def project_key(redis, keys):
    return Accounts(redis, keys).create_project("shop", [ORIGIN]).key


def hello(key, session=SESSION, window=WINDOW):
    return json.dumps({"type": "hello", "v": 1, "key": key, "secret": SECRET, "session": session, "window": window,
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


def test_the_release_and_environment_a_hello_names_are_kept_with_the_session(ingest, project_key, redis, keys):
    meta = keys.session_meta(SESSION)
    ingest.receive(Connection(origin=ORIGIN), hello(project_key))
    assert redis.hmget(meta, "release", "environment") == [None, None]
    named = json.loads(hello(project_key)) | {"release": "2024.11.3", "environment": "staging"}
    ingest.receive(Connection(origin=ORIGIN), json.dumps(named))
    assert redis.hmget(meta, "release", "environment") == [b"2024.11.3", b"staging"]
    # A page without them (or an older snippet) leaves them as they were; a newer release replaces its own.
    ingest.receive(Connection(origin=ORIGIN), hello(project_key))
    envelope = named | {"release": "2024.11.4", "batches": [json.loads(batch(1))]}
    del envelope["type"], envelope["environment"]
    ingest.http_batch(ORIGIN, json.dumps(envelope).encode())
    assert redis.hmget(meta, "release", "environment") == [b"2024.11.4", b"staging"]


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


def test_rate_limits_per_window_and_per_session(redis, keys, settings, project_key):
    from dataclasses import replace

    tight = Ingest(replace(settings, RATE_WINDOW_PER_S=0.001, RATE_WINDOW_BURST=3, RATE_SESSION_PER_S=0.001,
                           RATE_SESSION_BURST=5), redis, keys, lambda s, d: request_flush(redis, keys, s, d))
    conn = Connection(origin=ORIGIN)
    tight.receive(conn, hello(project_key))
    for seq in (1, 2, 3):
        tight.receive(conn, batch(seq))
    with pytest.raises(ProtocolError) as info:
        tight.receive(conn, batch(4))
    assert (info.value.code, info.value.close_code, info.value.http_status) == ("rate_limited", 4429, 429)
    assert "window" in info.value.message and redis.llen(keys.buffer(SESSION)) == 3
    # A new window id of the same session gets no fresh allowance past the session's bucket.
    other_window = Connection(origin=ORIGIN)
    tight.receive(other_window, hello(project_key, window="win_second_0123456789"))
    tight.receive(other_window, batch(1))
    tight.receive(other_window, batch(2))
    with pytest.raises(ProtocolError) as info:
        tight.receive(other_window, batch(3))
    assert info.value.code == "rate_limited" and "session" in info.value.message
    assert redis.llen(keys.buffer(SESSION)) == 5


def test_http_envelope_appends_every_batch_once(ingest, project_key, redis, keys):
    body = json.dumps({"v": 1, "key": project_key, "secret": SECRET, "session": SESSION, "window": WINDOW, "url": ORIGIN,
                       "batches": [json.loads(batch(1)), json.loads(batch(2))]}).encode()
    assert ingest.http_batch(ORIGIN, body) == {"acked": 2, "stored": 2, "duplicates": 0}
    assert ingest.http_batch(ORIGIN, body) == {"acked": 2, "stored": 0, "duplicates": 2}
    assert redis.llen(keys.buffer(SESSION)) == 2


def test_appends_make_the_session_due_and_a_close_hurries_it(ingest, project_key, redis, keys, settings):
    conn = Connection(origin=ORIGIN)
    ingest.receive(conn, hello(project_key))
    before = flush.now_ms()
    ingest.receive(conn, batch(1))
    ingest.receive(conn, batch(2))
    due = flush.due_at(redis, keys, SESSION)
    assert before + settings.FLUSH_AGE_MS <= due <= flush.now_ms() + settings.FLUSH_AGE_MS
    ingest.closed(conn)
    assert flush.due_at(redis, keys, SESSION) <= flush.now_ms() + settings.FLUSH_IDLE_MS


def test_a_session_is_bound_to_the_secret_of_its_first_hello(ingest, project_key):
    ingest.receive(Connection(origin=ORIGIN), hello(project_key))
    forged = json.loads(hello(project_key))
    forged["secret"] = "someone_elses_secret_0"
    with pytest.raises(ProtocolError) as info:
        ingest.receive(Connection(origin=ORIGIN), json.dumps(forged))
    assert (info.value.code, info.value.close_code) == ("session_conflict", 4403)
    body = json.dumps({**{k: v for k, v in forged.items() if k != "type"}, "batches": [json.loads(batch(1))]})
    with pytest.raises(ProtocolError) as info:
        ingest.http_batch(ORIGIN, body.encode())
    assert info.value.code == "session_conflict"
    # The browser that holds the secret goes on.
    assert ingest.receive(Connection(origin=ORIGIN), hello(project_key))["type"] == "ready"


def test_event_times_far_from_the_clock_become_the_arrival_time(redis, keys, settings, project_key):
    from dataclasses import replace

    strict = Ingest(replace(settings, MAX_EVENT_AGE_MS=60_000, MAX_EVENT_LEAD_MS=60_000), redis, keys,
                    lambda s, d: None)
    conn = Connection(origin=ORIGIN)
    strict.receive(conn, hello(project_key))
    now = flush.now_ms()
    events = [{"type": 3, "timestamp": t, "data": {}} for t in (now - 1000, 1_000_000_000_000_000, 5, now + 10**9)]
    strict.receive(conn, json.dumps({"type": "batch", "seq": 1, "events": events}))
    [record], _ = strict.buffer.read(SESSION, 1 << 20)
    stamps = [e["timestamp"] for e in record.events]
    assert stamps[0] == now - 1000
    assert all(abs(t - record.received_ms) < 1 for t in stamps[1:]), stamps


def test_ready_names_the_request_bodies_the_project_opted_in_for(ingest, project_key, redis, keys):
    from replay.core import body_capture

    assert "capture" not in ingest.receive(Connection(origin=ORIGIN), hello(project_key)), "off by default"
    body_capture.set_patterns(redis, keys, project_key, ["/api/*"])
    ingest.forget_project(project_key)  # what the project cache would forget within PROJECT_CACHE_S
    ready = ingest.receive(Connection(origin=ORIGIN), hello(project_key))
    assert ready["capture"] == {"requestBodies": ["/api/*"]}
    envelope = {**json.loads(hello(project_key)), "batches": [json.loads(batch(1))]}
    assert ingest.http_batch(ORIGIN, json.dumps(envelope).encode())["capture"] == {"requestBodies": ["/api/*"]}


def test_the_sample_rate_rides_in_every_capture_answer_and_heartbeats_are_counted(ingest, project_key, redis, keys):
    from replay.core import sampling

    beat = json.dumps({"v": 1, "key": project_key}).encode()
    assert ingest.heartbeat(ORIGIN, beat) == {}, "no rate, no bodies: nothing to say"
    sampling.set_rate(redis, keys, project_key, 0.25)
    ingest.forget_project(project_key)
    assert ingest.heartbeat(ORIGIN, beat) == {"capture": {"sampleRate": 0.25}}
    assert ingest.receive(Connection(origin=ORIGIN), hello(project_key))["capture"] == {"sampleRate": 0.25}
    assert sampling.heartbeats(redis, keys, project_key) == (2, 2)
    before = set(redis.keys("*"))
    ingest.heartbeat(ORIGIN, beat)
    assert {k for k in set(redis.keys("*")) - before} == set(), "a heartbeat counts in the day's counter only"
    assert sampling.heartbeats(redis, keys, project_key)[0] == 3
    sampling.set_rate(redis, keys, project_key, None)
    ingest.forget_project(project_key)
    assert ingest.heartbeat(ORIGIN, beat) == {}


@pytest.mark.parametrize("body, origin, code", [
    (b'{"v": 1, "key": "pk_unknownkey"}', ORIGIN, "unknown_project"),
    (None, "https://evil.example", "origin_not_allowed"),
    (b'{"v": 2, "key": "pk_x"}', ORIGIN, "unsupported_version"),
    (b'{"v": 1}', ORIGIN, "invalid_envelope"),
    (b"x" * 2000, ORIGIN, "too_large"),
])
def test_heartbeats_are_refused_as_batches_are(ingest, project_key, redis, keys, body, origin, code):
    from replay.core import sampling

    with pytest.raises(ProtocolError) as refused:
        ingest.heartbeat(origin, body or json.dumps({"v": 1, "key": project_key}).encode())
    assert refused.value.code == code
    assert sampling.heartbeats(redis, keys, project_key) == (0, 0)


def test_a_sample_rate_is_a_number_from_0_to_1():
    from replay.core import sampling

    assert sampling.check("0.1") == 0.1 and sampling.check("10%") == 0.1 and sampling.check("1") == 1.0
    for bad in ("-0.1", "1.5", "nan", "lots", "", "200%"):
        with pytest.raises(sampling.SampleRateError):
            sampling.check(bad)
    assert sampling.parse(b"0.5") == 0.5 and sampling.parse(b"2") is None and sampling.parse(None) is None
