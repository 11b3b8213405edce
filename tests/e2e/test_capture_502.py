"""The whole pipeline on a real 502: Chromium → snippet → replay serve → Redis/RQ → replay worker → S3 → API and replay page."""
from __future__ import annotations

import gzip
import json
import re

from minio import Minio

from tests.e2e.conftest import ARTIFACTS, poll

TYPED_PASSWORD = "hunter2-very-secret"
TYPED_NAME = "Ada Lovelace"


def place_order(browser, site, close_right_after: bool = False, block_websocket: bool = False) -> str:
    """Open the site, type, click; returns the session id the snippet reports."""
    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    if block_websocket:
        page.route_web_socket(re.compile(r".*/ingest/ws$"), lambda ws: ws.close(code=1011, reason="blocked by test"))
    page.goto(site["url"])
    page.wait_for_function("window.Replay && window.Replay.getSessionURL && window.Replay.getSessionURL()")
    page.fill("#name", TYPED_NAME)
    page.fill("#password", TYPED_PASSWORD)
    session_url = page.evaluate("window.Replay.getSessionURL()")
    page.click("#place")
    page.wait_for_function("window.__lastStatus === 502")
    if close_right_after:
        page.evaluate("console.warn('last words before closing')")
        context.close()
    else:
        page.wait_for_timeout(300)
        context.close()
    # The page's own exception is the only page error: the snippet added none.
    assert errors == ["orders widget exploded"], errors
    return session_url.rsplit("/sessions/", 1)[1].split("?")[0]


def stored_events(replay_env, session_id: str) -> list[dict]:
    client = Minio(replay_env["REPLAY_S3_ENDPOINT"], access_key=replay_env["REPLAY_S3_ACCESS_KEY"],
                   secret_key=replay_env["REPLAY_S3_SECRET_KEY"], secure=False, region="us-east-1")
    events = []
    for obj in client.list_objects(replay_env["REPLAY_S3_BUCKET"], prefix=f"sessions/{session_id}/", recursive=True):
        if obj.object_name.endswith(".json.gz"):
            data = json.loads(gzip.decompress(client.get_object(replay_env["REPLAY_S3_BUCKET"], obj.object_name).read()))
            for batch in data["batches"]:
                events.extend(batch["events"])
    return events


def wait_for_failure(api, session_id: str) -> dict:
    def found():
        listed = api("/api/sessions", status="502").json().get("sessions", [])
        if not any(s["session"] == session_id for s in listed):
            return None
        detail = api(f"/api/sessions/{session_id}").json()
        if detail.get("network_failures") and detail.get("counts", {}).get("exceptions"):
            return detail
        return None

    return poll(found, timeout_s=30)


def custom(events, tag):
    return [e["data"]["payload"] for e in events if e.get("type") == 5 and e.get("data", {}).get("tag") == tag]


def test_a_502_is_captured_end_to_end(browser, site, api, replay_env, replay_server, viewer_login):
    session_id = place_order(browser, site)
    detail = wait_for_failure(api, session_id)

    # The failed call, as the developer needs it.
    [failure] = [f for f in detail["network_failures"] if "/api/orders" in f["url"]]
    assert failure["method"] == "POST"
    assert failure["url"] == site["origin"] + "/api/orders?cart=42"
    assert failure["status"] == 502
    assert failure["response_headers"]["server"].startswith("nginx")
    assert "502 Bad Gateway" in failure["response_body"]
    assert failure["duration_ms"] >= 0
    # The request's headers are recorded, but the page's secret one never leaves the browser.
    headers = {k.lower(): v for k, v in failure["request_headers"].items()}
    assert headers.get("content-type") == "application/json", headers
    assert "authorization" not in headers, headers

    # Console error and exception are on the record.
    messages = [e["message"] for e in detail["errors"]]
    assert any("orders widget exploded" in m for m in messages), messages
    assert any("about to call the API" in m for m in messages), messages

    # The recording is in object storage, and the typed password is masked in it.
    events = stored_events(replay_env, session_id)
    assert any(e["type"] == 2 for e in events), "no full snapshot stored"
    raw = json.dumps(events)
    assert TYPED_PASSWORD not in raw
    assert "page-secret" not in raw and "page-secret" not in json.dumps(detail)
    assert any(p["status"] == 502 for p in custom(events, "replay.network"))

    # nginx's log line carries the session id, so proxy logs join the replay.
    assert re.search(rf"^POST /api/orders 502 [0-9.]+ session={session_id}$", site["access_log"].read_text(), re.M)

    # The replay page shows the recorded page.
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{replay_server}/sessions/{session_id}")
    email, password = viewer_login
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("#player[data-ready=true]", timeout=15000)
    frame = page.frame_locator("#player iframe")
    frame.locator("h1").wait_for(timeout=10000)
    assert frame.locator("h1").inner_text() == "Acme Orders"
    assert page.locator("ol.calls li.failed").inner_text().count("502") >= 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "replay-page.png"), full_page=True)
    context.close()


def last_words_stored(replay_env, session_id: str) -> list[dict]:
    """The stored events, once the console line logged just before the page closed is among them."""
    def found():
        events = stored_events(replay_env, session_id)
        logs = custom(events, "replay.console")
        return events if any("last words before closing" in " ".join(l["args"]) for l in logs) else None

    return poll(found, timeout_s=20)


def test_closing_right_after_the_failure_loses_nothing(browser, site, api, replay_env):
    session_id = place_order(browser, site, close_right_after=True)
    detail = wait_for_failure(api, session_id)
    assert any(f["status"] == 502 for f in detail["network_failures"])
    events = last_words_stored(replay_env, session_id)
    assert any(e["type"] == 2 for e in events)


def test_without_a_websocket_the_http_path_delivers_everything(browser, site, api, replay_env):
    session_id = place_order(browser, site, close_right_after=True, block_websocket=True)
    detail = wait_for_failure(api, session_id)
    assert any(f["status"] == 502 and "/api/orders" in f["url"] for f in detail["network_failures"])
    # Everything: the full snapshot, the failed call and the last console line, all over HTTP.
    events = last_words_stored(replay_env, session_id)
    assert any(e["type"] == 2 for e in events), "no full snapshot stored"
    assert any(p["status"] == 502 for p in custom(events, "replay.network"))
