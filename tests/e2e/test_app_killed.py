"""The app's process killed mid-request, end to end: Chromium on a page behind a real nginx that proxies /api/ to a
real Flask app wrapped by the SDK (tests/e2e/sdk_app.py), logging to `replay serve` over syslog. A click starts a
request the app hangs on; once the SDK has sent it as in flight, the app is SIGKILLed; nginx answers 502 (upstream
prematurely closed connection). The call says "Confirmed" upstream_closed_early, and what the app was doing."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from redis import Redis

from replay.core.keys import RedisKeys
from tests.conftest import free_port, wait_for_port
from tests.e2e.conftest import ARTIFACTS, poll, replay_cli
from tests.e2e.test_app_join import joined_calls
from tests.e2e.test_viewer import login
from tests.nginx import REPLAY_LOG_FORMAT, running_nginx

ROOT = Path(__file__).resolve().parents[2]
KEYS = RedisKeys("replay:")
HANGING_LINE = "time.sleep(30)"
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<script src="__SNIPPET__" data-project-key="__KEY__" async></script></head>
<body><h1>Reports</h1><button id="report">Build the report</button><p id="result">Nothing sent yet.</p>
<script>
window.__done = [];
document.getElementById('report').addEventListener('click', function () {
  fetch('/api/slow').then(function (r) { window.__done.push(r.status);
    document.getElementById('result').textContent = 'Report: ' + r.status; });
});
</script></body></html>"""


@pytest.fixture
def shop(replay_env, replay_server, tmp_path_factory):
    """Its own app process (the test kills it) and nginx in front of it."""
    port, app_port = free_port(), free_port()
    origin = f"http://127.0.0.1:{port}"
    key = replay_cli(replay_env, "project", "create", "app-killed-shop", "--origin", origin)
    server_key = replay_cli(replay_env, "project", "server-key", key)
    root = tmp_path_factory.mktemp("killed-shop")
    (root / "index.html").write_text(PAGE.replace("__SNIPPET__", f"{replay_server}/snippet.js").replace("__KEY__", key))
    env = {**os.environ, "REPLAY_ENDPOINT": replay_server, "REPLAY_SERVER_KEY": server_key,
           "REPLAY_SERVICE": "reports", "REPLAY_RELEASE": "e2e-9", "REPLAY_IN_FLIGHT_AFTER_MS": "1000"}
    with open(root / "app.log", "w") as out:
        app = subprocess.Popen([sys.executable, "-m", "tests.e2e.sdk_app", str(app_port)], cwd=ROOT, env=env,
                               stdout=out, stderr=subprocess.STDOUT)
    target = replay_env["REPLAY_SYSLOG_ADDR"]
    try:
        wait_for_port(app_port)
        http = f"access_log syslog:server={target},tag={server_key},nohostname replay;"
        main = f"error_log syslog:server={target},tag={server_key},nohostname warn;"
        locations = (f"location /api/ {{ proxy_pass http://127.0.0.1:{app_port}; proxy_set_header Host $host; }}"
                     f" location / {{ root {root}; }}")
        with running_nginx(tmp_path_factory.mktemp("nginx-killed"), port, locations, http=http, main=main,
                           log_format=REPLAY_LOG_FORMAT):
            yield {"origin": origin, "project": key, "app": app,
                   "redis": Redis.from_url(replay_env["REPLAY_REDIS_URL"])}
    finally:
        if app.poll() is None:
            app.kill()
        app.wait(10)


def test_the_app_killed_mid_request_shows_upstream_closed_early_with_what_it_was_doing(browser, shop, api,
                                                                                       replay_server, viewer_login):
    context = browser.new_context()
    page = context.new_page()
    page.goto(shop["origin"] + "/")
    page.wait_for_function("window.Replay && window.Replay.getSessionURL && window.Replay.getSessionURL()")
    session_id = page.evaluate("window.Replay.getSessionURL()").rsplit("/sessions/", 1)[1].split("?")[0]
    page.click("#report")

    def in_flight():
        raw = shop["redis"].lrange(KEYS.server_session(shop["project"], session_id), 0, -1)
        return [e for e in map(json.loads, raw) if e["type"] == "in_flight"]

    [record] = poll(in_flight, timeout_s=15)  # the SDK sent it while the app still hung on the request
    assert page.evaluate("window.__done") == []
    shop["app"].send_signal(signal.SIGKILL)  # no atexit, no handler: only what was sent before survives
    assert shop["app"].wait(10) == -signal.SIGKILL
    page.wait_for_function("window.__done.length === 1", timeout=15_000)
    assert page.evaluate("window.__done") == [502]
    page.wait_for_timeout(500)
    context.close()

    [call] = joined_calls(api, session_id)
    d, server = call["diagnosis"], call["server"]
    assert (d["cause"], d["confirmed"], d["matched_by"]) == ("upstream_closed_early", True, "session"), d
    assert any("upstream prematurely closed connection" in line for line in d["evidence"]), d["evidence"]
    assert d["summary"].startswith("The app's process ended while it was still working on this request (")
    assert ", at slow (" in d["summary"] and "tests/e2e/sdk_app.py:" in d["summary"]
    assert (server["type"], server["status"], server["request_id"]) == ("in_flight", None, record["request_id"])
    assert (server["service"], server["release"], server["matched_by"]) == ("reports", "e2e-9", "session")
    assert 1000 <= server["elapsed_ms"] < 15_000
    at = server["stack"][server["at_frame"]]
    assert (at["function"], at["code"]) == ("slow", HANGING_LINE) and at["file"].endswith("tests/e2e/sdk_app.py")

    viewer = browser.new_page(viewport={"width": 1400, "height": 1000})
    login(viewer, replay_server, viewer_login, f"/sessions/{session_id}?call={call['id']}")
    details = viewer.locator(f"li[data-call-id='{call['id']}'] details")
    raised = details.locator("section.app-raised")
    raised.wait_for()
    title = details.locator("section.diagnosis .diag-title").inner_text()
    assert title.startswith("Confirmed:") and "(upstream_closed_early)" in title
    assert "The app's process ended while it was still working" in details.locator("section.diagnosis").inner_text()
    text = raised.locator("p.app-in-flight").inner_text()
    assert text.startswith("The app was still working on this request when its process ended: ")
    assert f" in, at slow (" in text and f"sdk_app.py:{at['line']})" in text
    assert raised.locator("li.raised pre.frame-code").inner_text() == HANGING_LINE
    assert "no answer: still in flight after" in raised.inner_text()
    details.locator("section.diagnosis").evaluate("s => s.scrollIntoView({block: 'start'})")
    viewer.screenshot(path=str(ARTIFACTS / "app-killed-in-flight.png"))
    raised.locator("p.app-in-flight").evaluate("p => p.scrollIntoView({block: 'start'})")
    viewer.screenshot(path=str(ARTIFACTS / "app-killed-in-flight-stack.png"))

    exported = viewer.request.get(f"{replay_server}/sessions/{session_id}/export").text()
    assert "The app was still working on this request when its process ended" in exported
    viewer.close()
