"""The join in the flush job: the proxy's lines (filed by the real intake) joined to a stored session's failed calls."""
from __future__ import annotations

import json
import time

from tests import samples
from tests.samples import SITE, T0
from replay.core.keys import evidence_key
from replay.ingest import flush as schedule
from replay.ingest.proxy_logs import ProxyLogs
from replay.storage import recording
from replay.storage.evidence import load_evidence
from worker import jobs

S = "sess_evidence_0123456789"
PROJECT = "proj-key"
MIN = 60_000
# The browser's clock runs 5 minutes behind the proxy's.
SKEW = 5 * MIN


def start(ctx):
    ctx.redis.hset(ctx.keys.session_meta(S), mapping={"project": PROJECT, "ua": "Mozilla/5.0 test"})
    samples.append_all(ctx.buffer, S, samples.checkout_session(), received_ms=T0 + SKEW + 1000)


def access(uri, status, at_ms, took_ms=30, method="POST", session=S, connection=77, host="shop.example"):
    return json.dumps({"v": 1, "msec": f"{at_ms / 1000:.3f}", "session": session or "", "connection": str(connection),
                       "request_id": f"rid{connection}", "method": method, "uri": uri, "host": host,
                       "status": str(status), "request_time": f"{took_ms / 1000:.3f}",
                       "upstream_addr": "127.0.0.1:9", "upstream_status": str(status),
                       "upstream_connect_time": "-", "upstream_header_time": "-",
                       "upstream_response_time": "0.000", "client": "203.0.113.9"})


def error(at_ms, connection=77, request="POST /api/orders?x=1 HTTP/1.1"):
    stamp = time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(at_ms / 1000))
    path = request.split(" ")[1]
    return (f"{stamp} [error] 18914#18914: *{connection} connect() failed (111: Connection refused) while connecting "
            f'to upstream, client: 203.0.113.9, server: shop.example, request: "{request}", '
            f'upstream: "http://127.0.0.1:9{path}", host: "shop.example"')


def file_lines(ctx, lines):
    outcome = ProxyLogs(ctx.settings, ctx.redis, ctx.keys).store_lines(PROJECT, lines, "http")
    assert outcome.rejected == 0, outcome.errors


def the_502(ctx):
    manifest = recording.load_manifest(ctx.store, S)
    return next(f for f in manifest["network_failures"] if f["status"] == 502)


def test_a_flush_joins_the_lines_waiting_for_its_session(ctx):
    # The 502 was sent at T0 + 200 on the browser's clock: T0 + SKEW + 200 on the proxy's.
    file_lines(ctx, [access("/api/orders?x=1", 502, T0 + SKEW + 235), error(T0 + SKEW + 220),
                     access("/api/orders?x=1", 200, T0 + SKEW + 9000, connection=78)])
    start(ctx)
    assert jobs.flush_session(S)["joined"] == 1
    proxy = load_evidence(ctx.store, S)[the_502(ctx)["id"]]["proxy"]
    assert (proxy["matched_by"], proxy["status"], proxy["request_id"]) == ("session", 502, "rid77")
    assert proxy["upstreams"][0]["addr"] == "127.0.0.1:9"
    [line] = proxy["error_log"]
    assert line["cause"] == "upstream_refused" and "connect() failed (111: Connection refused)" in line["line"]
    # The end user's address is not kept with the evidence.
    assert "203.0.113.9" not in json.dumps(proxy["upstreams"]) and "client" not in proxy


def test_lines_arriving_after_the_session_was_stored_are_joined_by_another_flush(ctx):
    start(ctx)
    jobs.flush_session(S)
    assert schedule.due_at(ctx.redis, ctx.keys, S) is None and load_evidence(ctx.store, S) == {}
    file_lines(ctx, [access("/api/orders?x=1", 502, T0 + SKEW + 235), error(T0 + SKEW + 220)])
    due = schedule.due_at(ctx.redis, ctx.keys, S)
    assert due is not None and due <= schedule.now_ms() + ctx.settings.PROXY_JOIN_DELAY_MS
    jobs.flush_session(S)
    assert load_evidence(ctx.store, S)[the_502(ctx)["id"]]["proxy"]["error_log"][0]["cause"] == "upstream_refused"
    # The evidence is an object beside the manifest: the index (which `replay reindex` rebuilds) holds none of it.
    assert evidence_key(S) in set(ctx.store.list(f"sessions/{S}/"))


def test_a_late_line_does_not_hurry_a_live_session(ctx):
    start(ctx)
    schedule.request_flush(ctx.redis, ctx.keys, S, 60_000)
    due = schedule.due_at(ctx.redis, ctx.keys, S)
    file_lines(ctx, [access("/api/orders?x=1", 502, T0 + SKEW + 235)])
    assert schedule.due_at(ctx.redis, ctx.keys, S) == due


def test_unkeyed_lines_join_by_time_and_url_with_secrets_masked(ctx):
    # The network error to /api/chat?token=1 (window B, sent at T0 + 600 - 41.5 ms) had no session header on it.
    file_lines(ctx, [access("/api/chat?token=1", 504, T0 + SKEW + 600, method="GET", session=None, connection=90)])
    start(ctx)
    jobs.flush_session(S)
    evidence = load_evidence(ctx.store, S)
    [(call_id, found)] = evidence.items()
    assert call_id.startswith("win_bbbbbbbbbbbb:")
    assert found["proxy"]["matched_by"] == "time_url" and found["proxy"]["status"] == 504
    assert found["proxy"]["uri"] == "/api/chat?token=[masked]"


def test_no_lines_no_evidence_object(ctx):
    start(ctx)
    assert jobs.flush_session(S)["joined"] == 0
    assert evidence_key(S) not in set(ctx.store.list(f"sessions/{S}/"))


def test_an_error_line_shipped_after_its_access_line_is_joined_too(ctx):
    # Files shipped apart (replay logs ship, Vector): the access line first, the session stored, then the error.
    file_lines(ctx, [access("/api/orders?x=1", 502, T0 + SKEW + 235)])
    start(ctx)
    jobs.flush_session(S)
    assert load_evidence(ctx.store, S)[the_502(ctx)["id"]]["proxy"]["error_log"] == []
    assert schedule.due_at(ctx.redis, ctx.keys, S) is None
    file_lines(ctx, [error(T0 + SKEW + 220)])
    assert schedule.due_at(ctx.redis, ctx.keys, S) is not None
    jobs.flush_session(S)
    assert load_evidence(ctx.store, S)[the_502(ctx)["id"]]["proxy"]["error_log"][0]["cause"] == "upstream_refused"


def app_event(status, at_ms, session=S, url="https://shop.example/api/orders?x=1", exception=True, took_ms=30):
    event = {"v": 1, "type": "request", "session": session, "time_ms": at_ms, "method": "POST", "url": url,
             "status": status, "duration_ms": took_ms, "service": "orders", "release": "1.4.2",
             "exception": {"type": "KeyError", "message": "'sku'", "stack": [
                 {"file": "/app/orders.py", "line": 41, "function": "create", "code": "sku = body['sku']"}]}
             if exception else None,
             "logs": [{"time_ms": at_ms + 5, "level": "ERROR", "logger": "orders", "message": "no sku"}]}
    return json.dumps(event)


def file_events(ctx, lines):
    from replay.core.server_keys import ServerKeyCache
    from replay.ingest.server_events import ServerEvents
    cache = ServerKeyCache(ctx.redis, ctx.keys, 0)
    outcome = ServerEvents(ctx.settings, ctx.redis, ctx.keys, cache).store(PROJECT, lines)
    assert outcome.rejected == 0, outcome.errors


def test_the_apps_event_joins_its_call_by_session_in_the_same_evidence_object(ctx):
    # The browser got nginx's 502; the app logged the request it was on (its 500) on the server's clock.
    file_lines(ctx, [access("/api/orders?x=1", 502, T0 + SKEW + 235), error(T0 + SKEW + 220)])
    file_events(ctx, [app_event(500, T0 + SKEW + 205), app_event(500, T0 + SKEW + 60_000)])
    start(ctx)
    jobs.flush_session(S)
    entry = load_evidence(ctx.store, S)[the_502(ctx)["id"]]
    assert entry["proxy"]["error_log"][0]["cause"] == "upstream_refused"
    server = entry["server"]
    assert (server["matched_by"], server["status"], server["time_ms"]) == ("session", 500, T0 + SKEW + 205)
    assert server["exception"]["type"] == "KeyError" and server["exception"]["stack"][0]["line"] == 41
    assert (server["service"], server["release"], server["logs"][0]["level"]) == ("orders", "1.4.2", "ERROR")


def test_an_event_arriving_after_the_session_was_stored_schedules_a_flush_that_joins_it(ctx):
    start(ctx)
    jobs.flush_session(S)
    assert schedule.due_at(ctx.redis, ctx.keys, S) is None
    file_events(ctx, [app_event(500, T0 + SKEW + 205)])
    due = schedule.due_at(ctx.redis, ctx.keys, S)
    assert due is not None and due <= schedule.now_ms() + ctx.settings.PROXY_JOIN_DELAY_MS
    jobs.flush_session(S)
    assert load_evidence(ctx.store, S)[the_502(ctx)["id"]]["server"]["exception"]["message"] == "'sku'"


def test_an_event_without_a_session_joins_by_route_and_time_and_says_so(ctx):
    file_events(ctx, [app_event(500, T0 + SKEW + 205, session=None),
                      app_event(500, T0 + SKEW + 205, session=None, url="https://other.example/api/orders?x=1")])
    start(ctx)
    jobs.flush_session(S)
    server = load_evidence(ctx.store, S)[the_502(ctx)["id"]]["server"]
    assert server["matched_by"] == "time_url" and server["url"].startswith("https://shop.example/")


def test_an_event_minutes_away_from_the_call_or_of_another_url_joins_nothing(ctx):
    file_events(ctx, [app_event(500, T0 + SKEW + 205 + 11_000), app_event(500, T0 + SKEW + 205, url="/api/cart")])
    start(ctx)
    jobs.flush_session(S)
    assert load_evidence(ctx.store, S) == {}
