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
    marks = re.findall(r'class="marker (\w+)" data-offset="(\d+)" style="left: clamp\(2px, ([\d.]+)%', html)
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


# --- call times, the page's own events, users, groups, pages not there ------------------------------------------------

def timed_call(sent, took, emitted, status=504, url=ORIGIN + "/api/pay"):
    """A call sent at `sent`, answered `took` ms later, its event emitted at `emitted` (after reading the body)."""
    return net(status, url, emitted, startTime=sent, duration=took, statusText="Gateway Time-out")


def test_a_call_is_placed_when_it_was_sent_and_opened_where_it_failed(app, project_key, accounts, token):
    sid = record(app, project_key, "sess_timed_0123456789", page(T0, "/checkout") + [
        timed_call(T0 + 5000, 10_000, T0 + 15_003), console("log", T0 + 20_000, "end")])
    calls = get(app.test_client(), f"/api/sessions/{sid}/calls", token).get_json()["calls"]
    assert [(c["offset_ms"], c["end_offset_ms"]) for c in calls] == [(5000, 15_000)]
    client = app.test_client()
    login(client, accounts, "dev@example.com")
    html = client.get(f"/sessions/{sid}").get_data(as_text=True)
    # The marker where it was sent (a quarter in), a bar half the session long to its answer.
    assert re.search(r'class="marker failed" data-offset="5000" style="left: clamp\(2px, 25.0%, ', html)
    assert re.search(r'class="bar failed" data-offset="5000" data-end="15000" style="left: 25.0%; width: 50.0%"', html)
    assert "<th>Sent at</th><td>0:05.0 · " in html and "<th>Answered at</th><td>0:15.0 · " in html
    assert "sent 0:05.0, answered 0:15.0 (10 s)" in html
    [failure] = get(client, f"/api/sessions/{sid}", token).get_json()["network_failures"]
    html = client.get(f"/sessions/{sid}?call={failure['id']}").get_data(as_text=True)
    # Paused where it failed (its outcome recorded at 15.003 s); the lead-up plays from 3 s before it was sent.
    assert 'data-t="15003"' in html and 'id="play-lead" class="primary" data-from="2000"' in html
    assert "Play from 0:02.0, 3.0 s before it was sent" in html


def test_failed_and_error_marks_have_lanes_of_their_own(dev, hostile):
    html = dev.get(f"/sessions/{hostile}").get_data(as_text=True)
    lanes = dict(re.findall(r'<div class="lane (\w+)"[^>]*>(.*?)</div>', html, re.S))
    assert set(lanes) == {"calls", "errors", "frustration", "events"}
    assert lanes["frustration"].strip() == ""
    assert re.findall(r'class="marker (\w+)"', lanes["calls"]) == ["failed", "failed"]
    assert re.findall(r'class="marker (\w+)"', lanes["errors"]) == ["error", "error"]
    assert re.findall(r'class="marker (\w+)"', lanes["events"]) == ["page", "page"]


def track(t, name, props=None):
    return {"type": 5, "timestamp": t, "data": {"tag": "replay.track", "payload": {"name": name, "props": props}}}


def test_the_pages_own_events_are_served_in_time_order(app, project_key, accounts, token):
    from replay.api.session_data import MAX_TRACK_PROPS_CHARS

    big = {"text": "x" * (MAX_TRACK_PROPS_CHARS + 10)}
    sid = record(app, project_key, "sess_track_0123456789", page(T0, "/") + [
        track(T0 + 300, "paid", {"amount": 12.5, "html": IMG}), track(T0 + 100, "opened"),
        track(T0 + 200, "", {"no": "name"}), track(T0 + 250, "huge", big), track(T0 + 260, "odd", ["not", "a", "dict"]),
        {"type": 5, "timestamp": T0 + 270, "data": {"tag": "replay.track", "payload": "nope"}}])
    body = get(app.test_client(), f"/api/sessions/{sid}/tracked", token).get_json()
    assert [(e["offset_ms"], e["name"]) for e in body["events"]] == [(100, "opened"), (250, "huge"), (260, "odd"),
                                                                    (300, "paid")]
    opened, huge, odd, paid = body["events"]
    assert opened["props"] == {} and odd["props"] == {} and paid["props"] == {"amount": 12.5, "html": IMG}
    assert huge["props_truncated"] and len(huge["props"]) == MAX_TRACK_PROPS_CHARS
    assert body["count"] == 4 and body["truncated"] is False
    assert app.test_client().get(f"/api/sessions/{sid}/tracked").status_code == 401
    # Through a share link too.
    client = app.test_client()
    login(client, accounts, "dev@example.com")
    shared = share(client, page_csrf(client, sid), sid).get_json()["url"].rsplit("/share/", 1)[1]
    assert app.test_client().get(f"/share/{shared}/tracked").get_json()["events"] == body["events"]


def test_identify_without_an_id_shows_no_user(app, project_key, accounts):
    from replay.viewer.session_view import user_id

    sid = record(app, project_key, "sess_nulluser_01234567", page(T0, "/") + [
        {"type": 5, "timestamp": T0 + 10, "data": {"tag": "replay.identify", "payload": {"userId": "null"}}}])
    client = app.test_client()
    login(client, accounts, "dev@example.com")
    html = client.get(f"/sessions/{sid}").get_data(as_text=True)
    assert "<dt>User</dt><dd>anonymous</dd>" in html and 'data-user="anonymous"' in html
    assert ">null<" not in html
    listed = client.get("/").get_data(as_text=True)
    row = re.search(rf'<tr class="[^"]*" data-session="{sid}">(.*?)</tr>', listed, re.S).group(1)
    assert '<td class="user"><span class="none">—</span></td>' in row
    assert "user anonymous" in client.get(f"/sessions/{sid}/export").get_data(as_text=True)
    assert [user_id(u) for u in ({"id": "null"}, {"id": "undefined"}, {"id": " "}, None, {"id": "u-1"})] == \
        [None, None, None, None, "u-1"]


def test_pages_not_there_are_html_and_the_api_stays_json(dev, token, client, recorded):  # noqa: F811
    for path in ("/sessions/sess_nothere_0123456789", "/sessions/x", "/failures/0123456789abcdef",
                 f"/failures/0123456789abcdef/sessions/{recorded}", "/sessions/sess_nothere_0123456789/export"):
        r = dev.get(path)
        assert r.status_code == 404 and r.mimetype == "text/html", path
        assert "<h1>Not found</h1>" in r.get_data(as_text=True) and 'class="brand"' in r.get_data(as_text=True)
    r = get(client, "/api/sessions/sess_nothere_0123456789", token)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_the_failed_calls_page_filters_by_project_and_time(app, dev, accounts, recorded):  # noqa: F811
    other = accounts.create_project("other", ["https://other.example"]).key
    svc = app.extensions["replay"]
    [key] = [p.key for p in svc.accounts.projects() if p.name == "shop"]

    def listed(query):
        # Method, then host and route (the route may break after each slash: <wbr>).
        found = re.findall(r'<td class="call"><a [^>]*><span class="method">(\w+)</span> (.*?)</a>'
                           r'(?: <span class="host">([^<]+)</span>)?', dev.get("/failures?" + query).get_data(as_text=True))
        return [(method, host + route.replace("<wbr>", "")) for method, route, host in found]

    orders = [("GET", "shop.example/api/orders")]
    assert listed(f"project={key}") == orders
    assert listed(f"project={other}") == []
    assert "No failed calls match these filters" in dev.get(f"/failures?project={other}").get_data(as_text=True)
    assert listed(f"since={T0}&until={T0 + 1000}") == orders
    assert listed("since=2024-11-22T04:33:20") == orders
    assert listed(f"since={T0 + 3_600_000 * 2}") == []
    assert listed(f"until={T0 - 3_600_000 * 2}") == []
    # Empty fields leave the URL; a time no one can read is a 400 that says why.
    r = dev.get(f"/failures?status=&url=&project={key}&since=&until=")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/failures?project={key}")
    r = dev.get("/failures?until=soon")
    assert r.status_code == 400 and "To is a date and time" in r.get_data(as_text=True)


def test_a_group_opens_a_session_at_its_first_call_of_the_group(app, project_key, accounts, token):
    sid = record(app, project_key, "sess_groupfirst_012345", page(T0, "/") + [
        net(503, ORIGIN + "/api/orders/1", T0 + 100), net(502, ORIGIN + "/api/orders/7", T0 + 200),
        net(502, ORIGIN + "/api/orders/8", T0 + 300), net(502, ORIGIN + "/api/other", T0 + 50)])
    client = app.test_client()
    login(client, accounts, "dev@example.com")
    failures = {f["ts"]: f["id"] for f in get(client, f"/api/sessions/{sid}", token).get_json()["network_failures"]}
    [group] = get(client, "/api/failures?status=502&url=/api/orders", token).get_json()["groups"]
    # The index keeps the latest call of the group; the page's link opens at the first.
    [item] = get(client, f"/api/failures/{group['id']}/sessions", token).get_json()["sessions"]
    assert item["call"] == failures[T0 + 300]
    html = client.get(f"/failures/{group['id']}").get_data(as_text=True)
    assert f'href="/failures/{group["id"]}/sessions/{sid}"' in html
    r = client.get(f"/failures/{group['id']}/sessions/{sid}")
    assert r.status_code == 302 and r.headers["Location"] == f"/sessions/{sid}?call={failures[T0 + 200]}"


def test_marks_of_one_kind_at_one_place_stack_and_other_kinds_do_not():
    from replay.viewer.session_view import stack

    marks = stack([{"kind": "failed", "offset": o, "pct": p, "label": f"50{i} /api/{i}"}
                   for i, (o, p) in enumerate([(100, 0.1), (100, 0.1), (150, 0.5), (900, 9.0)])]
                  + [{"kind": "page", "offset": 100, "pct": 0.1, "label": "Page: /"}])
    shown = [(m["kind"], m.get("count"), m["offset"]) for m in marks if not m.get("hidden")]
    assert shown == [("failed", 3, 100), ("failed", None, 900), ("page", None, 100)]
    assert marks[0]["label"] == "3 at once: 500 /api/0; 501 /api/1; 502 /api/2"
