"""What the app raised, under the failed call, end to end: Chromium on a page behind a real nginx that proxies /api/
to a real Flask app wrapped by the SDK (tests/e2e/sdk_app.py) and logs to `replay serve` over syslog. A click makes
the app raise; the call's details say "Confirmed" app_error with the exception and the line that raised."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port, wait_for_port
from tests.e2e.conftest import ARTIFACTS, poll, replay_cli
from tests.e2e.test_viewer import login
from tests.nginx import REPLAY_LOG_FORMAT, running_nginx

ROOT = Path(__file__).resolve().parents[2]
RAISING_LINE = 'total = prices["total"] * 2  # the line that raises'
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<script src="__SNIPPET__" data-project-key="__KEY__" async></script></head>
<body><h1>Order 42</h1><button id="total">Show the total</button><p id="result">Nothing sent yet.</p>
<script>
window.__done = [];
document.getElementById('total').addEventListener('click', function () {
  fetch('/api/orders/42?view=full').then(function (r) { window.__done.push(r.status);
    document.getElementById('result').textContent = 'Order 42: ' + r.status; });
});
</script></body></html>"""


@pytest.fixture(scope="module")
def shop(replay_env, replay_server, tmp_path_factory):
    port, app_port = free_port(), free_port()
    origin = f"http://127.0.0.1:{port}"
    key = replay_cli(replay_env, "project", "create", "app-join-shop", "--origin", origin)
    server_key = replay_cli(replay_env, "project", "server-key", key)
    root = tmp_path_factory.mktemp("app-shop")
    (root / "index.html").write_text(PAGE.replace("__SNIPPET__", f"{replay_server}/snippet.js").replace("__KEY__", key))
    env = {**os.environ, "REPLAY_ENDPOINT": replay_server, "REPLAY_SERVER_KEY": server_key,
           "REPLAY_SERVICE": "shop", "REPLAY_RELEASE": "e2e-7"}
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
        with running_nginx(tmp_path_factory.mktemp("nginx-app"), port, locations, http=http, main=main,
                           log_format=REPLAY_LOG_FORMAT):
            yield {"origin": origin}
    finally:
        app.terminate()
        app.wait(10)


def joined_calls(api, session_id: str) -> list[dict]:
    """The session's failed calls once the first carries both the app's event and the proxy's line."""
    def joined():
        r = api(f"/api/sessions/{session_id}/calls")
        calls = [c for c in r.json().get("calls", []) if c.get("failed")] if r.status_code == 200 else []
        return calls if calls and calls[0].get("server") and calls[0].get("proxy") else None

    return poll(joined, timeout_s=60)


def test_the_app_raising_on_a_click_shows_confirmed_app_error_with_the_raising_line(browser, shop, api,
                                                                                    replay_server, viewer_login):
    context = browser.new_context()
    page = context.new_page()
    page.goto(shop["origin"] + "/")
    page.wait_for_function("window.Replay && window.Replay.getSessionURL && window.Replay.getSessionURL()")
    session_id = page.evaluate("window.Replay.getSessionURL()").rsplit("/sessions/", 1)[1].split("?")[0]
    page.click("#total")
    page.wait_for_function("window.__done.length === 1", timeout=15_000)
    assert page.evaluate("window.__done") == [500]
    page.wait_for_timeout(500)
    context.close()

    [call] = joined_calls(api, session_id)
    d, server = call["diagnosis"], call["server"]
    assert (d["cause"], d["confirmed"], d["matched_by"]) == ("app_error", True, "session"), d
    assert d["title"].startswith("Confirmed: the app raised KeyError: 'total' in order (")
    assert "tests/e2e/sdk_app.py:" in d["title"] and d["summary"].startswith("Fix order at ")
    assert (server["status"], server["service"], server["release"]) == (500, "shop", "e2e-7")
    raising = server["exception"]["stack"][-1]
    assert raising["code"] == RAISING_LINE
    assert any(line == "app log WARNING shop.orders: order 42 has no price" for line in d["evidence"])
    # The proxy saw the same 500 (no error line: the app answered), and says so beside it.
    assert call["proxy"]["status"] == 500 and call["proxy"]["error_log"] == []

    viewer = browser.new_page(viewport={"width": 1400, "height": 1000})
    login(viewer, replay_server, viewer_login, f"/sessions/{session_id}?call={call['id']}")
    details = viewer.locator(f"li[data-call-id='{call['id']}'] details")
    raised = details.locator("section.app-raised")
    raised.wait_for()
    title = details.locator("section.diagnosis .diag-title").inner_text()
    assert title.startswith("Confirmed: the app raised KeyError") and "(app_error)" in title
    text = raised.inner_text()
    assert "KeyError: 'total'" in text and RAISING_LINE in text and "matched by session" in text.lower()
    assert f"sdk_app.py:{raising['line']} in order" in text
    assert "order 42 has no price" in text and "shop · release e2e-7" in text
    assert raised.locator("li.raised pre.frame-code").inner_text() == RAISING_LINE
    details.locator("section.diagnosis").evaluate("s => s.scrollIntoView({block: 'start'})")
    viewer.screenshot(path=str(ARTIFACTS / "app-join-raised.png"))
    viewer.set_viewport_size({"width": 1024, "height": 768})
    raised.evaluate("s => s.scrollIntoView({block: 'center'})")
    viewer.screenshot(path=str(ARTIFACTS / "app-join-raised-1024.png"))

    exported = viewer.request.get(f"{replay_server}/sessions/{session_id}/export").text()
    assert "What the app raised" in exported and "Confirmed: the app raised KeyError" in exported
    viewer.close()
