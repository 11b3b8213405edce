"""Page left with nothing acked and batches too large for any beacon (first snapshot, a big mutation): the later batches still arrive."""
from __future__ import annotations

import json
import re
import socket

from tests.e2e.conftest import poll
from tests.e2e.test_capture_502 import custom, stored_events, wait_for_failure

# About 120,000 characters of page text, a third of them outside ASCII (UTF-8: about 220 KB).
BIG_TEXT = "Grüße aus Köln — 日本語のテキスト — 🎉 plain ascii words here. " * 2000


def test_beacons_skip_a_batch_too_large_and_deliver_the_rest(browser, site, api, replay_env):
    context = browser.new_context()
    page = context.new_page()

    # In the DOM before the first full snapshot (rrweb takes it at DOMContentLoaded at the earliest).
    page.add_init_script("document.addEventListener('DOMContentLoaded', () => {"
                         " const d = document.createElement('div'); d.id = 'big';"
                         f" d.textContent = {json.dumps(BIG_TEXT)}; document.body.append(d); }});")
    # An open socket that never says ready: nothing is acked, and the HTTP
    # fallback does not start, so only the beacons on the way out can deliver.
    page.route_web_socket(re.compile(r".*/ingest/ws$"), lambda ws: None)
    page.goto(site["url"])
    page.wait_for_function("window.Replay && window.Replay.getSessionURL && window.Replay.getSessionURL()")
    session_id = page.evaluate("window.Replay.getSessionURL()").rsplit("/sessions/", 1)[1].split("?")[0]
    # A second batch too large for any beacon: a big mutation.
    page.evaluate("(t) => { const p = document.createElement('p'); p.textContent = t; document.body.append(p); }", BIG_TEXT[::-1])
    page.click("#place")
    page.wait_for_function("window.__lastStatus === 502")
    page.evaluate("console.warn('last words before leaving')")
    page.goto("about:blank")  # pagehide: the beacons go

    detail = wait_for_failure(api, session_id)
    assert any(f["status"] == 502 and "/api/orders" in f["url"] for f in detail["network_failures"])

    def last_words_stored():
        events = stored_events(replay_env, session_id)
        logs = custom(events, "replay.console")
        return events if any("last words before leaving" in " ".join(l["args"]) for l in logs) else None

    events = poll(last_words_stored, timeout_s=20)
    assert any(e["type"] == 4 for e in events), "the page's Meta event (a small batch) was not stored"
    context.close()


def test_calls_still_in_flight_when_the_page_is_left_are_recorded_cut_off(browser, site, replay_env):
    """A user gives up on a hanging call and leaves: the fetch and the XHR are in the session, cut off by the
    unload after as long as they hung (not failed: no server answered or refused)."""
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(8)  # accepts, never answers
    base = f"http://127.0.0.1:{hang.getsockname()[1]}/hang"
    context = browser.new_context()
    page = context.new_page()
    page.goto(site["url"])
    page.wait_for_function("window.Replay && window.Replay.getSessionURL && window.Replay.getSessionURL()")
    session_id = page.evaluate("window.Replay.getSessionURL()").rsplit("/sessions/", 1)[1].split("?")[0]
    page.evaluate("(base) => { fetch(base + '?via=fetch').catch(() => {});"
                  " const x = new XMLHttpRequest(); x.open('GET', base + '?via=xhr'); x.send(); }", base)
    page.wait_for_timeout(1500)
    page.goto("about:blank")  # pagehide
    hang.close()

    def both():
        calls = [p for p in custom(stored_events(replay_env, session_id), "replay.network") if "/hang?" in p["url"]]
        return calls if len(calls) >= 2 else None

    calls = poll(both, timeout_s=20)
    assert sorted((p["url"].split("via=")[1], p["error"], p["failed"]) for p in calls) == [
        ("fetch", "unload", False), ("xhr", "unload", False)]
    assert all(p["duration"] >= 1400 for p in calls), [p["duration"] for p in calls]
    context.close()
