"""The web app on a real Redis, and a real HTTP server around it for socket tests."""
import json
import threading

import pytest
from werkzeug.serving import make_server

from replay.core.accounts import Accounts
from replay.app import create_app
from tests.conftest import KEEP_OLD_EVENTS
from replay.ingest.service import Connection
from worker import context, jobs

ORIGIN = "https://shop.example"
SESSION, WINDOW = "sess_api_0123456789ab", "win_api_0123456789ab"
T0 = 1_732_250_000_000
# The secret the recording browser binds its session to (protocol: hello.secret).
SECRET = "test_secret_0123456789"


def net(status, url, t, **extra):
    payload = {"method": "GET", "url": url, "status": status, "statusText": "Bad Gateway" if status == 502 else "OK",
               "initiator": "fetch", "startTime": t, "duration": 12.5, "failed": status >= 400 or status == 0, **extra}
    return {"type": 5, "timestamp": t, "data": {"tag": "replay.network", "payload": payload}}


@pytest.fixture
def recorded(app, project_key):
    """One session with a 502, ingested and flushed by the real job."""
    svc = app.extensions["replay"]
    conn = Connection(origin=ORIGIN)
    app.extensions["replay.ingest"].receive(conn, json.dumps({"type": "hello", "v": 1, "key": project_key, "secret": SECRET, "session": SESSION,
                                         "window": WINDOW, "url": ORIGIN + "/cart", "ua": "pytest"}))
    events = [
        {"type": 4, "timestamp": T0, "data": {"href": ORIGIN + "/cart", "width": 800, "height": 600}},
        {"type": 2, "timestamp": T0 + 1, "data": {"node": {"type": 0, "childNodes": [], "id": 1}, "initialOffset": {"top": 0, "left": 0}}},
        net(200, ORIGIN + "/api/ok", T0 + 100),
        net(502, ORIGIN + "/api/orders", T0 + 200, responseHeaders={"server": "nginx"}, responseBody="<h1>502 Bad Gateway</h1>"),
        {"type": 5, "timestamp": T0 + 300, "data": {"tag": "replay.identify", "payload": {"userId": "u-42", "traits": {}}}},
    ]
    app.extensions["replay.ingest"].receive(conn, json.dumps({"type": "batch", "seq": 1, "events": events}))
    context.configure(svc.settings)
    jobs.flush_session(SESSION)
    return SESSION


@pytest.fixture
def token(accounts):
    return accounts.create_token("test")


def log_in_as(app, client, email: str) -> str:
    """Give the test client a live login of `email` (an existing user), as the login form would; returns its id."""
    svc = app.extensions["replay"]
    password_id = (svc.redis.hget(svc.keys.user(email), "password_id") or b"").decode()
    login_id = svc.accounts.logins.create(email, password_id, svc.settings.LOGIN_TTL_S)
    with client.session_transaction() as s:
        s["login"] = login_id
    return login_id


@pytest.fixture
def viewer(app, client, accounts):
    """The test client, logged in as a viewer."""
    accounts.create_user("dev@example.com", "correct horse")
    log_in_as(app, client, "dev@example.com")
    return client


def get(client, path, token=None):
    """GET with a bearer token (or none)."""
    return client.get(path, headers={"Authorization": f"Bearer {token}"} if token else {})



@pytest.fixture
def app(redis_url, tmp_path):
    return create_app({"REDIS_URL": redis_url, "DATA_DIR": str(tmp_path / "data"), "MAX_MESSAGE_BYTES": 64 * 1024,
                       **KEEP_OLD_EVENTS})


@pytest.fixture
def make_app(redis_url, tmp_path):
    """Apps on the test Redis with other settings (short login windows, low limits)."""

    def make(**overrides):
        return create_app({"REDIS_URL": redis_url, "DATA_DIR": str(tmp_path / "data"), **overrides})

    return make


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def accounts(app):
    svc = app.extensions["replay"]
    return Accounts(svc.redis, svc.keys)


@pytest.fixture
def project_key(accounts):
    return accounts.create_project("shop", [ORIGIN]).key


@pytest.fixture
def live_server(app):
    """The app behind a real threaded HTTP server on a free port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()
