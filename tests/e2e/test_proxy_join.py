"""The proxy's own account under the failed call, end to end: Chromium on a page behind a real nginx whose logs go
to `replay serve` over syslog; /api calls fail three ways (nothing listens, the upstream closes without answering,
the upstream outlasts proxy_read_timeout 1s). The viewer and the API say "Confirmed" with the cause and show
the proxy's error line, matched by session."""
from __future__ import annotations

import time

import pytest
import requests

from tests.conftest import free_port
from tests.e2e.conftest import ARTIFACTS, poll, replay_cli
from tests.e2e.test_viewer import login
from tests.nginx import REPLAY_LOG_FORMAT, running_nginx
from tests.nginx_upstreams import failure_config

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<script src="__SNIPPET__" data-project-key="__KEY__" async></script></head>
<body><h1>Shop</h1><p id="result">Nothing sent yet.</p>
<script>
window.__done = [];
window.call = function (path) {
  // A response the browser refused (nginx relaying an upstream's HTTP/0.9 bytes) counts as status 0.
  return fetch(path).then(function (r) { return r.status; }, function () { return 0; }).then(function (status) {
    window.__done.push(status); document.getElementById('result').textContent = path + ': ' + status; });
};
</script></body></html>"""
# (path the page fetches, status, cause, words the headline or the fix must hold)
CASES = [("/fail/refused?order=7", 502, "upstream_refused", "refused nginx's connection"),
         ("/fail/closed?order=8", 502, "upstream_closed_early", "closed the connection without answering"),
         ("/fail/slow?order=9", 504, "upstream_timeout", "proxy_read_timeout")]


@pytest.fixture(scope="module")
def shop(replay_env, replay_server, tmp_path_factory):
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    key = replay_cli(replay_env, "project", "create", "proxied-shop", "--origin", origin)
    server_key = replay_cli(replay_env, "project", "server-key", key)
    root = tmp_path_factory.mktemp("shop")
    page = PAGE.replace("__SNIPPET__", f"{replay_server}/snippet.js").replace("__KEY__", key)
    (root / "index.html").write_text(page)
    # The correlation header only for /nothing/: the page's calls reach nginx without a session id.
    (root / "unkeyed.html").write_text(page.replace("async>", 'data-correlation-paths="/nothing/" async>'))
    target = replay_env["REPLAY_SYSLOG_ADDR"]
    files = tmp_path_factory.mktemp("late-logs")
    with failure_config() as (http, locations):
        http += f"\n access_log syslog:server={target},tag={server_key},nohostname replay;"
        main = f"error_log syslog:server={target},tag={server_key},nohostname warn;"
        locations += f" location / {{ root {root}; }}"
        # /late/ logs to files only: its lines reach replay later, posted as `replay logs ship` would.
        locations += (f" location /late/ {{ access_log {files}/access.log replay; error_log {files}/error.log warn;"
                      f" proxy_pass http://127.0.0.1:{free_port()}; }}")
        with running_nginx(tmp_path_factory.mktemp("nginx-join"), port, locations, http=http, main=main,
                           log_format=REPLAY_LOG_FORMAT):
            yield {"origin": origin, "server_key": server_key, "files": files}


def shop_session(browser, shop, cases=CASES, page_path="/") -> str:
    context = browser.new_context()
    page = context.new_page()
    page.goto(shop["origin"] + page_path)
    page.wait_for_function("window.Replay && window.Replay.getSessionURL && window.Replay.getSessionURL()")
    session_url = page.evaluate("window.Replay.getSessionURL()")
    for n, (path, status, _, _) in enumerate(cases, 1):
        page.evaluate(f"window.call({path!r})")
        page.wait_for_function(f"window.__done.length === {n}", timeout=15_000)
    assert page.evaluate("window.__done") == [status for _, status, _, _ in cases]
    page.wait_for_timeout(500)
    context.close()
    return session_url.rsplit("/sessions/", 1)[1].split("?")[0]


def test_failed_calls_behind_nginx_show_the_confirmed_cause_and_the_proxy_line(browser, shop, api, replay_server,
                                                                              viewer_login):
    session_id = shop_session(browser, shop)

    def joined():
        r = api(f"/api/sessions/{session_id}/calls")
        calls = [c for c in r.json().get("calls", []) if c.get("failed")] if r.status_code == 200 else []
        return calls if len(calls) == 3 and all(c["diagnosis"]["confirmed"] for c in calls) else None

    calls = poll(joined, timeout_s=60)
    by_path = {c["url"].split("/", 3)[3].split("?")[0]: c for c in calls}
    for path, status, cause, words in CASES:
        call = by_path[path.lstrip("/").split("?")[0]]
        d, proxy = call["diagnosis"], call["proxy"]
        assert (call["status"], d["cause"], d["confirmed"], d["matched_by"]) == (status, cause, True, "session"), d
        assert d["title"].startswith("Confirmed: ") and words in d["title"] + d["summary"]
        assert proxy["status"] == status and proxy["uri"] == path and proxy["via"] == "syslog"
        assert proxy["upstreams"] and proxy["upstreams"][0]["addr"].startswith("127.0.0.1:")
        assert proxy["error_log"] and proxy["error_log"][-1]["cause"] == cause
    slow = by_path["fail/slow"]["diagnosis"]
    assert "proxy_read_timeout" in slow["summary"] and "1.0 s" in slow["summary"]

    refused = by_path["fail/refused"]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    login(page, replay_server, viewer_login, f"/sessions/{session_id}?call={refused['id']}")
    details = page.locator(f"li[data-call-id='{refused['id']}'] details")
    details.locator("section.proxy-logged").wait_for()
    card = details.locator("section.diagnosis")
    assert card.get_attribute("class").split()[-1] == "confirmed"
    assert card.locator(".diag-title").inner_text().startswith("Confirmed: 127.0.0.1:")
    assert "(upstream_refused)" in card.locator(".diag-title").inner_text()
    logged = details.locator("section.proxy-logged").inner_text()
    assert "matched by session" in logged.lower() and "connect() failed (111: Connection refused)" in logged
    assert refused["proxy"]["request_id"] in logged
    details.locator("section.proxy-logged").evaluate("s => s.scrollIntoView({block: 'center'})")
    page.screenshot(path=str(ARTIFACTS / "proxy-join-refused.png"))
    page.set_viewport_size({"width": 1024, "height": 768})
    details.locator("section.proxy-logged").evaluate("s => s.scrollIntoView({block: 'center'})")
    page.screenshot(path=str(ARTIFACTS / "proxy-join-refused-1024.png"))

    slow_id = by_path["fail/slow"]["id"]
    page.goto(f"{replay_server}/sessions/{session_id}?call={slow_id}")
    slow_details = page.locator(f"li[data-call-id='{slow_id}'] details")
    slow_details.locator("section.proxy-logged").wait_for()
    assert "upstream timed out (110" in slow_details.locator("section.proxy-logged").inner_text()
    slow_details.locator("section.diagnosis").evaluate("s => s.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(ARTIFACTS / "proxy-join-timeout-1024.png"))

    exported = page.request.get(f"{replay_server}/sessions/{session_id}/export").text()
    assert exported.count("What the proxy logged") == 3 and "Confirmed: " in exported
    (ARTIFACTS / "proxy-join-export.html").write_text(exported)
    export = browser.new_page(viewport={"width": 1400, "height": 1000})
    export.goto((ARTIFACTS / "proxy-join-export.html").as_uri())
    export.locator("section.proxy-logged").first.evaluate("s => s.scrollIntoView({block: 'center'})")
    export.screenshot(path=str(ARTIFACTS / "proxy-join-export.png"))
    export.close()
    page.close()


def failed_calls(api, session_id):
    r = api(f"/api/sessions/{session_id}/calls")
    return [c for c in r.json().get("calls", []) if c.get("failed")] if r.status_code == 200 else []


def test_a_call_without_the_session_header_is_matched_by_time_and_url(browser, shop, api, replay_server,
                                                                      viewer_login):
    session_id = shop_session(browser, shop, [("/fail/closed?order=10", 502, None, None)], "/unkeyed.html")
    [call] = poll(lambda: [c for c in failed_calls(api, session_id) if c["diagnosis"]["confirmed"]], timeout_s=60)
    d = call["diagnosis"]
    assert (d["cause"], d["matched_by"], call["proxy"]["matched_by"]) == ("upstream_closed_early", "time_url",
                                                                          "time_url")
    assert any(e.startswith("Matched by time and URL, not by session") for e in d["evidence"])
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    login(page, replay_server, viewer_login, f"/sessions/{session_id}?call={call['id']}")
    logged = page.locator(f"li[data-call-id='{call['id']}'] section.proxy-logged")
    logged.wait_for()
    assert "matched by time and url, not by session" in logged.inner_text().lower()
    assert "upstream prematurely closed connection" in logged.inner_text()
    page.close()


def test_lines_posted_after_the_session_was_stored_show_under_the_call(browser, shop, api, replay_server):
    session_id = shop_session(browser, shop, [("/late/refused?order=11", 502, None, None)])
    # Stored, the call listed, with nothing from the proxy yet: its lines are still in nginx's files.
    [call] = poll(lambda: failed_calls(api, session_id), timeout_s=60)
    assert call["proxy"] is None and call["diagnosis"]["confirmed"] is False
    lines = [line for name in ("error.log", "access.log") for line in
             poll(lambda: (shop["files"] / name).read_text().splitlines(), timeout_s=10)]
    posted = time.monotonic()
    r = requests.post(replay_server + "/ingest/logs", data="\n".join(lines),
                      headers={"Authorization": f"Bearer {shop['server_key']}"}, timeout=10)
    assert r.status_code == 200 and r.json()["rejected"] == 0, r.json()
    [call] = poll(lambda: [c for c in failed_calls(api, session_id) if c["diagnosis"]["confirmed"]], timeout_s=60,
                  interval_s=0.1)
    took = time.monotonic() - posted
    print(f"late proxy line to under the call: {took:.2f} s")
    d = call["diagnosis"]
    assert (d["cause"], d["matched_by"], call["proxy"]["via"]) == ("upstream_refused", "session", "http")
    assert took < 15
