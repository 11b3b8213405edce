"""POST /ingest/logs and the Redis layout the join reads (docs/proxy-logs.md), on real captured nginx lines."""
import gzip
import io
import json
from pathlib import Path

import pytest

from replay.core import server_keys
from replay.core.proxy_logs.access_log import route_of

FIXTURES = Path(__file__).parents[1] / "core" / "proxy_logs" / "fixtures"
ACCESS = (FIXTURES / "access.log").read_text()
ERRORS = (FIXTURES / "error.log").read_text()


@pytest.fixture
def server_key(app, project_key):
    svc = app.extensions["replay"]
    return server_keys.issue(svc.redis, svc.keys, project_key)


def post(client, body, key, **headers):
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return client.post("/ingest/logs", data=body, headers=headers)


def stored(redis, key):
    return [json.loads(v) for v in redis.lrange(key, 0, -1)]


def test_both_logs_are_accepted_and_filed_for_the_join(client, redis, keys, project_key, server_key):
    r = post(client, ACCESS + ERRORS, server_key)
    assert r.status_code == 200
    total = len((ACCESS + ERRORS).splitlines())
    assert r.json == {"accepted": total, "rejected": 0, "errors": []}
    # Access lines of a session, under the session.
    [refused] = stored(redis, keys.proxy_session(project_key, "sess_capture_0000_abcdef"))
    assert (refused["status"], refused["connection"], refused["via"]) == (502, 2, "http")
    # A failed line without a session, under its method, host and route; a good one is not kept.
    [reset] = stored(redis, keys.proxy_route(project_key, route_of("POST", "127.0.0.1", "/fail/reset?x")))
    assert reset["status"] == 502 and reset["session"] is None
    assert stored(redis, keys.proxy_route(project_key, route_of("GET", "127.0.0.1", "/fail/limited"))) != []
    # Error lines under their connection, with their cause; info lines are not kept.
    errors = stored(redis, keys.proxy_connection(project_key, refused["connection"]))
    assert [e["cause"] for e in errors] == ["upstream_refused"] and "111: Connection refused" in errors[0]["line"]
    assert [e["cause"] for e in stored(redis, keys.proxy_connection(project_key, 25))] == ["no_live_upstreams"]
    assert redis.ttl(keys.proxy_session(project_key, "sess_capture_0000_abcdef")) > 0
    assert redis.ttl(keys.proxy_connection(project_key, 2)) > 0
    stats = {k.decode(): int(v) for k, v in redis.hgetall(keys.proxy_stats(project_key)).items()}
    assert stats == {"accepted_http": total}


def test_gzip_and_malformed_lines_counted_by_line_number(client, server_key):
    good = ACCESS.splitlines()[0]
    body = "\n".join([good, "not a log line", "", '{"v":1}', good + "\r"]) + "\n"
    r = post(client, gzip.compress(body.encode()), server_key, **{"Content-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.json["accepted"] == 2 and r.json["rejected"] == 2
    assert [e["line"] for e in r.json["errors"]] == [2, 4]
    assert "neither an access-log" in r.json["errors"][0]["reason"] and "no msec" in r.json["errors"][1]["reason"]


def test_the_errors_listed_are_capped_not_the_count(client, server_key):
    r = post(client, "junk\n" * 500, server_key)
    assert r.json["rejected"] == 500 and len(r.json["errors"]) == 20


@pytest.mark.parametrize("auth", [None, "Bearer ", "Basic abc", "Bearer sk_unknown_key_000", "Bearer pk_browser"])
def test_a_bad_key_is_a_401_json_error(client, server_key, auth):
    r = client.post("/ingest/logs", data=ACCESS, headers={"Authorization": auth} if auth else {})
    assert r.status_code == 401 and r.json["error"]["code"] == "unauthorized"


def test_the_public_browser_key_is_no_server_key(client, project_key, server_key):
    assert post(client, ACCESS, project_key).status_code == 401


def test_size_caps_as_sent_and_once_inflated(make_app, redis, keys):
    app = make_app(MAX_LOG_POST_BYTES=10_000, MAX_LOG_POST_INFLATED_BYTES=50_000)
    svc = app.extensions["replay"]
    key = server_keys.issue(redis, keys, svc.accounts.create_project("p", ["https://p.example"]).key)
    client = app.test_client()
    r = post(client, "x" * 10_001, key)
    assert r.status_code == 413 and r.json["error"]["code"] == "too_large"
    bomb = gzip.compress(b"\n" * 60_000)
    assert len(bomb) < 10_000
    r = post(client, bomb, key, **{"Content-Encoding": "gzip"})
    assert r.status_code == 413 and "inflates" in r.json["error"]["message"]
    # Chunked, with no Content-Length announcing the size.
    r = client.post("/ingest/logs", input_stream=io.BytesIO(b"x" * 12_000), headers={"Authorization": f"Bearer {key}"},
                    environ_overrides={"wsgi.input_terminated": True})
    assert r.status_code == 413
    r = post(client, b"not gzip", key, **{"Content-Encoding": "gzip"})
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_gzip"
    r = post(client, b"x", key, **{"Content-Encoding": "br"})
    assert r.status_code == 415


def test_lists_keep_their_newest_lines(make_app, redis, keys):
    app = make_app(PROXY_LOG_MAX_PER_SESSION=3)
    svc = app.extensions["replay"]
    project = svc.accounts.create_project("p", ["https://p.example"]).key
    key = server_keys.issue(redis, keys, project)
    lines = [json.dumps({"v": 1, "msec": f"{1732270500 + i}.000", "session": "sess_cap_0123456789", "method": "GET",
                         "uri": f"/n/{i}", "status": "502"}) for i in range(5)]
    assert post(app.test_client(), "\n".join(lines), key).json["accepted"] == 5
    assert [r["uri"] for r in stored(redis, keys.proxy_session(project, "sess_cap_0123456789"))] == ["/n/2", "/n/3", "/n/4"]


def test_syslog_datagrams_of_known_and_unknown_tags(app, redis, keys, project_key, server_key):
    intake = app.extensions["replay.ingest.proxy_logs"]
    frames = [(FIXTURES / "syslog.txt").read_text().splitlines()[0].replace("sk_capture_0123456789", server_key),
              "<190>Nov 30 04:51:48 sk_nobody_knows: {}", "garbage", f"<190>Nov 30 04:51:48 {server_key}: junk"]
    counts = intake.store_datagrams([(f.encode(), "10.1.2.3") for f in frames])
    assert (counts.accepted, counts.rejected, counts.unknown_tag, counts.not_syslog) == (1, 1, 1, 1)
    [line] = stored(redis, keys.proxy_connection(project_key, 2))
    assert line["via"] == "syslog" and line["source"] == "10.1.2.3" and line["cause"] == "upstream_refused"
    dropped = {k.decode(): int(v) for k, v in redis.hgetall(keys.proxy_dropped()).items()}
    assert dropped == {"unknown_tag": 1, "not_syslog": 1}
