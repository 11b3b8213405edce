"""What the proxy logged, under the failed call: lines posted to /ingest/logs after the session was stored, joined by
the flush job they schedule, served by GET /api/sessions/<id>/calls and shown on the replay page and in the export."""
import json
import time

from replay.core import server_keys
from replay.ingest import flush as schedule
from replay.ingest.service import Connection
from replay.storage import recording
from tests.web_fixtures import ORIGIN, SECRET, T0, get, net
from worker import context, jobs
from worker.reindex import reindex

SESSION, WINDOW = "sess_proxyev_0123456789", "win_proxyev_0123456789"


def record(app, project_key):
    conn = Connection(origin=ORIGIN)
    ingest = app.extensions["replay.ingest"]
    ingest.receive(conn, json.dumps({"type": "hello", "v": 1, "key": project_key, "secret": SECRET, "session": SESSION,
                                     "window": WINDOW, "url": ORIGIN + "/cart", "ua": "pytest"}))
    events = [{"type": 4, "timestamp": T0, "data": {"href": ORIGIN + "/cart", "width": 800, "height": 600}},
              net(502, ORIGIN + "/api/pay?token=abc&step=2", T0 + 200, method="POST"),
              net(504, ORIGIN + "/api/slow", T0 + 400)]
    ingest.receive(conn, json.dumps({"type": "batch", "seq": 1, "events": events}))
    context.configure(app.extensions["replay"].settings)
    jobs.flush_session(SESSION)
    # The browser's clock against the server's (T0 is long ago: as if the browser's clock were years behind).
    return recording.load_manifest(app.extensions["replay"].store, SESSION)["windows"][WINDOW]["clock_offset_ms"]


def access(uri, status, at_ms, connection, method="GET", session=SESSION, took="0.012", upstream="127.0.0.1:9"):
    return json.dumps({"v": 1, "msec": f"{at_ms / 1000:.3f}", "session": session, "connection": str(connection),
                       "request_id": f"req{connection}", "method": method, "uri": uri, "host": "shop.example",
                       "status": str(status), "request_time": took, "upstream_addr": upstream,
                       "upstream_status": str(status), "upstream_connect_time": "-", "upstream_header_time": "-",
                       "upstream_response_time": took, "client": "198.51.100.7"})


def error(at_ms, connection, message, request):
    stamp = time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(at_ms / 1000))
    path = request.split(" ")[1]
    return (f"{stamp} [error] 7#7: *{connection} {message}, client: 198.51.100.7, server: shop.example, "
            f'request: "{request}", upstream: "http://127.0.0.1:9{path}", host: "shop.example"')


def post_lines(client, app, project_key, lines):
    svc = app.extensions["replay"]
    key = server_keys.issue(svc.redis, svc.keys, project_key)
    r = client.post("/ingest/logs", data="\n".join(lines), headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and r.get_json()["rejected"] == 0, r.get_json()


def test_late_proxy_lines_confirm_the_cause_under_the_call(app, client, viewer, token, project_key):
    offset = record(app, project_key)
    calls = get(viewer, f"/api/sessions/{SESSION}/calls", token).get_json()["calls"]
    pay = next(c for c in calls if c["status"] == 502)
    # Before any proxy line: the browser's account only, nothing confirmed.
    assert pay["proxy"] is None
    assert (pay["diagnosis"]["confirmed"], pay["diagnosis"]["matched_by"]) == (False, None)
    assert pay["diagnosis"]["cause"] in ("upstream_refused", "unknown")

    sent = T0 + 200 + offset
    post_lines(client, app, project_key, [
        error(sent + 3, 41, "connect() failed (111: Connection refused) while connecting to upstream",
              "POST /api/pay?token=abc&step=2 HTTP/1.1"),
        access("/api/pay?token=abc&step=2", 502, sent + 5, 41, method="POST"),
        # The 504 came in without the session header (another tab's fetch to a CDN would too): time and URL.
        error(T0 + 400 + offset + 1000, 42, "upstream timed out (110: Connection timed out) while reading response "
              "header from upstream", "GET /api/slow HTTP/1.1"),
        access("/api/slow", 504, T0 + 400 + offset + 1002, 42, session="", took="1.001"),
    ])
    svc = app.extensions["replay"]
    assert schedule.due_at(svc.redis, svc.keys, SESSION) is not None  # the stored session is due for the join
    jobs.flush_session(SESSION)

    calls = get(viewer, f"/api/sessions/{SESSION}/calls", token).get_json()["calls"]
    pay = next(c for c in calls if c["status"] == 502)
    d = pay["diagnosis"]
    assert (d["cause"], d["confirmed"], d["matched_by"]) == ("upstream_refused", True, "session")
    assert d["title"].startswith("Confirmed: 127.0.0.1:9 refused") and "127.0.0.1:9" in d["summary"]
    assert any("connect() failed (111: Connection refused)" in e for e in d["evidence"])
    proxy = pay["proxy"]
    assert (proxy["status"], proxy["request_id"], proxy["upstreams"][0]["addr"]) == (502, "req41", "127.0.0.1:9")
    # nginx logged the raw token: masked before it was stored, in the access fields and in the verbatim line.
    assert proxy["uri"] == "/api/pay?token=[masked]&step=2"
    [line] = proxy["error_log"]
    assert "token=[masked]" in line["line"] and "abc" not in json.dumps(proxy)
    assert "198.51.100.7" not in json.dumps({k: v for k, v in proxy.items() if k != "error_log"})

    slow = next(c for c in calls if c["status"] == 504)
    d = slow["diagnosis"]
    assert (d["cause"], d["confirmed"], d["matched_by"]) == ("upstream_timeout", True, "time_url")
    assert "proxy_read_timeout" in d["title"] and "1.0 s" in d["summary"]

    html = viewer.get(f"/sessions/{SESSION}").get_data(as_text=True)
    assert "What the proxy logged" in html and "Confirmed: 127.0.0.1:9 refused" in html
    assert "matched by time and URL, not by session" in html and "abc" not in html
    exported = viewer.get(f"/sessions/{SESSION}/export").get_data(as_text=True)
    assert "What the proxy logged" in exported and "connect() failed (111: Connection refused)" in exported

    # Redis lost (the lines waiting for joins and the index): `replay reindex` and the evidence is still there.
    for key in svc.redis.scan_iter(match=svc.keys.prefix + "plog:*"):
        svc.redis.delete(key)
    reindex(context.current())
    calls = get(viewer, f"/api/sessions/{SESSION}/calls", token).get_json()["calls"]
    pay = next(c for c in calls if c["status"] == 502)
    assert pay["diagnosis"]["confirmed"] is True and pay["proxy"]["request_id"] == "req41"
