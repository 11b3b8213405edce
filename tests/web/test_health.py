"""/healthz, /readyz and /metrics on real Redis and S3: what a load balancer and Prometheus see."""
import json
import shutil
import subprocess
import time

import pytest
import requests
import websocket
from prometheus_client.parser import text_string_to_metric_families

from replay.app import create_app
from replay.core import worker_stats
from tests.conftest import free_port, wait_for_port
from tests.web_fixtures import ORIGIN, SECRET

SESSION, WINDOW = "sess_health_0123456789", "win_health_0123456789"


def scrape(client, token) -> dict:
    """Every sample of a /metrics answer: {(name, sorted labels): value}."""
    r = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.get_data(as_text=True)) for s in family.samples}


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own, to stop while the app runs."""
    port = free_port()
    proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port)
    yield proc, f"redis://127.0.0.1:{port}/0"
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


def test_healthz_answers_without_login_or_backends(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json() == {"ok": True}


def test_readyz_is_ready_on_redis_and_s3_and_names_each_check(make_app, s3_settings):
    r = make_app(**s3_settings).test_client().get("/readyz")
    body = r.get_json()
    assert r.status_code == 200 and body["ok"] is True and body["failed"] == []
    assert {name: c["ok"] for name, c in body["checks"].items()} == {"redis": True, "storage": True, "queue": True}
    assert body["checks"]["queue"]["queue_depth"] == 0 and body["checks"]["queue"]["workers"] == 0


def test_readyz_is_503_when_redis_stops_and_says_nothing_of_where_it_is(own_redis, tmp_path):
    proc, url = own_redis
    client = create_app({"REDIS_URL": url, "DATA_DIR": str(tmp_path / "data")}).test_client()
    assert client.get("/readyz").status_code == 200
    proc.kill()
    proc.wait(10)
    started = time.monotonic()
    r = client.get("/readyz")
    assert time.monotonic() - started < 5  # the probe gives up fast: a load balancer's check has a deadline
    body = r.get_json()
    assert r.status_code == 503 and body["ok"] is False
    assert body["failed"] == ["redis", "queue"] and body["checks"]["storage"]["ok"] is True
    assert body["checks"]["redis"]["error"] == "ConnectionError"
    assert url.rsplit(":", 1)[1].split("/")[0] not in r.get_data(as_text=True)  # no port, no host
    assert client.get("/healthz").status_code == 200  # the process itself is still up


def test_readyz_is_503_when_object_storage_is_unreachable(make_app, s3_settings):
    app = make_app(**{**s3_settings, "S3_ENDPOINT": f"127.0.0.1:{free_port()}"})  # nothing listens there
    r = app.test_client().get("/readyz")
    body = r.get_json()
    assert r.status_code == 503 and body["failed"] == ["storage"]
    assert body["checks"]["redis"]["ok"] and body["checks"]["queue"]["ok"]
    assert "127.0.0.1" not in r.get_data(as_text=True)


def test_readyz_is_503_when_flushes_are_overdue(make_app):
    app = make_app(READY_MAX_FLUSH_LAG_S=60)
    svc = app.extensions["replay"]
    client = app.test_client()
    # A session due two minutes ago that no worker claimed (none runs).
    svc.redis.zadd(svc.keys.flush_due(), {SESSION: int(time.time() * 1000) - 120_000})
    body = client.get("/readyz").get_json()
    assert body["failed"] == ["queue"] and body["checks"]["queue"]["error"] == "flush_overdue"
    assert body["checks"]["queue"]["due_flushes"] == 1 and body["checks"]["queue"]["oldest_due_age_s"] >= 119
    svc.redis.zadd(svc.keys.flush_due(), {SESSION: int(time.time() * 1000) - 10_000})
    assert client.get("/readyz").status_code == 200


def test_metrics_need_a_token_or_an_allowed_network(make_app, app, client, token):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics").get_json()["error"]["code"] == "unauthorized"
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    # The test client comes from 127.0.0.1.
    assert make_app(METRICS_ALLOW="10.0.0.0/8").test_client().get("/metrics").status_code == 403
    allowed = make_app(METRICS_ALLOW="10.0.0.0/8, 127.0.0.1/32").test_client().get("/metrics")
    assert allowed.status_code == 200 and b"replay_queue_depth" in allowed.data
    with pytest.raises(SystemExit, match="REPLAY_METRICS_ALLOW"):
        make_app(METRICS_ALLOW="10.0.0.0/33")


def test_metrics_count_batches_acked_over_the_real_websocket(live_server, app, client, project_key, token):
    before = scrape(client, token)
    ws = websocket.create_connection(f"ws://{live_server}/ingest/ws", origin=ORIGIN, timeout=5)
    ws.send(json.dumps({"type": "hello", "v": 1, "key": project_key, "secret": SECRET, "session": SESSION,
                        "window": WINDOW, "url": ORIGIN + "/", "ua": "pytest"}))
    assert json.loads(ws.recv())["type"] == "ready"
    events = [{"type": 3, "timestamp": 1, "data": {}}, {"type": 3, "timestamp": 2, "data": {}}]
    for _ in range(2):  # the second time, the same seq: a duplicate
        ws.send(json.dumps({"type": "batch", "seq": 1, "events": events}))
        assert json.loads(ws.recv())["type"] == "ack"
    during = scrape(client, token)
    ws.send(json.dumps({"type": "batch", "seq": "x", "events": events}))
    assert json.loads(ws.recv())["code"] == "invalid_envelope"
    ws.close()
    time.sleep(0.2)
    after = scrape(client, token)
    delta = lambda name, **labels: value(after, name, **labels) - value(before, name, **labels)  # noqa: E731
    assert delta("replay_ingest_batches_total", outcome="acked") == 1
    assert delta("replay_ingest_batches_total", outcome="duplicate") == 1
    assert delta("replay_ingest_batches_total", outcome="refused") == 1
    assert delta("replay_ingest_events_total", outcome="acked") == 2
    assert delta("replay_ingest_refused_total", reason="invalid_envelope") == 1
    assert delta("replay_ingest_ack_seconds_count", transport="ws") == 2
    assert value(during, "replay_ingest_open_sockets") - value(before, "replay_ingest_open_sockets") == 1
    assert value(after, "replay_ingest_open_sockets") == value(before, "replay_ingest_open_sockets")


def test_metrics_count_http_batches_and_refusals(live_server, client, project_key, token):
    before = scrape(client, token)
    body = {"v": 1, "key": project_key, "secret": SECRET, "session": SESSION, "window": WINDOW, "url": ORIGIN,
            "batches": [{"seq": 1, "events": [{"type": 3, "timestamp": 1, "data": {}}]}]}
    assert requests.post(f"http://{live_server}/ingest/batch", data=json.dumps(body), headers={"Origin": ORIGIN},
                         timeout=10).status_code == 200
    foreign = requests.post(f"http://{live_server}/ingest/batch", data=json.dumps(body),
                            headers={"Origin": "https://evil.example"}, timeout=10)
    assert foreign.status_code == 403
    after = scrape(client, token)
    assert value(after, "replay_ingest_batches_total", outcome="acked") - value(
        before, "replay_ingest_batches_total", outcome="acked") == 1
    assert value(after, "replay_ingest_ack_seconds_count", transport="http") - value(
        before, "replay_ingest_ack_seconds_count", transport="http") == 1
    assert value(after, "replay_ingest_refused_total", reason="origin_not_allowed") - value(
        before, "replay_ingest_refused_total", reason="origin_not_allowed") == 1


def test_metrics_show_the_workers_flushes_and_the_backlog(app, client, recorded, token):
    samples = scrape(client, token)
    assert value(samples, "replay_redis_up") == 1
    assert value(samples, "replay_flushes_total", outcome="ok") == 1
    assert value(samples, "replay_flush_duration_seconds_count") == 1
    assert value(samples, "replay_flush_duration_seconds_bucket", le="+Inf") == 1
    assert value(samples, "replay_sessions_stored") == 1
    assert value(samples, "replay_queue_depth") == 0
    svc = app.extensions["replay"]
    before = samples
    worker_stats.record_flush(svc.redis, svc.keys, 0.3, ok=False, storage_error=True)
    samples = scrape(client, token)
    assert value(samples, "replay_flushes_total", outcome="failed") == 1
    assert value(samples, "replay_worker_storage_errors_total") == 1
    # The 0.3 s flush lands above 0.25 and within 0.5 (the real flush before it took whatever it took).
    added = {le: value(samples, "replay_flush_duration_seconds_bucket", le=le) - value(
        before, "replay_flush_duration_seconds_bucket", le=le) for le in ("0.25", "0.5", "+Inf")}
    assert added == {"0.25": 0, "0.5": 1, "+Inf": 1}


def test_metrics_count_proxy_log_lines_accepted_and_rejected(app, client, project_key, token):
    from replay.core import server_keys
    from tests.ingest.test_proxy_logs import ACCESS

    svc = app.extensions["replay"]
    key = server_keys.issue(svc.redis, svc.keys, project_key)
    before = scrape(client, token)
    body = ACCESS + "not a log line\n"
    r = client.post("/ingest/logs", data=body, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and r.json["rejected"] == 1
    after = scrape(client, token)
    for outcome in ("accepted", "rejected"):
        assert value(after, "replay_proxy_log_lines_total", via="http", outcome=outcome) - value(
            before, "replay_proxy_log_lines_total", via="http", outcome=outcome) == r.json[outcome]
