"""The replay page's data and pages over sessions that went through ingest and the flush job:
calls, console, segments (through a login, a token and a share link), export, and escaping."""
import html as htmlmod
import json
import re

import pytest

from replay.ingest.service import Connection
from tests.web_fixtures import ORIGIN, SECRET, T0, get, net
from tests.viewer.test_share import login, page_csrf, share
from worker import context, jobs
from replay.storage import recording

HOSTILE = "sess_hostile_0123456789"
W1, W2 = "win_one_0123456789ab", "win_two_0123456789ab"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


def console(level, t, *args, **extra):
    return {"type": 5, "timestamp": t, "data": {"tag": "replay.console", "payload": {"level": level, "args": list(args),
                                                                                     **extra}}}


def page(t, path):
    return [{"type": 4, "timestamp": t, "data": {"href": ORIGIN + path, "width": 1024, "height": 700}},
            {"type": 2, "timestamp": t + 1, "data": {"node": {"type": 0, "childNodes": [], "id": 1},
                                                     "initialOffset": {"top": 0, "left": 0}}}]


@pytest.fixture
def hostile(app, project_key):
    """Two tabs whose recordings interleave in time, flushed three times; recorded text full of HTML."""
    svc = app.extensions["replay"]
    context.configure(svc.settings)
    tabs = {}
    for window, path in ((W1, "/cart"), (W2, "/help")):
        tabs[window] = Connection(origin=ORIGIN)
        app.extensions["replay.ingest"].receive(tabs[window], json.dumps({"type": "hello", "v": 1, "key": project_key, "secret": SECRET, "session": HOSTILE,
                                                     "window": window, "url": ORIGIN + path, "ua": "pytest"}))
    batches = [
        (W1, 1, page(T0, "/cart") + [console("log", T0 + 10, "hello", "{\"n\":1}"), console("debug", T0 + 20, "dbg")]),
        (W2, 1, page(T0 + 50, "/help") + [console("warn", T0 + 60, "typed " + IMG)]),
        (W1, 2, [net(200, ORIGIN + "/api/ok", T0 + 100),
                 net(502, ORIGIN + "/api/orders?x=" + IMG, T0 + 200, method="POST",
                     responseHeaders={"server": "nginx"}, responseBody="<h1>502</h1>" + SCRIPT),
                 console("error", T0 + 210, "failed " + SCRIPT, trace="at f (app.js:1)")]),
        (W2, 2, [console("info", T0 + 150, "between"),
                 {"type": 5, "timestamp": T0 + 300, "data": {"tag": "replay.error", "payload": {
                     "kind": "error", "message": "TypeError " + IMG, "source": ORIGIN + "/app.js", "line": 3,
                     "column": 7, "stack": "TypeError\n at " + SCRIPT}}}]),
        (W1, 3, [net(0, ORIGIN + "/api/late", T0 + 400, error="network")]),
    ]
    for i, (window, seq, events) in enumerate(batches):
        app.extensions["replay.ingest"].receive(tabs[window], json.dumps({"type": "batch", "seq": seq, "events": events}))
        if i in (1, 3):
            jobs.flush_session(HOSTILE)
    jobs.flush_session(HOSTILE)
    return HOSTILE


@pytest.fixture
def dev(app, accounts):
    client = app.test_client()
    login(client, accounts, "dev@example.com")
    return client


def all_events(client, sid, token):
    return json.loads(get(client, f"/api/sessions/{sid}/events", token).data)


# --- the JSON endpoints -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("what", ["calls", "console", "segments", "segments/win_one_0123456789ab.1-1"])
def test_the_new_endpoints_need_a_token_or_a_login_and_a_session(client, dev, token, hostile, what):
    r = client.get(f"/api/sessions/{hostile}/{what}")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    assert get(client, f"/api/sessions/{hostile}/{what}", "nope").status_code == 401
    assert get(client, f"/api/sessions/{hostile}/{what}", token).status_code == 200
    assert dev.get(f"/api/sessions/{hostile}/{what}").status_code == 200
    for sid in ("sess_doesnotexist00", "x"):
        r = get(client, f"/api/sessions/{sid}/{what}", token)
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_calls_lists_every_call_with_the_manifests_ids(client, token, hostile):
    body = get(client, f"/api/sessions/{hostile}/calls", token).get_json()
    calls = body["calls"]
    assert [(c["status"], c["offset_ms"], c["failed"]) for c in calls] == [(200, 100, False), (502, 200, True),
                                                                           (0, 400, True)]
    failures = get(client, f"/api/sessions/{hostile}", token).get_json()["network_failures"]
    assert [c["id"] for c in calls if c["failed"]] == [f["id"] for f in failures]
    assert calls[0]["id"] is None and calls[0]["response_body"] is None and calls[0]["response_headers"] == {}
    assert calls[1]["method"] == "POST" and calls[1]["response_headers"] == {"server": "nginx"}
    assert SCRIPT in calls[1]["response_body"] and calls[2]["error"] == "network"
    assert body["count"] == 3 and body["truncated"] is False


def test_console_lists_every_level_and_the_uncaught_errors_in_time_order(client, token, hostile):
    entries = get(client, f"/api/sessions/{hostile}/console", token).get_json()["entries"]
    assert [(e["offset_ms"], e["level"], e["kind"]) for e in entries] == [
        (10, "log", "console"), (20, "debug", "console"), (60, "warn", "console"), (150, "info", "console"),
        (210, "error", "console"), (300, "error", "exception")]
    assert entries[0]["message"] == 'hello {"n":1}' and entries[0]["args"] == ["hello", '{"n":1}']
    assert entries[4]["stack"] == "at f (app.js:1)"
    assert entries[5]["message"] == "TypeError " + IMG and entries[5]["line"] == 3


def test_segments_come_in_time_order_and_hold_the_whole_recording(client, token, hostile):
    listing = get(client, f"/api/sessions/{hostile}/segments", token).get_json()
    segs = listing["segments"]
    assert listing["started_ms"] == T0 and len(segs) == 5
    assert [s["start_ms"] for s in segs] == sorted(s["start_ms"] for s in segs)
    assert {s["window"] for s in segs} == {W1, W2}
    assert all(set(s) == {"id", "window", "first_seq", "last_seq", "from_seq", "start_ms", "end_ms"} for s in segs)
    assert [(s["window"], s["first_seq"]) for s in segs] == [(W1, 1), (W2, 1), (W1, 2), (W2, 2), (W1, 3)]
    # The tabs overlap in time: W2's second segment starts before W1's second one ends.
    assert segs[3]["start_ms"] < segs[2]["end_ms"]
    fetched = []
    for s in segs:
        events = get(client, f"/api/sessions/{hostile}/segments/{s['id']}", token).get_json()
        assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
        assert events[0]["timestamp"] == s["start_ms"] and events[-1]["timestamp"] == s["end_ms"]
        fetched += events
    # Merged by time, the segments are exactly the recording /events streams.
    assert sorted(fetched, key=lambda e: e["timestamp"]) == all_events(client, hostile, token)
    for bad in ("nope", f"{W1}.9-9", f"{W1}.1-1/../x", f"{W1}.1-1x"):
        assert get(client, f"/api/sessions/{hostile}/segments/{bad}", token).status_code == 404


def test_segment_times_come_from_the_manifest_and_older_manifests_still_list(app, client, token, hostile):
    store = app.extensions["replay"].store
    manifest = recording.load_manifest(store, hostile)
    assert sorted(manifest["segment_spans"]) == sorted(manifest["segments"])
    before = get(client, f"/api/sessions/{hostile}/segments", token).get_json()
    del manifest["segment_spans"]
    recording.save_manifest(store, manifest)
    assert get(client, f"/api/sessions/{hostile}/segments", token).get_json() == before
    assert "segment_spans" not in get(client, f"/api/sessions/{hostile}", token).get_json()


def test_a_retried_flushs_overlapping_segment_gives_each_batch_once(app, client, token, recorded):  # noqa: F811
    """A flush that wrote seqs 1-2 and died before its manifest, retried as 1-3: both keys may be listed."""
    store = app.extensions["replay"].store
    manifest = recording.load_manifest(store, recorded)
    [key] = manifest["segments"]
    segment = recording.read_segment(store, key)
    window = segment["window"]
    extra = {"seq": 2, "received_ms": T0 + 500, "url": ORIGIN, "events": [net(200, ORIGIN + "/api/two", T0 + 500)]}
    wider = key.replace("0000000001-0000000001", "0000000001-0000000002")
    store.put(wider, recording.encode_segment(recorded, window, segment["batches"] + [extra]))
    manifest["segments"] = sorted([key, wider])
    recording.save_manifest(store, manifest)
    [seg] = get(client, f"/api/sessions/{recorded}/segments", token).get_json()["segments"]
    assert (seg["first_seq"], seg["last_seq"], seg["end_ms"]) == (1, 2, T0 + 500)
    events = get(client, f"/api/sessions/{recorded}/segments/{seg['id']}", token).get_json()
    assert len(events) == 6
    calls = get(client, f"/api/sessions/{recorded}/calls", token).get_json()["calls"]
    assert [c["url"].rsplit("/", 1)[1] for c in calls] == ["ok", "orders", "two"]


# --- through a share link -----------------------------------------------------------------------------------------

def test_a_share_link_serves_the_pages_data_until_revoked(app, accounts, hostile):
    client = app.test_client()
    login(client, accounts, "dev@example.com")
    made = share(client, page_csrf(client, hostile), hostile).get_json()
    token = made["url"].rsplit("/share/", 1)[1]
    stranger = app.test_client()
    html = stranger.get(f"/share/{token}").get_data(as_text=True)
    assert f'data-api="/share/{token}"' in html and 'id="share-open"' not in html and "/export" not in html
    listing = stranger.get(f"/share/{token}/segments").get_json()
    assert len(listing["segments"]) == 5
    first = stranger.get(f"/share/{token}/segments/{listing['segments'][0]['id']}")
    assert first.status_code == 200 and first.get_json()[0]["type"] == 4
    assert len(stranger.get(f"/share/{token}/calls").get_json()["calls"]) == 3
    assert len(stranger.get(f"/share/{token}/console").get_json()["entries"]) == 6
    assert stranger.get(f"/share/{token}/segments/nope").status_code == 404
    # The token opens nothing of the API.
    assert stranger.get(f"/api/sessions/{hostile}/segments").status_code == 401
    client.post(f"/share/{made['id']}/revoke", headers={"X-CSRF-Token": page_csrf(client, hostile)})
    for what in ("segments", f"segments/{listing['segments'][0]['id']}", "calls", "console"):
        r = stranger.get(f"/share/{token}/{what}")
        assert r.status_code == 410 and r.get_json()["error"]["code"] == "revoked"


# --- pages: escaping, timeline, export --------------------------------------------------------------------------------

def test_recorded_html_is_escaped_in_the_replay_page(dev, hostile):
    html = dev.get(f"/sessions/{hostile}").get_data(as_text=True)
    for raw in (SCRIPT, IMG):
        assert raw not in html
    assert htmlmod.escape(SCRIPT, quote=False) in html  # console.error message and the response body
    assert htmlmod.escape("/api/orders?x=" + IMG, quote=False) in html  # the failed call's URL, as text
    assert f'data-url="{htmlmod.escape(ORIGIN + "/api/orders?x=" + IMG)}"' in html  # and as an attribute
    assert "<pre class=\"body\">&lt;h1&gt;502&lt;/h1&gt;&lt;script&gt;" in html
    # Only our own script files run: no inline script at all.
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)


def test_the_page_has_timeline_markers_and_panels(dev, token, client, hostile):
    html = dev.get(f"/sessions/{hostile}").get_data(as_text=True)
    marks = re.findall(r'class="marker (\w+)" data-offset="(\d+)" style="left: ([\d.]+)%"', html)
    kinds = sorted((k, int(o)) for k, o, _ in marks)
    assert kinds == [("error", 210), ("error", 300), ("failed", 200), ("failed", 400), ("page", 0), ("page", 50)]
    assert ("failed", "400", "100.0") in marks
    for panel in ("network", "console", "errors", "session"):
        assert f'id="panel-{panel}"' in html
    assert ORIGIN + "/help" in html and 'data-api="/api/sessions/' + hostile + '"' in html


def test_export_needs_a_login(client, hostile):
    r = client.get(f"/sessions/{hostile}/export")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_export_is_one_self_contained_html_file(dev, client, token, hostile):
    r = dev.get(f"/sessions/{hostile}/export")
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert r.headers["Content-Disposition"] == f'attachment; filename="replay-{hostile}.html"'
    html = r.get_data(as_text=True)
    # Nothing to fetch: the player's script and styles are inside, and no src or href points out.
    assert "rrwebPlayer" in html and ".rr-player" in html
    outside = re.sub(r"<script>.*?</script>", "", html, flags=re.S)
    assert not re.search(r'<(script|link|img|iframe)[^>]+(src|href)=', outside)
    block = re.search(r'<script type="application/json" id="replay-events">(.*?)</script>', html, re.S).group(1)
    assert "<" not in block and "\\u003cscript>alert(1)\\u003c/script>" in block
    assert json.loads(block) == all_events(client, hostile, token)
    # Recorded text in the failed-calls list is escaped; nothing recorded can end a script early.
    assert SCRIPT not in html and IMG not in html
    assert htmlmod.escape("/api/orders?x=" + IMG, quote=False) in html
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(scripts) == 2 and "replay-events" in scripts[1]


def test_export_inlines_scripts_safely():
    from replay.viewer.export import inline_json, inline_script

    assert inline_json({"a": "</script><!--"}) == '{"a":"\\u003c/script>\\u003c!--"}'
    assert json.loads(inline_json({"a": "</script>"})) == {"a": "</script>"}
    assert inline_script('x = "</SCRIPT>"') == 'x = "<\\/SCRIPT>"'


def test_a_segment_flushed_after_the_listing_was_read_is_still_served(app, client, token, recorded):
    svc = app.extensions["replay"]
    [first] = get(client, f"/api/sessions/{recorded}/segments", token).get_json()["segments"]
    assert get(client, f"/api/sessions/{recorded}/segments/{first['id']}", token).status_code == 200
    conn = Connection(origin=ORIGIN)
    hello = {"type": "hello", "v": 1, "secret": SECRET, "key": svc.redis.hget(svc.keys.session_meta(recorded), "project").decode(),
             "session": recorded, "window": first["window"], "url": ORIGIN + "/cart", "ua": "pytest"}
    app.extensions["replay.ingest"].receive(conn, json.dumps(hello))
    app.extensions["replay.ingest"].receive(conn, json.dumps({"type": "batch", "seq": 2, "events": [console("log", T0 + 900, "later")]}))
    jobs.flush_session(recorded)
    listed = get(client, f"/api/sessions/{recorded}/segments", token).get_json()["segments"]
    newest = [s for s in listed if s["id"] != first["id"]]
    assert newest, listed
    r = get(client, f"/api/sessions/{recorded}/segments/{newest[0]['id']}", token)
    assert r.status_code == 200 and any(e.get("timestamp") == T0 + 900 for e in r.get_json())
    assert get(client, f"/api/sessions/{recorded}/segments/{first['window']}.7-9", token).status_code == 404


# --- recorded data no parser takes apart ------------------------------------------------------------------------------

UNPARSABLE_URLS = ["http://[", "http://[::1/x", ORIGIN + ":abc/api", ORIGIN + ":99999/api"]


def record(app, project_key, session, events, url=ORIGIN + "/"):
    """One batch through ingest, flushed by the real job."""
    context.configure(app.extensions["replay"].settings)
    conn, ingest = Connection(origin=ORIGIN), app.extensions["replay.ingest"]
    ingest.receive(conn, json.dumps({"type": "hello", "v": 1, "key": project_key, "secret": SECRET, "session": session,
                                     "window": W1, "url": url, "ua": "pytest"}))
    ingest.receive(conn, json.dumps({"type": "batch", "seq": 1, "events": events}))
    jobs.flush_session(session)
    return session


@pytest.mark.parametrize("url", UNPARSABLE_URLS)
def test_urls_no_parser_takes_apart_do_not_break_the_replay_page(app, project_key, accounts, url):
    # urlsplit raised ValueError (an open IPv6 bracket; a port that is no number, or past 65535) on the
    # page's URL and on each failed call's: the replay page and its share link answered 500.
    sid = record(app, project_key, "sess_badurl_0123456789", [
        {"type": 4, "timestamp": T0, "data": {"href": url, "width": 800, "height": 600}},
        net(502, url, T0 + 100, responseHeaders={"server": "nginx"}), net(0, url, T0 + 200, error="network")], url=url)
    client = app.test_client()
    login(client, accounts, "dev@example.com")
    page = client.get(f"/sessions/{sid}")
    assert page.status_code == 200
    token = share(client, page_csrf(client, sid), sid).get_json()["url"].rsplit("/share/", 1)[1]
    assert app.test_client().get(f"/share/{token}").status_code == 200
