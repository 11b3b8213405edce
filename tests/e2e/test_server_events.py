"""A real Flask app with the SDK, behind a real nginx, reporting to a running `replay serve`: a call that fails in
the app arrives under its session with the exception and the raising line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from redis import Redis

from replay.core.keys import RedisKeys
from tests.conftest import free_port, wait_for_port
from tests.e2e.conftest import poll, replay_cli
from tests.nginx import running_nginx

KEYS = RedisKeys("replay:")
ROOT = Path(__file__).resolve().parents[2]
SESSION = "sess_e2e_sdk_0123456789"


@pytest.fixture(scope="module")
def shop(replay_env, replay_server, tmp_path_factory):
    project = replay_cli(replay_env, "project", "create", "sdk-shop", "--origin", "http://127.0.0.1")
    server_key = replay_cli(replay_env, "project", "server-key", project)
    app_port, port = free_port(), free_port()
    folder = tmp_path_factory.mktemp("sdk-app")
    env = {**os.environ, "REPLAY_ENDPOINT": replay_server, "REPLAY_SERVER_KEY": server_key,
           "REPLAY_SERVICE": "shop", "REPLAY_RELEASE": "e2e-1"}
    with open(folder / "app.log", "w") as out:
        app = subprocess.Popen([sys.executable, "-m", "tests.e2e.sdk_app", str(app_port)], cwd=ROOT, env=env,
                               stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(app_port)
        locations = f"location /api/ {{ proxy_pass http://127.0.0.1:{app_port}; proxy_set_header Host $host; }}"
        with running_nginx(folder, port, locations):
            yield {"url": f"http://127.0.0.1:{port}", "project": project, "app": app,
                   "redis": Redis.from_url(replay_env["REPLAY_REDIS_URL"]), "log": folder / "app.log"}
    finally:
        app.terminate()
        app.wait(10)


def filed(shop, session):
    return [json.loads(v) for v in shop["redis"].lrange(KEYS.server_session(shop["project"], session), 0, -1)]


def test_the_apps_exception_arrives_under_the_session(shop):
    r = requests.get(shop["url"] + "/api/orders/42?access_token=abc123&view=full",
                     headers={"X-Replay-Session": SESSION, "Cookie": "sid=never-sent"}, timeout=10)
    assert r.status_code == 500
    [event] = poll(lambda: filed(shop, SESSION))
    assert (event["method"], event["status"], event["service"], event["release"]) == ("GET", 500, "shop", "e2e-1")
    # nginx passed the public host ($host: no port, as in its access line); the token never left the app.
    assert event["url"] == "http://127.0.0.1/api/orders/42?access_token=[masked]&view=full"
    assert event["exception"]["type"] == "KeyError" and event["exception"]["message"] == "'total'"
    raising = event["exception"]["stack"][-1]
    assert raising["function"] == "order" and raising["file"].endswith("tests/e2e/sdk_app.py")
    assert raising["code"] == 'total = prices["total"] * 2  # the line that raises'
    source = (ROOT / "tests/e2e/sdk_app.py").read_text().splitlines()
    assert source[raising["line"] - 1].strip() == raising["code"]
    assert event["logs"][0]["message"] == "order 42 has no price" and event["logs"][0]["level"] == "WARNING"
    assert "never-sent" not in json.dumps(event)


def test_a_good_call_sends_nothing_and_a_call_without_session_waits_by_route(shop):
    assert requests.get(shop["url"] + "/api/ok", headers={"X-Replay-Session": SESSION + "ok"}, timeout=10).ok
    assert requests.get(shop["url"] + "/api/orders/7", timeout=10).status_code == 500
    from replay.core.proxy_logs.access_log import route_of

    route = route_of("GET", "127.0.0.1", "/api/orders/7")
    [event] = poll(lambda: [json.loads(v) for v in
                            shop["redis"].lrange(KEYS.server_route(shop["project"], route), 0, -1)])
    assert event["session"] is None and event["exception"]["type"] == "KeyError"
    assert filed(shop, SESSION + "ok") == []
