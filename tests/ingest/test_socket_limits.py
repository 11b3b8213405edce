"""The websocket's limits and failures, on a real server: timeouts, caps, a Redis that is gone, hostile input.

Every socket ends with a close frame and a code the snippet acts on; nothing
ends in a raw HTTP response inside the upgraded connection.
"""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager

import pytest
import requests
from redis import Redis
from werkzeug.serving import make_server

from replay.app import create_app
from tests.conftest import KEEP_OLD_EVENTS, free_port
from tests.ingest.test_websocket import closed_with, connect, hello
from tests.web_fixtures import ORIGIN, SECRET


@contextmanager
def served(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture
def make_app(redis_url, tmp_path):
    def make(**overrides):
        return create_app({"REDIS_URL": redis_url, "DATA_DIR": str(tmp_path / "data"), **KEEP_OLD_EVENTS,
                           **overrides})
    return make


def project(app) -> str:
    from replay.core.accounts import Accounts

    svc = app.extensions["replay"]
    return Accounts(svc.redis, svc.keys).create_project("shop", [ORIGIN]).key


def test_a_socket_that_never_says_hello_is_closed_with_4408(make_app):
    app = make_app(WS_HELLO_TIMEOUT_S=0.3)
    with served(app) as host:
        ws = connect(host)
        code, error = closed_with(ws)
        assert (code, error["code"]) == (4408, "hello_timeout")


def test_a_socket_that_goes_quiet_after_hello_is_closed_with_4408(make_app):
    app = make_app(WS_IDLE_TIMEOUT_S=0.3)
    key = project(app)
    with served(app) as host:
        ws = connect(host)
        ws.send(hello(key))
        assert json.loads(ws.recv())["type"] == "ready"
        code, error = closed_with(ws)
        assert (code, error["code"]) == (4408, "idle_timeout")


def test_sockets_over_the_per_ip_cap_are_closed_with_1013_and_a_slot_frees_on_close(make_app):
    app = make_app(MAX_SOCKETS_PER_IP=2)
    key = project(app)
    with served(app) as host:
        first, second = connect(host), connect(host)
        for ws in (first, second):
            ws.send(hello(key))
            assert json.loads(ws.recv())["type"] == "ready"
        third = connect(host)
        code, error = closed_with(third)
        assert (code, error["code"]) == (1013, "too_many_connections")
        first.close()
        fourth = connect(host)
        fourth.settimeout(5)
        for attempt in range(50):  # the server counts the closed socket out once its loop notices
            fourth.send(hello(key))
            reply = json.loads(fourth.recv())
            if reply["type"] == "ready":
                break
        assert reply["type"] == "ready"


def test_sockets_over_the_per_project_cap_are_closed_after_hello(make_app):
    app = make_app(MAX_SOCKETS_PER_PROJECT=1)
    key = project(app)
    with served(app) as host:
        first = connect(host)
        first.send(hello(key))
        assert json.loads(first.recv())["type"] == "ready"
        second = connect(host)
        second.send(hello(key))
        code, error = closed_with(second)
        assert (code, error["code"]) == (1013, "too_many_connections")


def test_a_non_finite_number_is_refused_with_4400(live_server, project_key):
    ws = connect(live_server)
    ws.send(hello(project_key))
    ws.recv()
    ws.send(json.dumps({"type": "batch", "seq": 1, "events": [{"type": 3, "timestamp": 1}]}).replace("1}]", "1e999}]"))
    code, error = closed_with(ws)
    assert (code, error["code"]) == (4400, "invalid_message")


def test_redis_gone_closes_the_socket_with_1011_and_http_answers_503(make_app, tmp_path):
    dead = Redis(port=free_port(), socket_connect_timeout=0.5, socket_timeout=0.5)
    app = create_app({"REDIS_URL": "redis://127.0.0.1:1/0", "DATA_DIR": str(tmp_path / "d"),
                      "SECRET_KEY": "test"}, redis=dead)
    with served(app) as host:
        ws = connect(host)
        ws.send(hello("pk_whatever_123"))
        code, error = closed_with(ws)
        assert (code, error["code"]) == (1011, "unavailable")
        body = {"v": 1, "key": "pk_whatever_123", "secret": SECRET, "session": "sess_0123456789abcdef",
                "window": "win_0123456789abcdef", "url": ORIGIN, "batches": [{"seq": 1, "events": []}]}
        r = requests.post(f"http://{host}/ingest/batch", data=json.dumps(body), headers={"Origin": ORIGIN})
        assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"


@pytest.mark.parametrize("bad", ['"ua":"\\ud800"', '"ua":"a\\udc00b"', '"url":"\\udfff"'])
def test_a_lone_surrogate_is_refused_with_4400_and_the_server_goes_on(live_server, project_key, bad):
    ws = connect(live_server)
    text = hello(project_key)
    field = bad.split(":")[0]
    text = text.replace(text[text.index(field):].split(",")[0], bad)
    ws.send(text)
    code, error = closed_with(ws)
    assert (code, error["code"]) == (4400, "invalid_message")
    again = connect(live_server)
    again.send(hello(project_key))
    assert json.loads(again.recv())["type"] == "ready"


def test_only_admitted_origins_may_read_ingest_answers(live_server, project_key):
    url = f"http://{live_server}/ingest/batch"
    body = {"v": 1, "key": project_key, "secret": SECRET, "session": "sess_0123456789abcdef",
            "window": "win_0123456789abcdef", "url": ORIGIN, "batches": [{"seq": 1, "events": []}]}
    evil = "https://evil.example"
    for key in (project_key, "pk_not_a_real_key"):
        r = requests.post(url, data=json.dumps({**body, "key": key}), headers={"Origin": evil})
        assert r.status_code == 403
        assert "Access-Control-Allow-Origin" not in r.headers  # evil cannot tell a real key from a made-up one
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    r = requests.post(url, data=json.dumps(body), headers={"Origin": ORIGIN})
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == ORIGIN
    r = requests.post(url, data=json.dumps({**body, "batches": [{"seq": 1, "events": "x"}]}), headers={"Origin": ORIGIN})
    assert r.status_code == 400 and "Access-Control-Allow-Origin" not in r.headers
    assert "Access-Control-Allow-Origin" not in requests.options(url, headers={"Origin": evil}).headers
    assert requests.options(url, headers={"Origin": ORIGIN}).headers["Access-Control-Allow-Origin"] == ORIGIN


def test_a_session_conflict_is_readable_by_the_projects_own_page(live_server, project_key):
    # The snippet must see why it was refused (and stop), not a network error it retries forever.
    url = f"http://{live_server}/ingest/batch"
    body = {"v": 1, "key": project_key, "secret": SECRET, "session": "sess_taken_0123456789",
            "window": "win_0123456789abcdef", "url": ORIGIN, "batches": [{"seq": 1, "events": []}]}
    assert requests.post(url, data=json.dumps(body), headers={"Origin": ORIGIN}).status_code == 200
    r = requests.post(url, data=json.dumps({**body, "secret": "another_browsers_secret"}), headers={"Origin": ORIGIN})
    assert r.status_code == 403 and r.json()["error"]["code"] == "session_conflict"
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
