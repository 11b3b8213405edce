"""A replay loads nothing from hosts the project does not record: the page's own images show, a tracker's never."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from tests.conftest import free_port
from tests.e2e.conftest import ARTIFACTS, poll, replay_cli
from tests.e2e.test_viewer import login

# A 1x1 PNG.
PIXEL = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005"
                      "0001ff3d7d8a2a0000000049454e44ae426082")


class Recorder(BaseHTTPRequestHandler):
    """A host that notes every request it gets (the site's own, or a tracker named in recorded markup)."""

    hits: list

    def do_GET(self):
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(PIXEL)

    def log_message(self, *args):
        pass


def serving(hits: list) -> tuple[ThreadingHTTPServer, int]:
    handler = type("Handler", (Recorder,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_port


def snapshot(site: str, tracker: str, now: int) -> list[dict]:
    """rrweb's Meta and FullSnapshot of a page with one image from the site and one from a tracker."""
    img = lambda i, src: {"type": 2, "tagName": "img", "attributes": {"src": src, "width": "40"}, "childNodes": [], "id": i}
    body = {"type": 2, "tagName": "body", "attributes": {}, "id": 4, "childNodes": [
        {"type": 2, "tagName": "h1", "attributes": {}, "id": 5, "childNodes": [{"type": 3, "textContent": "Shop", "id": 6}]},
        img(7, site + "/logo.png"), img(8, tracker + "/pixel.png?who=developer")]}
    html = {"type": 2, "tagName": "html", "attributes": {}, "id": 2,
            "childNodes": [{"type": 2, "tagName": "head", "attributes": {}, "childNodes": [], "id": 3}, body]}
    return [{"type": 4, "timestamp": now, "data": {"href": site + "/", "width": 800, "height": 600}},
            {"type": 2, "timestamp": now + 1, "data": {"node": {"type": 0, "childNodes": [html], "id": 1},
                                                        "initialOffset": {"left": 0, "top": 0}}}]


def test_the_replay_loads_the_sites_images_and_never_a_trackers(browser, replay_env, replay_server, viewer_login, api):
    site_hits, tracker_hits = [], []
    site_server, site_port = serving(site_hits)
    tracker_server, tracker_port = serving(tracker_hits)
    site, tracker = f"http://127.0.0.1:{site_port}", f"http://127.0.0.1:{tracker_port}"
    try:
        key = replay_cli(replay_env, "project", "create", "csp", "--origin", site)
        session, now = "sess_csp_0123456789ab", int(time.time() * 1000)
        body = {"v": 1, "key": key, "secret": "csp_secret_0123456789", "session": session,
                "window": "win_csp_0123456789ab", "url": site + "/", "ua": "pytest",
                "batches": [{"seq": 1, "events": snapshot(site, tracker, now)}]}
        r = requests.post(replay_server + "/ingest/batch", data=json.dumps(body), headers={"Origin": site}, timeout=10)
        assert r.status_code == 200, r.text
        poll(lambda: api(f"/api/sessions/{session}").status_code == 200)

        context = browser.new_context(viewport={"width": 1200, "height": 800})
        page = context.new_page()
        blocked = []
        page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
        login(page, replay_server, viewer_login, f"/sessions/{session}")
        page.wait_for_selector("#player[data-ready=true]", timeout=15000)
        frame = page.frame_locator("#player iframe")
        assert frame.locator("h1").inner_text() == "Shop"
        poll(lambda: "/logo.png" in site_hits, timeout_s=10)
        time.sleep(1)  # time for a request to the tracker, if the page were to make one
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "replay-csp.png"), full_page=True)
        context.close()
        assert tracker_hits == []
        assert any(tracker in line for line in blocked), blocked
    finally:
        site_server.shutdown()
        tracker_server.shutdown()
