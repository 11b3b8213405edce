"""POST /ingest/server: the application's events checked strictly and filed where the join reads them
(docs/server-events.md)."""
import gzip
import json
import time

import pytest

from replay.core import server_keys
from replay.core.proxy_logs.access_log import route_of

SESSION = "sess_srv_0123456789"


@pytest.fixture
def server_key(app, project_key):
    svc = app.extensions["replay"]
    return server_keys.issue(svc.redis, svc.keys, project_key)


def event(**over):
    e = {"v": 1, "type": "request", "session": SESSION, "time_ms": int(time.time() * 1000), "method": "POST",
         "url": "https://shop.example/api/orders/123?token=abc&x=1", "status": 500, "duration_ms": 12.5,
         "service": "shop", "release": "1.4.2",
         "exception": {"type": "KeyError", "message": "'sku'",
                       "stack": [{"file": "/app/shop/views.py", "line": 42, "function": "create_order",
                                  "code": "sku = payload['sku']"}]},
         "logs": [{"time_ms": int(time.time() * 1000), "level": "ERROR", "logger": "shop.orders",
                   "message": "no sku in Bearer abcdefghijklmnop"}]}
    e.update(over)
    return e


def in_flight(**over):
    """A request the app was still on, as the SDK's watchdog sends it."""
    e = {"v": 1, "type": "in_flight", "request_id": "6f1c2a9e4b7d4f0e", "session": SESSION,
         "time_ms": int(time.time() * 1000) - 1500, "method": "GET", "url": "https://shop.example/api/report?key=k1",
         "elapsed_ms": 1500.25, "service": "shop", "release": "1.4.2",
         "stack": [{"file": "/app/shop/views.py", "line": 80, "function": "report", "code": "rows = slow_query()"},
                   {"file": "/app/shop/db.py", "line": 12, "function": "slow_query", "code": "cur.execute(sql)"}],
         "logs": [{"time_ms": int(time.time() * 1000), "level": "WARNING", "logger": "shop.db",
                   "message": "query over 1 s"}]}
    e.update(over)
    return e


def body(*events):
    return "\n".join(e if isinstance(e, str) else json.dumps(e) for e in events) + "\n"


def post(client, data, key, **headers):
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return client.post("/ingest/server", data=data, headers=headers)


def stored(redis, key):
    return [json.loads(v) for v in redis.lrange(key, 0, -1)]


def test_an_event_is_filed_under_its_session_with_its_stack(client, redis, keys, project_key, server_key):
    r = post(client, body(event()), server_key)
    assert r.status_code == 200 and r.json == {"accepted": 1, "rejected": 0, "errors": []}
    [e] = stored(redis, keys.server_session(project_key, SESSION))
    assert (e["method"], e["status"], e["duration_ms"], e["service"], e["release"]) == ("POST", 500, 12.5, "shop", "1.4.2")
    assert e["exception"]["type"] == "KeyError" and e["exception"]["frames_omitted"] == 0
    assert e["exception"]["stack"] == [{"file": "/app/shop/views.py", "line": 42, "function": "create_order",
                                        "code": "sku = payload['sku']"}]
    # Secrets masked: the token query value, the bearer credential in a log message.
    assert e["url"] == "https://shop.example/api/orders/123?token=[masked]&x=1"
    assert e["logs"][0]["message"] == "no sku in Bearer [masked]" and e["logs"][0]["level"] == "ERROR"
    assert e["route"] == route_of("POST", "shop.example", "/api/orders/123") and e["received_ms"] > 0
    assert 0 < redis.ttl(keys.server_session(project_key, SESSION)) <= 24 * 3600
    stats = {k.decode(): int(v) for k, v in redis.hgetall(keys.server_stats(project_key)).items()}
    assert stats == {"accepted": 1}


def test_an_in_flight_record_is_filed_beside_the_final_event_that_replaces_it(client, redis, keys, project_key,
                                                                             server_key):
    final = event(type="request", request_id="6f1c2a9e4b7d4f0e", status=200, exception=None, logs=[])
    r = post(client, body(in_flight(), final), server_key)
    assert r.json == {"accepted": 2, "rejected": 0, "errors": []}
    running, done = stored(redis, keys.server_session(project_key, SESSION))
    assert (running["type"], running["request_id"], running["status"], running["elapsed_ms"]) == \
        ("in_flight", "6f1c2a9e4b7d4f0e", None, 1500.25)
    assert running["url"] == "https://shop.example/api/report?key=[masked]" and "duration_ms" not in running
    assert [f["function"] for f in running["stack"]] == ["report", "slow_query"] and running["frames_omitted"] == 0
    assert running["logs"][0]["message"] == "query over 1 s"
    assert (done["type"], done["request_id"], done["status"]) == ("request", "6f1c2a9e4b7d4f0e", 200)


def test_without_a_session_the_event_waits_by_route(client, redis, keys, project_key, server_key):
    for session in (None, "", "not a session id!"):
        assert post(client, body(event(session=session, url="/api/orders/9")), server_key).json["accepted"] == 1
    waiting = stored(redis, keys.server_route(project_key, route_of("POST", None, "/api/orders/9")))
    assert len(waiting) == 3 and {e["session"] for e in waiting} == {None}
    assert 0 < redis.ttl(keys.server_route(project_key, route_of("POST", None, "/api/orders/9"))) <= 3600


def test_headers_cookies_and_unknown_fields_are_never_stored(client, redis, keys, project_key, server_key):
    sent = event(headers={"Authorization": "Bearer sekrit-value-123456", "Cookie": "sid=sekrit"},
                 cookies={"sid": "sekrit"}, body="password=sekrit", url="https://u:pw@shop.example/a?password=sekrit")
    assert post(client, body(sent), server_key).json["accepted"] == 1
    raw = redis.lrange(keys.server_session(project_key, SESSION), 0, -1)[0].decode()
    assert "sekrit" not in raw and "pw@" not in raw
    assert json.loads(raw)["url"] == "https://[masked]@shop.example/a?password=[masked]"


BAD = [
    ("not json", "not JSON"),
    ("[1, 2]", "must be a JSON object"),
    (event(v=2), "v must be 1"),
    (event(v=True), "v must be 1"),
    (event(type="log"), 'type must be "request" or "in_flight"'),
    (event(request_id="has spaces"), "request_id must be"),
    (in_flight(request_id=None), "an in_flight event needs its request_id"),
    (in_flight(elapsed_ms=-3), "elapsed_ms -3 is outside"),
    (in_flight(elapsed_ms=None), "no elapsed_ms"),
    (in_flight(stack=[{"file": "a.py", "line": 1}]), "no stack[0].function"),
    (in_flight(stack="a.py:1"), "stack must be a list"),
    (event(method="GET /x"), "method"),
    (event(url="shop.example/x"), "url must be absolute"),
    (event(url=7), "url must be a string"),
    (event(status="500"), "status must be an integer"),
    (event(status=500.0), "status must be an integer"),
    (event(status=99), "outside"),
    (event(time_ms=1732270500), "outside"),  # seconds, not milliseconds
    (event(duration_ms=-1), "outside"),
    (event(duration_ms=True), "must be a number"),
    ('{"v":1,"type":"request","duration_ms":NaN}', "not a JSON number"),
    ('{"v":1,"type":"request","duration_ms":1e999}', "not finite"),
    (event(session=12), "session must be a string"),
    (event(exception="boom"), "exception must be an object"),
    (event(exception={"message": "x", "stack": []}), "no exception.type"),
    (event(exception={"type": "E", "stack": [{"file": "a.py", "line": -1, "function": "f"}]}), "stack[0].line"),
    (event(exception={"type": "E", "stack": [{"file": "a.py", "line": "1", "function": "f"}]}), "stack[0].line"),
    (event(exception={"type": "E", "stack": ["a.py:1"]}), "stack[0] must be an object"),
    (event(logs={"level": "ERROR"}), "logs must be a list"),
    (event(logs=[{"time_ms": int(time.time() * 1000), "level": "ERROR"}]), "no logs[0].message"),
    ("[" * 100_000 + "]" * 100_000, ""),
]


@pytest.mark.parametrize("line,reason", BAD, ids=range(len(BAD)))
def test_a_bad_event_is_refused_with_its_line_and_reason(client, server_key, line, reason):
    r = post(client, body(event(), "", line, event()), server_key)
    assert r.status_code == 200
    assert (r.json["accepted"], r.json["rejected"]) == (2, 1)
    [error] = r.json["errors"]
    assert error["line"] == 3 and reason in error["reason"]


def test_long_values_are_cut_keeping_where_it_raised(make_app, redis, keys):
    app = make_app(MAX_SERVER_STACK_FRAMES=3, MAX_SERVER_LOG_RECORDS=2, MAX_SERVER_MESSAGE_CHARS=50)
    project = app.extensions["replay"].accounts.create_project("p", ["https://p.example"]).key
    key = server_keys.issue(redis, keys, project)
    now = int(time.time() * 1000)
    stack = [{"file": f"f{i}.py", "line": i, "function": f"fn{i}", "code": None} for i in range(10)]
    logs = [{"time_ms": now, "level": "warning", "logger": "l", "message": f"m{i}"} for i in range(5)]
    sent = event(exception={"type": "E", "message": "x" * 500, "stack": stack}, logs=logs)
    assert post(app.test_client(), body(sent), key).json["accepted"] == 1
    [e] = stored(redis, keys.server_session(project, SESSION))
    assert [f["function"] for f in e["exception"]["stack"]] == ["fn7", "fn8", "fn9"]
    assert e["exception"]["frames_omitted"] == 7 and len(e["exception"]["message"]) == 50
    assert [r["message"] for r in e["logs"]] == ["m3", "m4"] and e["logs_omitted"] == 3
    assert e["logs"][0]["level"] == "WARNING"


def test_gzip_size_caps_and_an_oversized_event(make_app, redis, keys):
    app = make_app(MAX_SERVER_POST_BYTES=20_000, MAX_SERVER_POST_INFLATED_BYTES=100_000, MAX_SERVER_EVENT_CHARS=5_000)
    project = app.extensions["replay"].accounts.create_project("p", ["https://p.example"]).key
    key = server_keys.issue(redis, keys, project)
    client = app.test_client()
    r = post(client, gzip.compress(body(event(), event()).encode()), key, **{"Content-Encoding": "gzip"})
    assert r.json["accepted"] == 2
    big = event(exception={"type": "E", "message": "y" * 6_000, "stack": []})
    r = post(client, body(big, event()), key)
    assert (r.json["accepted"], r.json["rejected"]) == (1, 1) and "the limit is 5000" in r.json["errors"][0]["reason"]
    r = post(client, "x" * 20_001, key)
    assert r.status_code == 413 and r.json["error"]["code"] == "too_large"
    r = post(client, gzip.compress(b"\n" * 200_000), key, **{"Content-Encoding": "gzip"})
    assert r.status_code == 413 and "inflates" in r.json["error"]["message"]
    assert post(client, b"not gzip", key, **{"Content-Encoding": "gzip"}).status_code == 400
    assert post(client, b"x", key, **{"Content-Encoding": "br"}).status_code == 415


@pytest.mark.parametrize("auth", [None, "Bearer ", "Basic abc", "Bearer sk_unknown_key_000"])
def test_a_bad_key_is_a_401_json_error(client, server_key, auth):
    r = client.post("/ingest/server", data=body(event()), headers={"Authorization": auth} if auth else {})
    assert r.status_code == 401 and r.json["error"]["code"] == "unauthorized"


def test_the_public_browser_key_is_no_server_key(client, project_key, server_key):
    assert post(client, body(event()), project_key).status_code == 401


def test_redis_down_is_a_503_not_a_500(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0", SECRET_KEY="test")
    r = post(app.test_client(), body(event()), "sk_" + "a" * 29)
    assert r.status_code == 503 and r.json["error"]["code"] == "unavailable"
