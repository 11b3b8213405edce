"""The replay page's timeline and call times in Chromium, over a session timed to the millisecond: a 10 s
gateway timeout sent at 0:01 with a console error at the same moment, the page's own events (Replay.track),
and Replay.identify(null)."""
from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import ARTIFACTS, poll
from tests.e2e.recorded import call, console, custom, now_ms, page_load, record, text_change
from tests.e2e.test_viewer import login

NOW = "window.ReplayView.player.getReplayer().getCurrentTime()"
STATE = "window.ReplayView.player.getReplayer().service.state.value"
SENT, TOOK, EMITTED, DURATION = 1000, 10_000, 11_003, 15_000


@pytest.fixture(scope="module")
def timed(replay_env, replay_server, site, api_token) -> dict:
    t0, origin = now_ms(), site["origin"]
    session = record(replay_env, origin, site["key"], "timeline_session_0001", [
        page_load(t0, origin + "/checkout", "Checkout") + [
            custom(t0 + 500, "replay.track", {"name": "checkout started", "props": {"cart": 42, "coupon": "<b>x</b>"}}),
            # What the snippet sends for Replay.identify(null): String(null).
            custom(t0 + 600, "replay.identify", {"userId": "null", "traits": {}}),
            console(t0 + SENT, "error", "about to pay"),
        ],
        [text_change(t0 + 11_001, "Status 504"),
         call(t0 + SENT, TOOK, "POST", origin + "/api/pay?order=7", 504, emitted=t0 + EMITTED,
              statusText="Gateway Time-out", requestHeaders={"content-type": "application/json"},
              responseHeaders={"server": "nginx/1.22.1", "content-type": "text/html"},
              responseBody="<html><body><h1>504 Gateway Time-out</h1></body></html>"),
         console(t0 + EMITTED, "error", "payment failed 504"),
         custom(t0 + 12_000, "replay.track", {"name": "payment failed", "props": {"status": 504}}),
         text_change(t0 + DURATION, "Try again later.")],
    ])
    headers = {"Authorization": f"Bearer {api_token}"}
    detail = requests.get(f"{replay_server}/api/sessions/{session}", headers=headers, timeout=10).json()
    [failure] = detail["network_failures"]
    assert detail["duration_ms"] == DURATION and failure["start_ms"] == t0 + SENT
    return {"session": session, "failure": failure, "t0": t0}


def open_page(browser, replay_server, viewer_login, path, width=1400, height=900):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, replay_server, viewer_login, path)
    page.wait_for_selector("#player[data-ready=true]", timeout=15000)
    return context, page, errors


def center(box: dict) -> tuple[float, float]:
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def hit(page, point) -> str:
    """The classes of the element at a point of the page."""
    return page.evaluate("([x, y]) => document.elementFromPoint(x, y).className", list(point))


def test_a_failed_call_shows_where_an_error_is_at_the_same_ms(browser, replay_server, viewer_login, timed):
    context, page, errors = open_page(browser, replay_server, viewer_login, f"/sessions/{timed['session']}")
    red = page.locator("#timeline .marker.failed")
    orange = page.locator("#timeline .marker.error[data-offset='1000']")
    assert red.count() == 1 and red.get_attribute("data-offset") == str(SENT) and orange.count() == 1
    # Both are where the legend says, neither covers the other: the red one's middle is red, the orange one's orange.
    red_box, orange_box = red.bounding_box(), orange.bounding_box()
    assert abs(center(red_box)[0] - center(orange_box)[0]) < 1
    assert hit(page, center(red_box)) == "marker failed"
    assert hit(page, center(orange_box)) == "marker error"
    assert red.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(198, 40, 40)"
    # The error at the moment the call failed too.
    late = page.locator(f"#timeline .marker.error[data-offset='{EMITTED}']")
    assert hit(page, center(late.bounding_box())) == "marker error"
    legend = page.inner_text("#timeline .legend")
    assert "Failed calls" in legend and "Console errors" in legend and "Events" in legend
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".stage").screenshot(path=str(ARTIFACTS / "timeline-lanes.png"))
    assert errors == []
    context.close()


def test_a_call_is_placed_when_it_was_sent_with_a_bar_to_its_answer(browser, replay_server, viewer_login, timed):
    context, page, errors = open_page(browser, replay_server, viewer_login, f"/sessions/{timed['session']}")
    track = page.locator("#timeline .track").bounding_box()
    inner = page.locator("#timeline .lane.calls").bounding_box()
    marker, bar = page.locator("#timeline .marker.failed").bounding_box(), page.locator("#timeline .bar.failed")
    # The marker at the click (1 s of 15), the bar 10 s long from there.
    assert abs(center(marker)[0] - (inner["x"] + inner["width"] * SENT / DURATION)) < 1.5
    box = bar.bounding_box()
    assert abs(box["x"] - (inner["x"] + inner["width"] * SENT / DURATION)) < 1.5
    assert abs(box["width"] - inner["width"] * TOOK / DURATION) < 2, (box, track)
    assert "sent 0:01.0, over 0:11.0 (10 s)" in bar.get_attribute("title")
    # The Network panel lists it at 0:01.0, and its details give both times and the duration.
    row = page.locator("ol.calls li.failed")
    assert row.locator(".seek .time").inner_text() == "0:01.0"
    summary = row.locator("summary")
    assert summary.inner_text() == "Gateway Time-out · sent 0:01.0, answered 0:11.0 (10 s) · fetch"
    summary.click()
    table = row.locator("table.headers").first
    assert table.locator("tr.sent td").inner_text().startswith("0:01.0 · ")
    assert table.locator("tr.answered th").inner_text() == "Answered at"
    assert table.locator("tr.answered td").inner_text().startswith("0:11.0 · ")
    assert table.locator("tr.answered td").inner_text().endswith(" UTC")
    assert table.locator("tr.took td").inner_text() == "10000.0 ms"
    table.scroll_into_view_if_needed()
    page.locator("#panel-network").screenshot(path=str(ARTIFACTS / "replay-call-times.png"))
    assert errors == []
    context.close()


def test_a_call_link_opens_paused_on_the_failure_frame(browser, replay_server, viewer_login, timed):
    path = f"/sessions/{timed['session']}?call={timed['failure']['id']}"
    context, page, errors = open_page(browser, replay_server, viewer_login, path)
    page.wait_for_function(f"() => Math.abs({NOW} - {EMITTED}) < 50")
    assert page.evaluate(STATE) == "paused"
    # The frame is the page as the user saw it when the call failed, not a blank one or the page before.
    frame = page.frame_locator("#player iframe")
    assert frame.locator("h1").inner_text() == "Checkout"
    assert frame.locator("#result").inner_text() == "Status 504"
    page.wait_for_timeout(500)
    assert abs(page.evaluate(NOW) - EMITTED) < 50  # still paused there
    # The failed call's diagnosis is open beside it.
    assert page.locator("ol.calls li.failed details[open] .diagnosis").is_visible()
    bar = page.locator("#at-call")
    assert "504" in bar.inner_text() and "paused where it failed at 0:11.0" in bar.inner_text()
    play = page.locator("#play-lead")
    assert play.inner_text() == "▶ Play from 0:00.0, 1.0 s before it was sent"
    page.screenshot(path=str(ARTIFACTS / "replay-at-failure.png"))
    # One click plays the lead-up: from before the call was sent, onwards.
    play.click()
    page.wait_for_function(f"() => {STATE} === 'playing'")
    assert page.evaluate(NOW) < SENT
    poll(lambda: page.evaluate(NOW) > 200, timeout_s=10, interval_s=0.05)
    assert errors == []
    context.close()


def test_the_pages_own_events_are_listed_and_on_the_timeline(browser, replay_server, viewer_login, timed):
    context, page, errors = open_page(browser, replay_server, viewer_login, f"/sessions/{timed['session']}")
    tab = page.locator("[role=tab][data-panel=events]")
    page.wait_for_function("() => document.querySelector('[data-panel=events] .count').textContent === '2'")
    tab.click()
    rows = page.locator("ol.tracked li.row")
    assert rows.count() == 2
    assert rows.nth(0).locator(".time").inner_text() == "0:00.5"
    assert rows.nth(0).locator(".name").inner_text() == "checkout started"
    # Recorded props are text: the <b> stays as typed.
    assert rows.nth(0).locator(".props").inner_text() == '{"cart":42,"coupon":"<b>x</b>"}'
    assert page.locator("ol.tracked b").count() == 0
    assert rows.nth(1).locator(".name").inner_text() == "payment failed"
    markers = page.locator("#timeline .marker.tracked")
    assert markers.count() == 2
    assert markers.evaluate_all("ms => ms.map(m => +m.dataset.offset)") == [500, 12000]
    assert "payment failed" in markers.nth(1).get_attribute("title")
    assert markers.nth(0).evaluate("e => getComputedStyle(e).backgroundColor") == \
        page.locator(".legend .key.tracked").evaluate("e => getComputedStyle(e).backgroundColor")
    rows.nth(1).locator("button.seek").click()
    page.wait_for_function(f"() => Math.abs({NOW} - 12000) < 50")
    assert "current" in rows.nth(1).get_attribute("class")
    markers.nth(0).click()
    page.wait_for_function(f"() => Math.abs({NOW} - 500) < 50")
    page.screenshot(path=str(ARTIFACTS / "replay-events.png"))
    assert errors == []
    context.close()


def test_identify_without_an_id_shows_no_null_user(browser, replay_server, viewer_login, timed, site, api):
    sid = timed["session"]
    assert api(f"/api/sessions/{sid}").json()["user"] is None  # identify("null") names no user
    context, page, errors = open_page(browser, replay_server, viewer_login, f"/sessions/{sid}")
    facts = page.locator(".session-head .facts")
    assert "User anonymous" in " ".join(facts.inner_text().split())
    page.click("[role=tab][data-panel=session]")
    assert page.locator("#panel-session table.headers").first.locator("td").first.inner_text() == "anonymous"
    page.goto(f"{replay_server}/?project={site['key']}")
    row = page.locator(f"table.sessions tbody tr[data-session='{sid}']")
    assert row.locator("td.user").inner_text() == "—"
    page.goto(f"{replay_server}/failures?project={site['key']}")
    page.locator("table.groups tbody tr", has_text="/api/pay").locator("td.call a").click()
    page.wait_for_url("**/failures/*")
    assert page.locator(f"tr[data-session='{sid}'] td.user").inner_text() == "—"
    exported = context.request.get(f"{replay_server}/sessions/{sid}/export").text()
    assert "user anonymous" in exported and "user null" not in exported
    for path in (f"/sessions/{sid}", f"/?project={site['key']}"):
        page.goto(replay_server + path)
        assert "null" not in page.locator("main").inner_text()
    assert errors == []
    context.close()


def test_at_1024_by_768_the_failed_calls_diagnosis_is_in_view(browser, replay_server, viewer_login, timed):
    path = f"/sessions/{timed['session']}?call={timed['failure']['id']}"
    context, page, errors = open_page(browser, replay_server, viewer_login, path, width=1024, height=768)
    page.wait_for_function(f"() => Math.abs({NOW} - {EMITTED}) < 50")
    assert page.evaluate("window.scrollY") == 0
    opened = page.locator("ol.calls li.failed details[open]")
    for part in (".diag-title", ".diag-summary"):
        box = opened.locator(part).bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= 768, (part, box)
        assert opened.locator(part).is_visible()
    # Player and panels side by side, the play button in view too.
    assert page.locator("aside.panels").bounding_box()["x"] > page.locator("#player").bounding_box()["x"] + 300
    play = page.locator("#play-lead").bounding_box()
    assert play["y"] + play["height"] <= 768
    page.screenshot(path=str(ARTIFACTS / "replay-1024x768.png"))
    assert errors == []
    context.close()


@pytest.fixture(scope="module")
def crowded(replay_env, replay_server, site, api_token) -> dict:
    """Four calls fail as the page loads, at one millisecond (one tracked event then too); one more at 0:08.7."""
    t0, origin = now_ms(), site["origin"]
    loading = [call(t0 + 100, ms, "GET", f"{origin}/api/{path}", status) for path, status, ms in
               (("me", 503, 40), ("cart", 502, 12), ("prices", 502, 30), ("stock", 504, 5000))]
    session = record(replay_env, origin, site["key"], "timeline_crowded_0001", [
        page_load(t0, origin + "/shop", "Shop") + [custom(t0 + 100, "replay.track", {"name": "shop opened"})] + loading,
        [call(t0 + 8_700, 20, "POST", origin + "/api/checkout", 502), text_change(t0 + 12_000, "Sorry.")],
    ])
    headers = {"Authorization": f"Bearer {api_token}"}
    poll(lambda: len(requests.get(f"{replay_server}/api/sessions/{session}", headers=headers,
                                  timeout=10).json().get("network_failures") or []) == 5)
    return {"session": session, "t0": t0}


def test_calls_failing_at_one_moment_make_one_mark_that_says_how_many(browser, replay_server, viewer_login, crowded):
    context, page, errors = open_page(browser, replay_server, viewer_login, f"/sessions/{crowded['session']}")
    marks = page.locator("#timeline .lane.calls .marker.failed")
    assert marks.count() == 2, "the four page-load failures stack; the checkout failure stands alone"
    many = page.locator("#timeline .marker.failed.many")
    assert many.inner_text() == "4"
    title = many.get_attribute("title")
    assert title.startswith("0:00.1 · 4 at once: ") and all(p in title for p in ("/api/me", "/api/cart", "/api/stock"))
    assert page.locator("#timeline .lane.calls .bar.failed").count() == 5, "every call keeps its bar"
    # The page load and the tracked event at the same moment both stay visible, one above the other.
    page.wait_for_selector("#timeline .marker.tracked")
    tracked, loaded = (page.locator(f"#timeline .marker.{k}").first.bounding_box() for k in ("tracked", "page"))
    assert loaded["y"] + loaded["height"] <= tracked["y"] + 0.5
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#timeline").screenshot(path=str(ARTIFACTS / "timeline-stacked.png"))
    assert errors == []
    context.close()


def test_copy_for_ticket_without_a_chosen_call_is_about_the_failure_nearest_the_moment(
        browser, replay_server, viewer_login, crowded):
    context = browser.new_context(viewport={"width": 1400, "height": 900},
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    login(page, replay_server, viewer_login, f"/sessions/{crowded['session']}?t=9000")
    page.wait_for_selector("#player[data-ready=true]", timeout=15000)
    page.click("#copy-ticket")
    page.wait_for_selector("#copied:not([hidden])")
    ticket = page.evaluate("navigator.clipboard.readText()")
    assert "`POST " in ticket and "/api/checkout`" in ticket and "/api/me" not in ticket
    context.close()


def test_a_link_to_a_call_that_is_not_there_says_so(browser, replay_server, viewer_login, crowded):
    context, page, errors = open_page(browser, replay_server, viewer_login,
                                      f"/sessions/{crowded['session']}?call=nope:1:0")
    note = page.locator("#at-call-missing")
    assert note.is_visible() and "not in this session's failed calls" in note.inner_text()
    assert errors == []
    context.close()


def test_the_player_follows_a_resized_window(browser, replay_server, viewer_login, timed):
    context, page, errors = open_page(browser, replay_server, viewer_login, f"/sessions/{timed['session']}")
    fits = ("() => { const box = document.getElementById('player').getBoundingClientRect();"
            " const bar = document.querySelector('#player .rr-controller').getBoundingClientRect();"
            " return bar.left >= box.left && bar.right <= box.right + 0.5; }")
    assert page.evaluate(fits)
    wide = page.evaluate("document.querySelector('#player .rr-player').offsetWidth")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.wait_for_function(fits, timeout=5000)
    assert page.evaluate("document.querySelector('#player .rr-player').offsetWidth") < wide
    page.screenshot(path=str(ARTIFACTS / "replay-resized-1024.png"))
    assert errors == []
    context.close()
