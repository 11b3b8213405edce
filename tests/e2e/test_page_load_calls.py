"""Calls made while the page loads, before the snippet could, in Chromium behind a real nginx.

The page's first inline script calls `/api/me`, which nginx answers 502 (its upstream port is
dead), and logs a console line; the snippet (`async`) arrives seconds later: nginx serves it
through a `limit_rate`, so it is certainly later. With the loader first in <head>, the call
is in the session as recorded (status, headers, body, the session header that nginx logged)
and so is its console line. Without the loader, the call is recovered from resource timing,
with the status Chromium gives it.
"""
from __future__ import annotations

import re

import pytest
import redis as redis_client

from tests.conftest import free_port
from tests.e2e.conftest import ARTIFACTS, poll, replay_cli
from tests.e2e.test_capture_502 import custom, stored_events
from tests.e2e.test_viewer import login
from tests.nginx import running_nginx
from replay.core.keys import RedisKeys
from replay.web.paths import static_dir

EARLY_LINE = "account page: profile request answered"
EARLY_USER = "early-user-7"
EARLY_ERROR = "profile widget failed before the snippet"
# The snippet at this rate (about 29 KB gzipped) takes about three seconds.
SLOW_SNIPPET_RATE = "10k"


def _page(replay_server: str, key: str, loader: bool) -> str:
    loader_tag = f"<script>{(static_dir() / 'loader.js').read_text()}</script>" if loader else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme Account</title>
{loader_tag}
<script>
  // The page's first inline script: the snippet cannot be here yet.
  fetch('/api/me?from=head').then(function (r) {{
    window.__earlyStatus = r.status;
    // With the loader, window.Replay is its stub until the snippet comes: no session URL yet.
    window.__earlyBeforeSnippet = !(window.Replay && window.Replay.getSessionURL());
    console.error('{EARLY_LINE}', r.status);
  }});
  // What a library or logger keeps at import: the loader's wrappers, with the loader.
  window.__libFetch = window.fetch;
  window.__libLog = console.error;
  if (window.Replay) {{
    Replay.identify('{EARLY_USER}', {{plan: 'pro'}});
    Replay.track('account opened', {{tab: 'profile'}});
  }}
  setTimeout(function () {{ throw new Error('{EARLY_ERROR}'); }}, 0);
</script>
<script src="/slow/snippet.js" data-project-key="{key}" data-endpoint="{replay_server}" data-release="2024.11.3"
        data-environment="e2e" async></script>
<style>body{{font-family:sans-serif;margin:40px}}</style>
</head><body><h1>Acme Account</h1><p id="who">Loading your profile…</p>
<button id="save" type="button">Save</button>
<script>
  document.getElementById('save').addEventListener('click', function () {{
    fetch('/api/profile', {{method: 'PUT'}}).then(function (r) {{ window.__saveStatus = r.status; }});
  }});
</script>
</body></html>"""


@pytest.fixture(scope="module")
def early_site(replay_env, replay_server, tmp_path_factory):
    """nginx with the two pages, /api/ on a dead port (502) and a slow path to the snippet."""
    port, dead_port = free_port(), free_port()
    origin = f"http://127.0.0.1:{port}"
    key = replay_cli(replay_env, "project", "create", "early", "--origin", origin)
    root = tmp_path_factory.mktemp("early-site")
    (root / "loader.html").write_text(_page(replay_server, key, loader=True))
    (root / "plain.html").write_text(_page(replay_server, key, loader=False))
    # A page that withdraws consent before the snippet comes.
    (root / "optout.html").write_text(_page(replay_server, key, loader=True).replace(
        "<script src=\"/slow/", "<script>console.log('user email is alice@example.com'); Replay.stop();</script>\n"
        "<script src=\"/slow/", 1))
    locations = (f"location / {{ root {root}; }}  location /api/ {{ proxy_pass http://127.0.0.1:{dead_port}; }}  "
                 f"location = /slow/snippet.js {{ proxy_pass {replay_server}/snippet.js; limit_rate {SLOW_SNIPPET_RATE}; }}")
    with running_nginx(tmp_path_factory.mktemp("early-nginx"), port, locations) as logs:
        yield {"url": origin + "/", "origin": origin, "key": key, "access_log": logs / "access.log"}


def _open(browser, url: str) -> tuple[str, list[str]]:
    """Open the page, let the snippet come, click Save (a 502 after it came); the session id and page errors."""
    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)) if EARLY_ERROR not in str(e) else None)
    page.goto(url)
    page.wait_for_function("window.__earlyStatus === 502")
    page.wait_for_function("window.Replay && window.Replay.getSessionURL && window.Replay.getSessionURL()", timeout=20000)
    assert page.evaluate("window.__earlyBeforeSnippet") is True, "the snippet came before the early call ended"
    page.click("#save")
    page.wait_for_function("window.__saveStatus === 502")
    # After the snippet came, through the references kept before it.
    page.evaluate("window.__libFetch('/api/lib-ref'); window.__libLog('lib logger line')")
    session_id = page.evaluate("window.Replay.getSessionURL()").rsplit("/sessions/", 1)[1].split("?")[0]
    page.wait_for_timeout(500)
    context.close()
    return session_id, errors


def _calls(replay_env, session_id: str, path: str) -> list[dict]:
    return [p for p in custom(stored_events(replay_env, session_id), "replay.network") if path in p["url"]]


def _stored(replay_env, session_id: str) -> list[dict]:
    """The session's events once both calls are stored."""
    def both():
        events = stored_events(replay_env, session_id)
        calls = [p["url"] for p in custom(events, "replay.network")]
        return events if any("/api/me" in u for u in calls) and any("/api/profile" in u for u in calls) else None

    return poll(both, timeout_s=30)


def _screenshot_network(browser, replay_server, viewer_login, session_id: str, name: str) -> str:
    """The replay page's Network panel, once the early call is listed; returns the panel's text."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    login(page, replay_server, viewer_login, f"/sessions/{session_id}")
    page.wait_for_selector("#player[data-ready=true]", timeout=15000)
    page.wait_for_function("() => [...document.querySelectorAll('ol.calls > li')].some(li => li.textContent.includes('/api/me'))")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    text = page.locator("#panel-network").inner_text()
    context.close()
    return text


def test_with_the_loader_a_502_on_page_load_is_recorded_with_its_console_line(
        browser, early_site, api, replay_env, replay_server, viewer_login):
    session_id, errors = _open(browser, early_site["url"] + "loader.html")
    assert errors == []
    events = _stored(replay_env, session_id)

    [early] = _calls(replay_env, session_id, "/api/me")
    assert early["url"] == early_site["origin"] + "/api/me?from=head"
    assert (early["method"], early["status"], early["failed"], early["initiator"]) == ("GET", 502, True, "fetch")
    assert "recovered" not in early
    assert "502 Bad Gateway" in early["responseBody"] and early["responseHeaders"]["server"].startswith("nginx")
    assert set(early["timing"]) == {"dns", "connect", "tls", "ttfb", "download"} and min(early["timing"].values()) >= 0
    [later] = _calls(replay_env, session_id, "/api/profile")
    assert early["startTime"] < later["startTime"]

    # Its console line, from before the snippet, at the time it was logged.
    [line] = [p for p in custom(events, "replay.console") if EARLY_LINE in p["args"][0]]
    assert line["level"] == "error" and line["args"][1] == "502"
    # Its uncaught error, and the identify and track calls the page made to the loader's stub.
    [error] = [p for p in custom(events, "replay.error") if EARLY_ERROR in p["message"]]
    assert error["kind"] == "error" and "Error" in error["stack"]
    [who] = custom(events, "replay.identify")
    assert who["userId"] == EARLY_USER and who["traits"] == {"plan": "pro"}
    [opened] = [p for p in custom(events, "replay.track") if p["name"] == "account opened"]
    assert opened["props"] == {"tab": "profile"}
    assert (api(f"/api/sessions/{session_id}").json().get("user") or {}).get("id") == EARLY_USER
    # A library's kept fetch and console.error still record after the snippet took over, tagged, once.
    poll(lambda: _calls(replay_env, session_id, "/api/lib-ref"), timeout_s=20)
    [lib] = _calls(replay_env, session_id, "/api/lib-ref")
    assert lib["status"] == 502 and "recovered" not in lib
    assert re.search(rf"^GET /api/lib-ref 502 [0-9.]+ session={session_id}$", early_site["access_log"].read_text(), re.M)
    assert [p["args"][0] for p in custom(stored_events(replay_env, session_id), "replay.console")].count(
        "lib logger line") == 1
    # The loader tagged the call: nginx's log names the session.
    assert re.search(rf"^GET /api/me 502 [0-9.]+ session={session_id}$", early_site["access_log"].read_text(), re.M)

    # In the API: a failed call, and an error entry for its console line.
    detail = poll(lambda: (d := api(f"/api/sessions/{session_id}").json()).get("network_failures") and d)
    assert any(f["status"] == 502 and "/api/me" in f["url"] for f in detail["network_failures"])
    assert any(EARLY_LINE in e["message"] for e in detail["errors"])

    # The snippet tag's release and environment are kept with the session.
    meta = redis_client.Redis.from_url(replay_env["REPLAY_REDIS_URL"]).hgetall(RedisKeys().session_meta(session_id))
    assert (meta[b"release"], meta[b"environment"]) == (b"2024.11.3", b"e2e")

    panel = _screenshot_network(browser, replay_server, viewer_login, session_id, "early-call-loader.png")
    assert "/api/me?from=head" in panel and "502" in panel


def test_without_the_loader_the_early_call_is_recovered_from_resource_timing(
        browser, early_site, replay_env, replay_server, viewer_login):
    session_id, errors = _open(browser, early_site["url"] + "plain.html")
    assert errors == []
    _stored(replay_env, session_id)

    [early] = _calls(replay_env, session_id, "/api/me")
    assert early["recovered"] is True
    assert early["url"] == early_site["origin"] + "/api/me?from=head"
    assert (early["method"], early["status"], early["failed"], early["initiator"]) == (None, 502, True, "fetch")
    assert early["duration"] >= 0 and early["startTime"] > 0
    assert set(early["timing"]) == {"dns", "connect", "tls", "ttfb", "download"} and min(early["timing"].values()) >= 0
    # The call after the snippet came is recorded as always, and only once.
    [later] = _calls(replay_env, session_id, "/api/profile")
    assert later["status"] == 502 and "recovered" not in later and later["method"] == "PUT"
    assert early["startTime"] < later["startTime"]

    panel = _screenshot_network(browser, replay_server, viewer_login, session_id, "early-call-recovered.png")
    assert "/api/me?from=head" in panel and "502" in panel



def test_replay_stop_before_the_snippet_came_sends_nothing(browser, early_site):
    """Replay.stop() on the loader's stub (consent withdrawn): the snippet starts nothing, sends nothing."""
    context = browser.new_context()
    page = context.new_page()
    sent = []
    page.on("websocket", lambda ws: sent.append(ws.url))
    page.on("request", lambda r: "/ingest/" in r.url and sent.append(r.url))
    page.goto(early_site["url"] + "optout.html")
    page.wait_for_function("window.__earlyStatus === 502")
    # The snippet came and replaced the stub, and is not recording.
    page.wait_for_function("window.Replay && !window.Replay.__replayStub", timeout=20000)
    assert page.evaluate("window.Replay.getSessionURL()") is None
    page.click("#save")
    page.wait_for_function("window.__saveStatus === 502")
    page.wait_for_timeout(1500)
    context.close()
    assert sent == []
    # Nor did the later call carry the session header: the loader's wrappers came off.
    assert re.search(r"^PUT /api/profile 502 [0-9.]+ session=-$", early_site["access_log"].read_text(), re.M)
