"""Call details in Chromium through real nginx: a POST that 502s, with a password and a card number in its JSON body
and a token in its query. Opted in for /api/*: the viewer and the export show the body and query with those masked,
and the call's timing. Not opted in: no body anywhere, not even in the stored recording."""
from __future__ import annotations

import pytest

from tests.conftest import free_port
from tests.e2e.conftest import ARTIFACTS, poll, replay_cli, socket_frames
from tests.e2e.test_capture_502 import stored_events
from tests.e2e.test_viewer import login
from tests.nginx import running_nginx

PASSWORD, CARD, TOKEN = "hunter2-very-secret", "4111 1111 1111 1111", "tok_live_abc123"
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Checkout</title>
<script src="__SNIPPET__" data-project-key="__KEY__" async></script></head>
<body><h1>Checkout</h1><button id="pay" type="button">Pay</button><p id="result">Nothing sent yet.</p>
<script>
document.getElementById('pay').addEventListener('click', function () {
  fetch('/api/pay?token=__TOKEN__&step=2', {method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({email: 'ada@example.com', password: '__PASSWORD__', card: {number: '__CARD__'}, qty: 2})})
    .then(function (r) { return r.text().then(function () {
      document.getElementById('result').textContent = 'Status ' + r.status; window.__status = r.status; }); });
});
</script></body></html>"""


@pytest.fixture(scope="module")
def checkout(replay_env, replay_server, tmp_path_factory):
    """nginx serving /opted.html (a project opted in for /api/*) and /plain.html (one that is not); /api/ 502s."""
    port, dead_port = free_port(), free_port()
    origin = f"http://127.0.0.1:{port}"
    root = tmp_path_factory.mktemp("checkout")
    keys = {}
    for name in ("opted", "plain"):
        keys[name] = replay_cli(replay_env, "project", "create", f"checkout-{name}", "--origin", origin)
        html = PAGE.replace("__SNIPPET__", f"{replay_server}/snippet.js").replace("__KEY__", keys[name])
        html = html.replace("__TOKEN__", TOKEN).replace("__PASSWORD__", PASSWORD).replace("__CARD__", CARD)
        (root / f"{name}.html").write_text(html)
    replay_cli(replay_env, "project", "bodies", keys["opted"], "--url", "/api/*")
    locations = f"location / {{ root {root}; }}  location /api/ {{ proxy_pass http://127.0.0.1:{dead_port}; }}"
    with running_nginx(tmp_path_factory.mktemp("nginx-checkout"), port, locations):
        yield {"origin": origin, "keys": keys}


def pay(browser, url: str) -> str:
    """Open the page, click Pay, wait for nginx's 502; returns the session id."""
    context = browser.new_context()
    page = context.new_page()
    # The collector's ready (which names the bodies to capture) came before the click, as it does for a user:
    # a call failing before it waits for it, but the page closes soon after here.
    seen: list[str] = []  # what the page said and heard, for a failure's message
    frames = socket_frames(page, seen)
    page.on("console", lambda m: seen.append(f"console {m.type}: {m.text[:200]}"))
    page.on("requestfinished", lambda r: "/ingest/" in r.url and seen.append(f"{r.method} {r.url}"))
    page.goto(url)
    page.wait_for_function("window.Replay && window.Replay.getSessionURL && window.Replay.getSessionURL()")
    session_url = page.evaluate("window.Replay.getSessionURL()")
    try:
        poll(lambda: any('"ready"' in f for f in frames), timeout_s=30)
    except AssertionError:
        raise AssertionError("no ready from the collector in 30 s; the page saw:\n" + "\n".join(seen[:40])) from None
    page.click("#pay")
    page.wait_for_function("window.__status === 502")
    page.wait_for_timeout(500)
    context.close()
    return session_url.rsplit("/sessions/", 1)[1].split("?")[0]


def failure_of(api, session_id: str) -> dict:
    def found():
        detail = api(f"/api/sessions/{session_id}").json()
        return next((f for f in detail.get("network_failures") or [] if "/api/pay" in f["url"]), None)

    return poll(found, timeout_s=30)


def test_an_opted_in_call_shows_its_scrubbed_body_masked_query_and_timing(browser, checkout, api, replay_env,
                                                                         replay_server, viewer_login):
    session_id = pay(browser, checkout["origin"] + "/opted.html")
    failure = failure_of(api, session_id)
    assert (failure["method"], failure["status"]) == ("POST", 502)
    assert failure["url"] == checkout["origin"] + "/api/pay?token=[masked]&step=2"
    assert '"password":"[masked]"' in failure["request_body"] and '"card":"[masked]"' in failure["request_body"]
    assert '"email":"ada@example.com"' in failure["request_body"] and failure["request_body_scrubbed"] is True
    assert set(failure["timing"]) == {"dns", "connect", "tls", "ttfb", "download"}
    stored = str(stored_events(replay_env, session_id))
    assert PASSWORD not in stored and "4111" not in stored and TOKEN not in stored

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    login(page, replay_server, viewer_login, f"/sessions/{session_id}?call={failure['id']}")
    details = page.locator(f"li[data-call-id='{failure['id']}'] details")
    details.locator("table.waterfall").wait_for()
    # Headings are upper-cased by the style sheet: compared without case, so the check does not hang on its timing.
    text = details.inner_text()
    low = text.lower()
    assert "Waiting (TTFB)" in text and "Download" in text and "Phases" in text
    assert "query parameters\ntoken\t[masked] masked\nstep\t2" in low, low[low.find("query"):][:300]
    assert "request body scrubbed" in low and '"password":"[masked]"' in text and "ada@example.com" in text
    assert PASSWORD not in page.content() and "4111" not in page.content() and TOKEN not in page.content()
    details.locator("table.waterfall").evaluate("t => t.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(ARTIFACTS / "call-details.png"))
    page.set_viewport_size({"width": 1024, "height": 768})
    details.locator("table.waterfall").evaluate("t => t.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(ARTIFACTS / "call-details-1024.png"))

    exported = page.request.get(f"{replay_server}/sessions/{session_id}/export").text()
    assert "Request body" in exported and "Waiting (TTFB)" in exported and PASSWORD not in exported
    (ARTIFACTS / "call-details-export.html").write_text(exported)
    export = browser.new_page(viewport={"width": 1400, "height": 1000})
    export.goto((ARTIFACTS / "call-details-export.html").as_uri())
    export.locator("aside table.waterfall").evaluate("t => t.scrollIntoView({block: 'start'})")
    export.screenshot(path=str(ARTIFACTS / "call-details-export.png"))
    export.close()
    page.close()


def test_a_project_not_opted_in_records_no_body(browser, checkout, api, replay_env):
    session_id = pay(browser, checkout["origin"] + "/plain.html")
    failure = failure_of(api, session_id)
    assert failure["request_body"] is None and failure["timing"]
    assert failure["url"].endswith("/api/pay?token=[masked]&step=2")
    stored = stored_events(replay_env, session_id)
    [call] = [e["data"]["payload"] for e in stored if e.get("type") == 5 and "/api/pay" in str(e["data"])]
    assert "requestBody" not in call and PASSWORD not in str(stored)


def test_a_recovered_call_and_a_successful_ones_details_in_the_network_panel(browser, site, replay_env, replay_server,
                                                                            viewer_login):
    """Rows the panel builds itself (calls that did not fail) show the query, masked, and the timing; a recovered
    call shows no method and says where it came from, and its diagnosis claims nothing it cannot show."""
    from tests.e2e.recorded import call, now_ms, page_load, record

    t0 = now_ms()
    timing = {"dns": 2.1, "connect": 8.4, "tls": 12.6, "ttfb": 180.2, "download": 3.3}
    session_id = record(replay_env, site["origin"], site["key"], "sess_details_panel_01", [[
        *page_load(t0, site["origin"] + "/", "Search"),
        call(t0 + 5, 40, None, site["origin"] + "/api/me", 503, recovered=True, timing=timing),
        call(t0 + 300, 207, "GET", site["origin"] + "/api/search?q=red+shoes&api_key=abc123", 200, timing=timing),
    ]])
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    login(page, replay_server, viewer_login, f"/sessions/{session_id}")
    search = page.locator("ol.calls > li", has_text="/api/search")
    search.wait_for()
    search.locator("summary").click()
    text = search.inner_text()
    assert "query parameters\nq\tred shoes\napi_key\t[masked] masked" in text.lower() and "abc123" not in page.content()
    assert "Waiting (TTFB)" in text and "180.2 ms" in text and "206.6 ms" in text
    recovered = page.locator("ol.calls > li", has_text="/api/me")
    assert "—" in recovered.locator(".seek").inner_text() and "GET" not in recovered.inner_text()
    recovered.locator("summary").click()
    detail = recovered.inner_text()
    assert "unknown (recovered from resource timing)" in detail and "Recovered from the browser's resource timing" in detail
    assert "Its method, headers and body" in detail and "Empty response body" not in detail
    search.locator("table.waterfall").evaluate("t => t.scrollIntoView({block: 'center'})")
    page.screenshot(path=str(ARTIFACTS / "call-details-panel.png"))
    page.close()
