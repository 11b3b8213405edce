"""Record on failure and sampling, in Chromium against `replay serve`: nothing leaves a page that never fails but its
heartbeat; a page that meets nginx's real 502 uploads the rolling buffer from before the window, then records live;
a project's sample rate is decided once per session and kept across its pages."""
from __future__ import annotations

import time

import pytest
from redis import Redis

from replay.core import sampling
from replay.core.keys import RedisKeys
from tests.e2e.conftest import ARTIFACTS, SITE, poll, replay_cli
from tests.e2e.test_capture_502 import custom, stored_events
from tests.e2e.test_replay_page import open_page
from tests.e2e.test_viewer import login
from tests.conftest import free_port
from tests.nginx import running_nginx

BUFFER_MS = 4000
PROJECT_CACHE_S = 5.5  # the collector reads a changed project again within this


@pytest.fixture(scope="module")
def dashboard(replay_env, replay_server, tmp_path_factory):
    """nginx serving onfailure.html, with /api/ proxied to a dead port (a real 502)."""
    port, dead_port = free_port(), free_port()
    root = tmp_path_factory.mktemp("dashboard")
    (root / "index.html").write_text((SITE / "onfailure.html").read_text().replace("__SNIPPET_URL__",
                                                                                   f"{replay_server}/snippet.js"))
    locations = f"location / {{ root {root}; }}  location /api/ {{ proxy_pass http://127.0.0.1:{dead_port}; }}"
    with running_nginx(tmp_path_factory.mktemp("nginx"), port, locations):
        yield f"http://127.0.0.1:{port}"


def project(replay_env, origin, name):
    return replay_cli(replay_env, "project", "create", name, "--origin", origin)


class Watched:
    """A page whose every request and websocket to the collector is noted, with the time it started."""

    def __init__(self, context, replay_server):
        self.page = context.new_page()
        self.requests, self.sockets, self.frames = [], [], []
        ours = lambda url: url.startswith(replay_server) and not url.endswith(".js")  # noqa: E731
        self.page.on("request", lambda r: ours(r.url) and self.requests.append((time.time() * 1000, r.method, r.url,
                                                                                 r.post_data_buffer or b"")))
        self.page.on("websocket", self._socket)

    def _socket(self, ws):
        self.sockets.append(time.time() * 1000)
        ws.on("framesent", lambda payload: self.frames.append(payload))

    def posts(self, path):
        return [r for r in self.requests if r[1] == "POST" and r[2].endswith(path)]


def open_dashboard(browser, replay_server, dashboard, key, capture="on-failure", context=None):
    context = context or browser.new_context()
    w = Watched(context, replay_server)
    w.page.goto(f"{dashboard}/?key={key}&capture={capture}&buffer={BUFFER_MS}")
    w.page.wait_for_function("window.Replay && window.Replay.getSessionURL()")
    return context, w


def session_of(w):
    return w.page.evaluate("window.Replay.getSessionURL()").rsplit("/sessions/", 1)[1].split("?")[0]


def redis_of(replay_env):
    return Redis.from_url(replay_env["REPLAY_REDIS_URL"])


def listed(api, key):
    return [s["session"] for s in api("/api/sessions", project=key).json().get("sessions", [])]


def test_a_page_that_never_fails_sends_nothing_but_its_heartbeat(browser, replay_server, dashboard, replay_env, api):
    key = project(replay_env, dashboard, "quiet")
    context, w = open_dashboard(browser, replay_server, dashboard, key)
    w.page.evaluate("fetch('/index.html').then(r => r.text())")  # a call that succeeds starts nothing
    w.page.wait_for_timeout(3 * BUFFER_MS)
    session = session_of(w)
    w.page.goto("about:blank")  # pagehide: no last beacons either
    w.page.wait_for_timeout(1000)
    context.close()
    assert w.sockets == [] and w.frames == [], "no websocket"
    assert [(m, u.rsplit("/", 1)[1]) for _, m, u, _ in w.requests] == [("POST", "heartbeat")], w.requests
    [(_, _, _, body)] = w.requests
    assert len(body) < 100 and key.encode() in body
    assert sampling.heartbeats(redis_of(replay_env), RedisKeys(), key)[0] == 1
    time.sleep(2)
    assert session not in listed(api, key) and listed(api, key) == []


def test_a_failure_uploads_the_buffer_from_before_the_window_then_records_live(
        browser, replay_server, dashboard, replay_env, api, viewer_login):
    key = project(replay_env, dashboard, "failing")
    context, w = open_dashboard(browser, replay_server, dashboard, key)
    w.page.wait_for_timeout(3.5 * BUFFER_MS)  # ~14 s of activity: three checkouts and a half
    assert w.sockets == [] and w.posts("/ingest/batch") == []
    w.page.click("#load")
    w.page.wait_for_function("window.__lastStatus === 502")
    failed_at = w.page.evaluate("window.__failedAt")
    w.page.wait_for_timeout(1500)
    w.page.evaluate("Replay.track('after the failure', {})")
    w.page.wait_for_timeout(2500)
    session = session_of(w)
    context.close()
    assert w.sockets and w.sockets[0] >= failed_at - 50, "the socket opened only once the call failed"

    events = poll(lambda: (lambda ev: ev if custom(ev, "replay.track") else None)(stored_events(replay_env, session)))
    events.sort(key=lambda e: e["timestamp"])
    first = events[0]
    print(f"buffer starts {failed_at - first['timestamp']} ms before the failure; {len(events)} events")
    assert first["type"] == 4, "the upload starts at a checkout (Meta, then the full snapshot)"
    assert failed_at - first["timestamp"] >= BUFFER_MS, "at least one window of context before the failure"
    assert failed_at - first["timestamp"] <= 2 * BUFFER_MS + 1000, "the older checkouts rolled away"
    [call] = [c for c in custom(events, "replay.network") if c["url"].endswith("/api/orders")]
    assert call["status"] == 502
    assert custom(events, "replay.track")[0]["name"] == "after the failure", "recorded live after it"
    assert session in poll(lambda: listed(api, key))

    # The replay page of that session, looked at.
    viewer, page, errors = open_page(browser, replay_server, viewer_login, f"/sessions/{session}")
    page.wait_for_timeout(1500)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "on-failure-replay.png"), full_page=True)
    assert page.locator("ol.calls li", has_text="/api/orders").count() >= 1
    assert errors == []
    viewer.close()


def test_sample_rate_0_keeps_failing_sessions_only_even_on_full_pages(browser, replay_server, dashboard, replay_env, api,
                                                                     viewer_login):
    key = project(replay_env, dashboard, "sampled-out")
    replay_cli(replay_env, "project", "sampling", key, "0")
    # A full-recording page of this project: the collector's ready says 0, and the page holds.
    context, w = open_dashboard(browser, replay_server, dashboard, key, capture="full")
    w.page.wait_for_timeout(2500)
    held = session_of(w)
    assert not [f for f in w.frames if '"batch"' in str(f)], "a hello, and no batch"
    w.page.reload()
    w.page.wait_for_function("window.Replay && window.Replay.getSessionURL()")
    w.page.wait_for_timeout(1500)
    assert len(w.sockets) == 1 and len(w.posts("/ingest/heartbeat")) == 1, "the next page knows: held from the start"
    context.close()
    # An on-failure page that fails.
    context, w = open_dashboard(browser, replay_server, dashboard, key)
    w.page.wait_for_timeout(1500)
    w.page.click("#load")
    w.page.wait_for_function("window.__lastStatus === 502")
    w.page.wait_for_timeout(1500)
    failing = session_of(w)
    context.close()
    assert poll(lambda: failing in listed(api, key))
    time.sleep(1)
    assert held not in listed(api, key)
    # The settings page says so, with the heartbeats of the held pages (the reload's and the failing page's).
    settings = browser.new_page(viewport={"width": 1400, "height": 900})
    login(settings, replay_server, viewer_login, "/settings")
    box = settings.locator(f"#p-{key} dd.sampling")
    assert "0%" in box.inner_text() and box.locator(".heartbeats-today").inner_text() == "2"
    box.scroll_into_view_if_needed()
    settings.screenshot(path=str(ARTIFACTS / "settings-sampling.png"))
    settings.close()


def test_the_sampling_decision_holds_for_every_page_of_the_session(browser, replay_server, dashboard, replay_env):
    key = project(replay_env, dashboard, "sampled-in")
    replay_cli(replay_env, "project", "sampling", key, "1")
    context, w = open_dashboard(browser, replay_server, dashboard, key)
    w.page.wait_for_function("document.querySelector('#ticks').textContent > 4")
    assert len(w.posts("/ingest/heartbeat")) == 1 and len(w.sockets) == 1, "sampled in: records in full at once"
    session = session_of(w)
    replay_cli(replay_env, "project", "sampling", key, "0")
    time.sleep(PROJECT_CACHE_S)
    w.page.reload()
    w.page.wait_for_function("window.Replay && window.Replay.getSessionURL()")
    w.page.wait_for_timeout(1000)
    assert session_of(w) == session
    assert len(w.posts("/ingest/heartbeat")) == 1 and len(w.sockets) == 2, "the same session stays in full"
    # A new session (another tab's sessionStorage) hears the new rate and holds.
    other, w2 = open_dashboard(browser, replay_server, dashboard, key)
    w2.page.wait_for_timeout(1500)
    assert w2.sockets == [] and len(w2.posts("/ingest/heartbeat")) == 1
    other.close()
    context.close()
