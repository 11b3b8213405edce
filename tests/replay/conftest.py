"""The web app on a real Redis, and a real HTTP server around it for socket tests."""
import threading

import pytest
from werkzeug.serving import make_server

from replay.accounts import Accounts
from replay.app import create_app

ORIGIN = "https://shop.example"


@pytest.fixture
def app(redis_url, tmp_path):
    return create_app({"REDIS_URL": redis_url, "DATA_DIR": str(tmp_path / "data"), "MAX_MESSAGE_BYTES": 64 * 1024})


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
