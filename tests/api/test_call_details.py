"""Call details through the API and the viewer: recovered calls, timing, query parameters, request bodies."""
import json

from replay.core import body_capture
from replay.ingest.service import Connection
from tests.web_fixtures import ORIGIN, SECRET, T0, get, net
from worker import context, jobs

SESSION, WINDOW = "sess_details_0123456789", "win_details_0123456789"
BODY = '{"email":"a@b.test","password":"hunter2","card":"4111 1111 1111 1111"}'
TIMING = {"dns": 1.5, "connect": 3, "tls": 4.2, "ttfb": 20, "download": 0.8}


def record(app, project_key):
    conn = Connection(origin=ORIGIN)
    ingest = app.extensions["replay.ingest"]
    ingest.receive(conn, json.dumps({"type": "hello", "v": 1, "key": project_key, "secret": SECRET, "session": SESSION,
                                     "window": WINDOW, "url": ORIGIN + "/cart", "ua": "pytest"}))
    events = [
        {"type": 4, "timestamp": T0, "data": {"href": ORIGIN + "/cart", "width": 800, "height": 600}},
        net(503, ORIGIN + "/api/me", T0 + 50, method=None, recovered=True, statusText="", timing=TIMING),
        net(502, ORIGIN + "/api/pay?token=abc&step=2", T0 + 200, method="POST", requestBody=BODY, timing=TIMING),
    ]
    ingest.receive(conn, json.dumps({"type": "batch", "seq": 1, "events": events}))
    context.configure(app.extensions["replay"].settings)
    jobs.flush_session(SESSION)


def test_api_and_page_show_recovered_calls_timing_query_and_opted_in_bodies(app, viewer, token, project_key):
    svc = app.extensions["replay"]
    body_capture.set_patterns(svc.redis, svc.keys, project_key, ["/api/pay"])
    record(app, project_key)
    recovered, pay = get(viewer, f"/api/sessions/{SESSION}", token).get_json()["network_failures"]
    assert (recovered["method"], recovered["recovered"], recovered["status"]) == (None, True, 503)
    assert recovered["timing"] == TIMING and recovered["request_body"] is None
    assert pay["url"] == ORIGIN + "/api/pay?token=[masked]&step=2"
    assert pay["query"] == [{"name": "token", "value": "[masked]", "masked": True},
                            {"name": "step", "value": "2", "masked": False}]
    assert pay["request_body"] == '{"email":"a@b.test","password":"[masked]","card":"[masked]"}'
    assert pay["request_body_scrubbed"] is True

    html = viewer.get(f"/sessions/{SESSION}").get_data(as_text=True)
    assert "unknown (recovered from resource timing)" in html and "None" not in html
    assert "Waiting (TTFB)" in html and "20.0 ms" in html and "Query parameters" in html
    assert "hunter2" not in html and "4111" not in html and "abc" not in html
    exported = viewer.get(f"/sessions/{SESSION}/export").get_data(as_text=True)
    assert "Request body" in exported and "TLS handshake" in exported and "hunter2" not in exported


def test_without_the_opt_in_no_body_is_stored(app, token, project_key, viewer):
    record(app, project_key)
    _, pay = get(viewer, f"/api/sessions/{SESSION}", token).get_json()["network_failures"]
    assert pay["request_body"] is None
    events = json.loads(get(viewer, f"/api/sessions/{SESSION}/events", token).data)
    assert "requestBody" not in json.dumps(events) and "hunter2" not in json.dumps(events)
