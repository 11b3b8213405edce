"""The snippet on a hostile page: markup posing as its <script> tag, and a second browser that knows the session id.

(a) Script-free markup a page lets in (`<img name="currentScript" ...>` shadows `document.currentScript`;
    a `<base>` after the tag changes what a relative `script.src` resolves to) must not choose where
    the recording goes: a recorder server standing for the attacker receives nothing but the image
    request, and the real collector gets the recording (the snippet starts from its real tag). Where
    there is no real tag to read (a module script), the snippet does not start, and says why once.
(b) A session id is no secret (it rides in X-Replay-Session headers, so in proxy logs): another
    browser holding it and the public key cannot write into that session by websocket or by HTTP.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import free_port
from tests.e2e.conftest import SITE, poll, replay_cli, socket_frames
from tests.e2e.test_capture_502 import custom, stored_events
from tests.nginx import running_nginx

MARKER = "Quarterly figures 7f3a9c"
REAL_USER = "real-user-42"


class _Recorder(BaseHTTPRequestHandler):
    """Writes down every request; answers 404 (an upgrade request stays a plain GET: no websocket)."""

    def _record(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append({"method": self.command, "path": self.path,
                                     "headers": dict(self.headers), "body": body})
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = do_OPTIONS = _record

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def recorder():
    """The attacker's server: where the injected markup points."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Recorder)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "requests": server.requests}
    server.shutdown()
    server.server_close()


def _page(head: str, body: str = "") -> str:
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{MARKER}</title>{head}</head>'
            f"<body>{body}<h1>{MARKER}</h1><p>Only for this site's users: {MARKER}.</p></body></html>")


@pytest.fixture(scope="module")
def shop(replay_env, replay_server, recorder, tmp_path_factory):
    """nginx: pages with injected markup, /replay/ proxied to the collector (websockets too), /api/ a real 502."""
    port, dead_port = free_port(), free_port()
    origin = f"http://127.0.0.1:{port}"
    key = replay_cli(replay_env, "project", "create", "shop", "--origin", origin)
    rec = recorder["url"]
    img = f'<img name="currentScript" src="{rec}/x.png" data-project-key="{key}" data-endpoint="{rec}">'
    tag = f'<script src="{replay_server}/snippet.js" data-project-key="{key}"'
    root = tmp_path_factory.mktemp("shop")
    pages = {
        # The img comes first in the body: the tag after it runs while the img is in the document.
        "img-async.html": _page("", f"{img}{tag} async></script>"),
        "img-sync.html": _page("", f"{img}{tag}></script>"),
        # A module script has no document.currentScript: only the img answers to that name.
        "img-module.html": _page("", f'{img}{tag} type="module"></script>'),
        # A same-origin tag with a relative src; a <base> further down, parsed before the async script runs.
        "base-after-tag.html": _page(f'<script src="/replay/snippet.js" data-project-key="{key}" async></script>'
                                     f'<base href="{rec}/">'),
        "attacker.html": _page(""),
        "app.html": (SITE / "index.html").read_text().replace("__SNIPPET_URL__", f"{replay_server}/snippet.js")
                                          .replace("__PROJECT_KEY__", key),
    }
    for name, html in pages.items():
        (root / name).write_text(html)
    upstream = replay_server.removeprefix("http://")
    locations = (f"location / {{ root {root}; }}"
                 f"  location /api/ {{ proxy_pass http://127.0.0.1:{dead_port}; }}"
                 f"  location /replay/ {{ proxy_pass http://{upstream}/; proxy_http_version 1.1;"
                 f" proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection upgrade;"
                 f" proxy_read_timeout 600s; }}")
    with running_nginx(tmp_path_factory.mktemp("nginx-shop"), port, locations):
        yield {"origin": origin, "key": key}


def _session_id(page) -> tuple[str, str]:
    page.wait_for_function("window.Replay && window.Replay.getSessionURL && window.Replay.getSessionURL()")
    url = page.evaluate("window.Replay.getSessionURL()")
    return url, url.rsplit("/sessions/", 1)[1].split("?")[0]


@pytest.mark.parametrize("name, collector", [
    ("img-async.html", "replay"), ("img-sync.html", "replay"), ("base-after-tag.html", "proxy"),
])
def test_markup_posing_as_the_tag_does_not_choose_where_the_recording_goes(
        browser, shop, recorder, replay_env, replay_server, name, collector):
    recorder["requests"].clear()
    context = browser.new_context()
    page = context.new_page()
    console = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.goto(f"{shop['origin']}/{name}")
    session_url, session_id = _session_id(page)
    # The snippet started from its real tag: its endpoint is where snippet.js came from.
    endpoint = replay_server if collector == "replay" else shop["origin"] + "/replay"
    assert session_url.startswith(endpoint + "/sessions/"), session_url
    page.evaluate("console.log('typed into the page')")
    page.wait_for_timeout(500)
    context.close()  # pagehide: what is left goes by beacon, then the session is flushed

    def recorded():
        events = stored_events(replay_env, session_id)
        snapshots = [e for e in events if e["type"] == 2]
        return events if snapshots and MARKER in json.dumps(snapshots) else None

    events = poll(recorded, timeout_s=30)
    assert any("typed into the page" in " ".join(c["args"]) for c in custom(events, "replay.console"))
    assert not [c for c in console if "replay" in c.lower()], console

    # The attacker's server saw the image load, if anything: no socket, no POST, no page text.
    seen = recorder["requests"]
    assert [r["path"] for r in seen] in ([], ["/x.png"]), [(r["method"], r["path"]) for r in seen]
    assert not any(MARKER.encode() in r["body"] or "upgrade" in {h.lower() for h in r["headers"]} for r in seen)


def test_without_a_real_script_element_the_snippet_does_not_start(browser, shop, recorder):
    recorder["requests"].clear()
    context = browser.new_context()
    page = context.new_page()
    console, sockets, posts = [], [], []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    page.goto(f"{shop['origin']}/img-module.html")
    page.wait_for_function("typeof (window.Replay && window.Replay.getSessionURL) === 'function'")
    page.wait_for_timeout(2500)  # a tick of the transport, had it started
    assert page.evaluate("window.Replay.getSessionURL()") is None
    assert [c for c in console if "replay" in c.lower()] == [
        "warning: replay: not started: document.currentScript is not a <script> element"]
    context.close()
    assert (sockets, posts) == ([], [])
    assert [r["path"] for r in recorder["requests"]] in ([], ["/x.png"])


def _attack(page, endpoint: str, key: str, session: str, secret: str | None) -> dict:
    """From the attacker's page: a websocket hello (and a batch after its ready), then the same as an HTTP envelope."""
    return page.evaluate("""async ({endpoint, key, session, secret}) => {
        const identify = {type: 5, timestamp: Date.now() + 60000,
                          data: {tag: 'replay.identify', payload: {userId: 'attacker', traits: {}}}};
        const intro = {v: 1, key, session, window: 'attacker-window-1', url: location.href, ua: navigator.userAgent};
        if (secret) intro.secret = secret;
        const ws = await new Promise((resolve) => {
            const s = new WebSocket(endpoint.replace(/^http/, 'ws') + '/ingest/ws');
            const messages = [];
            s.onopen = () => s.send(JSON.stringify({type: 'hello', ...intro, ts: Date.now()}));
            s.onmessage = (e) => {
                const msg = JSON.parse(e.data);
                messages.push(msg);
                // As a client should, the batch waits for the ready (a frame sent into a socket the
                // server is closing makes the close a reset, 1006, instead of its code).
                if (msg.type === 'ready') s.send(JSON.stringify({type: 'batch', seq: 1, events: [identify]}));
                if (msg.type === 'ack') s.close(); // written: the test fails on the code, without waiting for the idle timeout
            };
            s.onclose = (e) => resolve({code: e.code, messages});
        });
        const body = JSON.stringify({...intro, batches: [{seq: 1, events: [identify]}]});
        // The collector lets no foreign page read its refusal (no CORS on it): the test reads the status itself.
        await fetch(endpoint + '/ingest/batch', {method: 'POST', body, mode: 'no-cors'}).catch(() => null);
        return ws;
    }""", {"endpoint": endpoint, "key": key, "session": session, "secret": secret})


def test_another_browser_holding_the_session_id_cannot_write_into_the_session(
        browser, shop, replay_env, replay_server, api):
    # The real user's page: identified, then a failed call carrying X-Replay-Session.
    real = browser.new_context()
    page = real.new_page()
    headers = []
    frames = socket_frames(page)
    page.on("request", lambda r: "/api/orders" in r.url and headers.append(r.headers.get("x-replay-session")))
    page.goto(f"{shop['origin']}/app.html")
    _, own_id = _session_id(page)
    page.evaluate(f"window.Replay.identify({json.dumps(REAL_USER)}, {{plan: 'pro'}})")
    page.click("#place")
    page.wait_for_function("window.__lastStatus === 502")
    [session_id] = headers
    assert session_id == own_id
    poll(lambda: any('"ready"' in str(f) for f in frames), timeout_s=15)  # its hello bound the session

    # The attacker: another browser, on a page of an allowed origin, with the public key and the id.
    attacker = browser.new_context()
    evil = attacker.new_page()
    evil.goto(f"{shop['origin']}/attacker.html")
    statuses = []
    evil.on("response", lambda r: "/ingest/batch" in r.url and statuses.append(r.status))
    forged = _attack(evil, replay_server, shop["key"], session_id, "attacker-secret-0123456789")
    assert forged["code"] == 4403, forged
    assert [m["code"] for m in forged["messages"] if m.get("type") == "error"] == ["session_conflict"]
    assert not any(m.get("type") in ("ready", "ack") for m in forged["messages"])
    # Without a secret at all: refused as a malformed envelope.
    bare = _attack(evil, replay_server, shop["key"], session_id, None)
    assert bare["code"] == 4400, bare
    poll(lambda: len(statuses) == 2, timeout_s=10)
    assert statuses == [403, 400]
    attacker.close()

    # The real page goes on recording, then leaves; everything it sent is stored, under its user.
    page.evaluate("console.log('still the real user')")
    page.wait_for_timeout(300)
    real.close()

    def flushed():
        events = stored_events(replay_env, session_id)
        logs = custom(events, "replay.console")
        return events if any("still the real user" in " ".join(c["args"]) for c in logs) else None

    events = poll(flushed, timeout_s=30)
    assert [p["userId"] for p in custom(events, "replay.identify")] == [REAL_USER]
    detail = poll(lambda: (d := api(f"/api/sessions/{session_id}").json()).get("user") and d, timeout_s=20)
    assert detail["user"]["id"] == REAL_USER
