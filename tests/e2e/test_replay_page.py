"""The replay page in Chromium over a real recorded 502 session: seek, follow, copy, share, escape, export."""
from __future__ import annotations

import re
import time

import pytest
import requests

from tests.e2e.conftest import ARTIFACTS, poll
from tests.e2e.test_viewer import login

IMG = '<img src=x onerror="window.__pwned=1">'
SCRIPT = "<script>alert(1)</script>"
# The replayer's own clock, in ms from the session start, and whether it plays.
NOW = "window.ReplayView.player.getReplayer().getCurrentTime()"
STATE = "window.ReplayView.player.getReplayer().service.state.value"


@pytest.fixture(scope="module")
def recorded(browser, site, replay_server, api_token) -> dict:
    """One session: hostile console text, the order that meets nginx's 502, then a second page load."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(site["url"])
    page.wait_for_function("window.Replay && window.Replay.getSessionURL && window.Replay.getSessionURL()")
    page.evaluate("([img, script]) => { console.warn('customer typed ' + img); console.error('widget said ' + script); }",
                  [IMG, SCRIPT])
    page.evaluate("fetch('/index.html?ok=1').then(r => r.text())")
    page.wait_for_timeout(400)
    page.click("#place")
    page.wait_for_function("window.__lastStatus === 502")
    page.wait_for_timeout(400)
    session_id = page.evaluate("window.Replay.getSessionURL()").rsplit("/sessions/", 1)[1].split("?")[0]
    page.goto(site["url"] + "?step=2")
    page.wait_for_function("window.Replay && window.Replay.getSessionURL && window.Replay.getSessionURL()")
    page.wait_for_timeout(600)
    context.close()
    headers = {"Authorization": f"Bearer {api_token}"}

    def complete():
        detail = requests.get(f"{replay_server}/api/sessions/{session_id}", headers=headers, timeout=10).json()
        ok = (detail.get("network_failures") and detail.get("counts", {}).get("exceptions")
              and len(detail.get("pages") or []) >= 2 and any(SCRIPT in e["message"] for e in detail["errors"]))
        return detail if ok else None

    detail = poll(complete, timeout_s=40)
    [failure] = [f for f in detail["network_failures"] if "/api/orders" in f["url"]]
    return {"session": session_id, "detail": detail, "failure": failure}


def open_page(browser, replay_server, viewer_login, path, **context_args):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, **context_args)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, replay_server, viewer_login, path)
    page.wait_for_selector("#player[data-ready=true]", timeout=15000)
    return context, page, errors


def test_the_page_lands_at_the_failing_call_with_its_details(browser, replay_server, viewer_login, recorded):
    failure = recorded["failure"]
    context, page, errors = open_page(browser, replay_server, viewer_login,
                                      f"/sessions/{recorded['session']}?call={failure['id']}")
    row = page.locator(f"ol.calls li[data-call-id='{failure['id']}']")
    details = row.locator("details[open]")
    assert details.is_visible()
    text = details.inner_text()
    assert "diagnosis" in text.lower() and "502" in text and "nginx" in text and "/api/orders?cart=42" in text
    # Paused on the moment the call failed: the page as the user saw it then.
    offset = failure["ts"] - recorded["detail"]["started_ms"]
    assert abs(page.evaluate(NOW) - offset) < 50 and page.evaluate(STATE) == "paused"
    assert page.frame_locator("#player iframe").locator("h1").inner_text() == "Acme Orders"
    # Every call is listed once /calls is in (the page's own load and the 502 at least), the 502 highlighted.
    page.wait_for_function("() => document.querySelectorAll('ol.calls > li').length === 2")
    assert page.locator("[data-panel=network] .count").inner_text() == "2 · 1 failed"
    assert "failed" in row.get_attribute("class")
    ok = page.locator("ol.calls li.row:not(.failed)")
    assert ok.locator(".status").inner_text() == "200" and "/index.html?ok=1" in ok.locator(".url").inner_text()
    # The opened call is scrolled into the panel's view.
    panel, box = page.locator("#panel-network").bounding_box(), row.bounding_box()
    assert panel["y"] <= box["y"] < panel["y"] + panel["height"]
    # The timeline has a red marker for the call, orange for each error, blue for both page loads.
    assert page.locator("#timeline .marker.failed").count() == 1
    assert len(recorded["detail"]["errors"]) == 3  # two console.error calls and the page's TypeError
    # Errors closer than the stacking distance share one mark that says how many (the TypeError and the page's
    # console.error come within milliseconds of each other, so whether they stack depends on the run).
    marks = page.locator("#timeline .marker.error").evaluate_all("ms => ms.map(m => Number(m.textContent) || 1)")
    assert sum(marks) == 3 and 2 <= len(marks) <= 3
    assert page.locator("#timeline .marker.page").count() == 2
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "replay-panels.png"))
    assert errors == []
    context.close()


def test_play_advances_and_the_current_row_follows(browser, replay_server, viewer_login, recorded):
    context, page, errors = open_page(browser, replay_server, viewer_login, f"/sessions/{recorded['session']}")
    page.click("[role=tab][data-panel=console]")
    page.wait_for_selector("ol.console li.row")
    offsets = page.eval_on_selector_all("ol.console li.row", "rows => rows.map(r => +r.dataset.offset)")
    assert offsets == sorted(offsets) and len(offsets) >= 4
    assert page.evaluate(NOW) < 50
    # Press the player's own play button.
    page.locator(".rr-controller__btns button").first.click()
    seen = []

    def at_the_end():
        current = page.eval_on_selector_all("ol.console li.row.current", "rows => rows.map(r => +r.dataset.offset)")
        seen.extend(x for x in current if not seen or seen[-1] != x)
        return current == [offsets[-1]]

    poll(at_the_end, timeout_s=30, interval_s=0.05)
    assert page.evaluate(NOW) >= offsets[-1]
    # The highlight moved forward through the rows, never back.
    assert seen == sorted(seen) and len(set(seen)) >= 2, seen
    # The highlight is one row at a time, and the network panel follows too.
    assert page.locator("ol.console li.current").count() == 1
    assert page.locator("ol.calls li.current").count() == 1
    page.screenshot(path=str(ARTIFACTS / "replay-console.png"))
    assert errors == []
    context.close()


def test_clicking_a_row_or_a_marker_seeks_the_player(browser, replay_server, viewer_login, recorded):
    context, page, errors = open_page(browser, replay_server, viewer_login, f"/sessions/{recorded['session']}")
    page.click("[role=tab][data-panel=console]")
    row = page.locator("ol.console li.row", has_text="order answered")
    target = int(row.get_attribute("data-offset"))
    assert target > 100
    row.locator("button.seek").click()
    page.wait_for_function(f"() => Math.abs({NOW} - {target}) < 50")
    page.wait_for_function("() => document.querySelector('ol.console li.current') && "
                           "document.querySelector('ol.console li.current').textContent.includes('order answered')")
    marker = page.locator("#timeline .marker.failed")
    at = int(marker.get_attribute("data-offset"))
    marker.click()
    page.wait_for_function(f"() => Math.abs({NOW} - {at}) < 50")
    # The Session panel: browser, viewport from the recording, both page loads, each one seeks too.
    page.click("[role=tab][data-panel=session]")
    assert re.fullmatch(r"\d+ × \d+ px", page.inner_text("#viewport"))
    pages = page.locator("ol.pages li.row")
    assert pages.count() == 2 and "?step=2" in pages.nth(1).inner_text()
    pages.nth(1).locator("button.seek").click()
    second = int(pages.nth(1).get_attribute("data-offset"))
    page.wait_for_function(f"() => Math.abs({NOW} - {second}) < 50")
    assert "current" in pages.nth(1).get_attribute("class")
    page.screenshot(path=str(ARTIFACTS / "replay-session.png"))
    assert errors == []
    context.close()


def test_copy_for_ticket_and_copy_link(browser, replay_server, viewer_login, recorded):
    failure, sid = recorded["failure"], recorded["session"]
    context, page, errors = open_page(browser, replay_server, viewer_login, f"/sessions/{sid}?call={failure['id']}",
                                      permissions=["clipboard-read", "clipboard-write"])
    page.click("#copy-ticket")
    page.wait_for_selector("#copied:not([hidden])")
    ticket = page.evaluate("navigator.clipboard.readText()")
    assert ticket == page.input_value("#copied-text")
    # The diagnosis headline first, as the page shows it; then the link, the call, its timing and the diagnosis.
    row = page.locator(f"ol.calls li[data-call-id='{failure['id']}']")
    headline, summary = row.locator(".diag-title").inner_text(), row.locator(".diag-summary").inner_text()
    assert headline.startswith("502 Bad Gateway") and ticket.startswith(f"**{headline}**\n")
    assert f"**Session replay:** {replay_server}/sessions/{sid}?call={failure['id']}\n" in ticket
    assert f"`POST {failure['url']}`" in ticket and "**502 Bad Gateway**" in ticket
    assert "/api/orders?cart=42" in ticket
    sent = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(failure["start_ms"] / 1000))
    assert re.search(rf"- \*\*Timing:\*\* sent {sent}\.\d{{3}} UTC \(0:\d\d\.\d into the session\), "
                     rf"answered after \d+ ms\n", ticket), ticket
    assert f"- **Diagnosis:** {summary}\n" in ticket
    # The session id, to find the call in the proxy's logs.
    assert f"- **Session id:** `{sid}` (search the proxy's logs for it: " in ticket
    assert "share" not in ticket.lower()
    page.screenshot(path=str(ARTIFACTS / "replay-ticket.png"))

    # Asked for, a share link that opens the call for someone without an account.
    page.check("#ticket-share")
    page.click("#copy-ticket")
    page.wait_for_function("() => document.getElementById('copied-text').value.includes('Share link')")
    ticket = page.evaluate("navigator.clipboard.readText()")
    found = re.search(rf"\*\*Share link \(no account needed\):\*\* ({re.escape(replay_server)}/share/[\w.-]+)"
                      rf"\?call=([\w:-]+) \(until \d{{4}}-\d\d-\d\d \d\d:\d\d UTC\)\n", ticket)
    assert found and found.group(2) == failure["id"], ticket
    assert ticket.startswith(f"**{headline}**\n")
    page.screenshot(path=str(ARTIFACTS / "replay-ticket-shared.png"))
    stranger = browser.new_context(viewport={"width": 1400, "height": 900})
    other = stranger.new_page()
    assert other.goto(found.group(0).split("** ", 1)[1].split(" ", 1)[0]).status == 200
    other.wait_for_selector("#player[data-ready=true]", timeout=15000)
    opened = other.locator(f"ol.calls li[data-call-id='{failure['id']}'] details[open] .diagnosis")
    assert opened.is_visible() and opened.locator(".diag-title").inner_text() == headline
    offset = failure["ts"] - recorded["detail"]["started_ms"]
    other.wait_for_function(f"() => Math.abs({NOW} - {offset}) < 50")
    stranger.close()
    page.click("#copy-link")
    page.wait_for_function("() => document.getElementById('copied-what').textContent.startsWith('Link')")
    link = page.evaluate("navigator.clipboard.readText()")
    now = round(page.evaluate("window.ReplayView.now"))
    assert link == f"{replay_server}/sessions/{sid}?t={now}"
    assert errors == []
    context.close()


def test_a_share_link_opens_without_login_until_revoked(browser, replay_server, viewer_login, recorded):
    sid = recorded["session"]
    context, page, errors = open_page(browser, replay_server, viewer_login, f"/sessions/{sid}")
    page.click("#share-open")
    # "Open at the current moment" is ticked unless you untick it.
    assert page.locator("#share-form input[name=at_moment]").is_checked()
    page.click("#share-form button[type=submit]")
    page.wait_for_selector("#share-result:not([hidden])")
    url = page.input_value("#share-url")
    assert re.match(rf"{re.escape(replay_server)}/share/[\w.-]+$", url)
    page.wait_for_selector("#share-links li.state-active button.revoke")
    page.screenshot(path=str(ARTIFACTS / "replay-share.png"))

    stranger = browser.new_context(viewport={"width": 1400, "height": 900})
    other = stranger.new_page()
    assert other.goto(url).status == 200
    other.wait_for_selector("#player[data-ready=true]", timeout=15000)
    frame = other.frame_locator("#player iframe")
    frame.locator("h1").wait_for(timeout=10000)
    assert frame.locator("h1").inner_text() == "Acme Orders"
    assert other.locator("#share-open").count() == 0 and other.locator("#export").count() == 0
    assert other.locator("meta[name=csrf-token]").count() == 0
    # The shared view opens the failed call with its diagnosis.
    opened = other.locator(f"ol.calls li[data-call-id='{recorded['failure']['id']}'] details[open] .diagnosis")
    assert opened.is_visible() and "nginx" in opened.inner_text()
    other.wait_for_selector("ol.console li.row", state="attached")
    other.screenshot(path=str(ARTIFACTS / "replay-shared.png"))

    page.click("#share-links li.state-active button.revoke")
    page.wait_for_selector("#share-links li.state-revoked")
    refused = other.goto(url)
    assert refused.status == 410
    assert "revoked" in other.locator(".share-refused").inner_text()
    assert errors == []
    stranger.close()
    context.close()


def test_recorded_html_shows_as_text_and_never_runs(browser, replay_server, viewer_login, recorded):
    context, page, errors = open_page(browser, replay_server, viewer_login, f"/sessions/{recorded['session']}")
    page.click("[role=tab][data-panel=console]")
    warned = page.locator("ol.console li.row", has_text="customer typed")
    assert warned.locator(".message").inner_text() == "customer typed " + IMG
    assert page.locator("ol.console img, ol.errors img, ol.errors script").count() == 0
    page.click("[role=tab][data-panel=errors]")
    assert page.locator("ol.errors li", has_text="widget said").locator(".message").inner_text() == \
        "widget said " + SCRIPT
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    page.screenshot(path=str(ARTIFACTS / "replay-escaped.png"))
    assert errors == []
    context.close()


def test_the_exported_file_replays_offline(browser, replay_server, viewer_login, recorded, tmp_path):
    sid = recorded["session"]
    context, page, _ = open_page(browser, replay_server, viewer_login, f"/sessions/{sid}")
    response = context.request.get(f"{replay_server}/sessions/{sid}/export")
    assert response.status == 200
    assert response.headers["content-disposition"] == f'attachment; filename="replay-{sid}.html"'
    path = tmp_path / f"replay-{sid}.html"
    path.write_bytes(response.body())
    context.close()

    offline = browser.new_context(viewport={"width": 1400, "height": 900}, offline=True)
    page = offline.new_page()
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_selector("#player[data-ready=true]", timeout=15000)
    frame = page.frame_locator("#player iframe")
    frame.locator("h1").wait_for(timeout=10000)
    assert frame.locator("h1").inner_text() == "Acme Orders"
    assert "502" in page.locator("ol.failures").inner_text()
    # It opens paused where the first failed call failed, with that call's diagnosis and headers open.
    failure = recorded["failure"]
    offset = failure["ts"] - recorded["detail"]["started_ms"]
    assert abs(page.evaluate(NOW) - offset) < 50 and page.evaluate(STATE) == "paused"
    opened = page.locator(f"ol.failures li[data-call-id='{failure['id']}'] details[open]")
    assert opened.locator(".diag-title").inner_text().startswith("502 Bad Gateway")
    assert "content-type" in opened.locator("table.request-headers").inner_text()
    assert "authorization" not in opened.inner_text().lower()
    assert "nginx" in opened.locator("table.response-headers").inner_text()
    assert "Sent at" in opened.locator("table.call").inner_text()
    page.screenshot(path=str(ARTIFACTS / "replay-export.png"))
    # Every call and the console, each seeking the player.
    calls = page.locator("ol.calls li")
    assert calls.count() == 2 and "/index.html?ok=1" in calls.first.inner_text() + calls.last.inner_text()
    console = page.locator("ol.console li")
    assert console.count() >= 5 and "customer typed " + IMG in page.locator("ol.console").inner_text()
    assert page.locator("ol.console img").count() == 0
    row = page.locator("ol.console li", has_text="order answered").locator("button.seek")
    row.click()
    page.wait_for_function(f"() => Math.abs({NOW} - {row.get_attribute('data-offset')}) < 50")
    assert [u for u in requested if not u.startswith(("file:", "data:", "blob:", "about:"))] == []
    assert errors == []
    offline.close()


def doc(title: str) -> dict:
    """A full snapshot's serialized document: <html><head></head><body><h1>title</h1></body></html>."""
    h1 = {"type": 2, "tagName": "h1", "attributes": {}, "childNodes": [{"type": 3, "textContent": title, "id": 7}], "id": 6}
    html = {"type": 2, "tagName": "html", "attributes": {}, "id": 3, "childNodes": [
        {"type": 2, "tagName": "head", "attributes": {}, "childNodes": [], "id": 4},
        {"type": 2, "tagName": "body", "attributes": {}, "childNodes": [h1], "id": 5}]}
    return {"type": 0, "id": 1, "childNodes": [{"type": 1, "name": "html", "publicId": "", "systemId": "", "id": 2}, html]}


@pytest.fixture(scope="module")
def two_tabs(replay_env, replay_server) -> dict:
    """Two tabs of one session whose segments overlap in time, written by Buffer.append and the flush job."""
    from replay.core import settings as settings_mod
    from worker import context as worker_context, jobs

    ctx = worker_context.configure(settings_mod.load(environ=replay_env))
    session, t0 = "two_tabs_session_0001", int(time.time() * 1000) - 60_000
    tabs = {"tab_one_0123456789": 0, "tab_two_0123456789": 300}
    for flush in range(8):
        for window, lag in tabs.items():
            t = t0 + lag + flush * 1000
            events = []
            if flush == 0:
                events += [{"type": 4, "timestamp": t, "data": {"href": f"https://shop.example/{window}",
                                                                "width": 1024, "height": 600}},
                           {"type": 2, "timestamp": t + 1, "data": {"node": doc(f"Tab {window}"),
                                                                    "initialOffset": {"top": 0, "left": 0}}}]
            events += [{"type": 3, "timestamp": t + k * 100, "data": {"source": 1, "positions": [
                {"x": 10 * k, "y": 20, "id": 6, "timeOffset": 0}]}} for k in range(1, 6)]
            events.append({"type": 5, "timestamp": t + 450, "data": {"tag": "replay.console", "payload": {
                "level": "log", "args": [f"{window} step {flush}"]}}})
            ctx.buffer.append(session, window, flush + 1, events, t + 500, "https://shop.example/")
        jobs.flush_session(session)
    worker_context.reset()
    return {"session": session}


def test_a_session_plays_before_it_has_loaded_and_is_fed_in_time_order(
        browser, replay_server, viewer_login, two_tabs, api):
    sid = two_tabs["session"]
    listing = api(f"/api/sessions/{sid}/segments").json()["segments"]
    assert len(listing) == 16 and listing[1]["start_ms"] < listing[0]["end_ms"]  # the tabs overlap
    everything = api(f"/api/sessions/{sid}/events").json()
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, replay_server, viewer_login, "/")
    held, served = [], []

    def first_only(route):
        """The first segment goes through; the others wait until the test lets them."""
        if served:
            held.append(route)
        else:
            served.append(route.request.url)
            route.continue_()

    page.route(re.compile(r".*/segments/[^/]+$"), first_only)
    page.goto(f"{replay_server}/sessions/{sid}")
    # Playing starts on the first segment alone: the rest is still on its way.
    page.wait_for_selector("#player[data-ready=true]", timeout=15000)
    page.frame_locator("#player iframe").locator("h1").wait_for(timeout=10000)
    assert page.get_attribute("#player", "data-loaded") is None and len(served) == 1
    fed = page.evaluate("""() => { const r = window.ReplayView.player.getReplayer();
        const first = r.service.state.context.events.map(e => e.timestamp);
        window.__fed = []; const add = r.addEvent.bind(r);
        r.addEvent = (e) => { window.__fed.push(e.timestamp); return add(e); };
        return first; }""")
    assert fed == sorted(fed) and 2 < len(fed) < len(everything)
    # Ask for a late moment before it is loaded: the page waits for it, then goes there.
    page.evaluate("window.ReplayView.seek(7000)")
    assert page.inner_text("#load-state") == "Loading the recording up to 0:07.0…"
    assert page.evaluate(NOW) < 1000
    deadline = time.monotonic() + 20
    while page.get_attribute("#player", "data-loaded") is None:  # let them through one by one, as a slow network
        assert time.monotonic() < deadline, f"{len(held)} segment requests held"
        if held:
            held.pop(0).continue_()
        page.wait_for_timeout(30)
    later = page.evaluate("window.__fed")
    # Every event once, handed over in time order across the overlapping tabs.
    assert fed + later == sorted(e["timestamp"] for e in everything)
    assert later == sorted(later) and later[0] >= fed[-1]
    meta = page.evaluate("window.ReplayView.player.getMetaData()")
    assert meta["totalTime"] == everything[-1]["timestamp"] - everything[0]["timestamp"]
    page.wait_for_function(f"() => Math.abs({NOW} - 7000) < 50")
    assert errors == []
    context.close()


def test_the_current_row_is_kept_in_view_unless_the_user_scrolled(browser, replay_server, viewer_login, two_tabs):
    context, page, errors = open_page(browser, replay_server, viewer_login, f"/sessions/{two_tabs['session']}")
    page.set_viewport_size({"width": 1400, "height": 560})
    page.wait_for_selector("#player[data-loaded=true]")
    page.click("[role=tab][data-panel=console]")
    page.wait_for_selector("ol.console li.row")
    panel = page.locator("#panel-console")
    assert page.evaluate("() => { const p = document.getElementById('panel-console'); "
                         "return p.scrollHeight > p.clientHeight + 100; }")
    last = page.locator("ol.console li.row").last
    page.evaluate(f"window.ReplayView.seek({last.get_attribute('data-offset')})")
    page.wait_for_function("() => document.querySelector('ol.console li.row:last-child.current')")
    page.wait_for_function("() => document.getElementById('panel-console').scrollTop > 0")
    # The user scrolls back up: playback moves the highlight but leaves the panel where the user put it.
    panel.hover()
    page.mouse.wheel(0, -5000)
    page.wait_for_function("() => document.getElementById('panel-console').scrollTop === 0")
    page.evaluate(f"window.ReplayView.seek({page.locator('ol.console li.row').nth(12).get_attribute('data-offset')})")
    page.wait_for_function("() => document.querySelectorAll('ol.console li.row')[12].classList.contains('current')")
    page.wait_for_timeout(200)
    assert panel.evaluate("p => p.scrollTop") == 0
    assert errors == []
    context.close()
