"""Alerts end to end: sessions with failed calls ingested and flushed by the real job, the rules evaluated,
the alerts POSTed by the real RQ delivery job to a real HTTP receiver; windows shortened by settings."""
from __future__ import annotations

import json
import time

import pytest
from rq import Queue, SimpleWorker

from replay.app import create_app
from replay.core.accounts import Accounts
from replay.core import alert_outbox
from replay.core.alert_rules import AlertRules
from replay.ingest.service import Connection
from tests.alerts.receiver import Receiver
from tests.web_fixtures import ORIGIN, SECRET, net
from replay.index.erase import delete_sessions
from worker import alert_delivery, alert_eval, context, jobs

PUBLIC = "https://replay.example"


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def alert_app(redis_url, tmp_path, receiver):
    # A 2 s window against the 6 s before it; retries 0.2 s apart.
    return create_app({"REDIS_URL": redis_url, "DATA_DIR": str(tmp_path / "data"), "PUBLIC_URL": PUBLIC,
                       "ALERT_WINDOW_S": 2, "ALERT_BASELINE_S": 8, "ALERT_COOLDOWN_S": 3600,
                       "ALERT_WEBHOOK_URL": receiver.url, "ALERT_RETRY_BASE_S": 0.2, "ALERT_DELIVERY_ATTEMPTS": 3})


def record(app, project_key, session, failures, status=502, path="/api/pay", ok_calls=0):
    """A session whose page makes `failures` failed POSTs (and `ok_calls` good ones) now, flushed by the real job."""
    ingest, conn, now = app.extensions["replay.ingest"], Connection(origin=ORIGIN), int(time.time() * 1000)
    ingest.receive(conn, json.dumps({"type": "hello", "v": 1, "key": project_key, "secret": SECRET, "session": session,
                                     "window": "win_" + session[-12:], "url": ORIGIN + "/cart", "ua": "pytest"}))
    events = [{"type": 4, "timestamp": now, "data": {"href": ORIGIN + "/cart", "width": 800, "height": 600}}]
    events += [net(status, ORIGIN + path, now + i, method="POST") for i in range(failures)]
    events += [net(200, ORIGIN + "/api/ok", now + 1000 + i) for i in range(ok_calls)]
    ingest.receive(conn, json.dumps({"type": "batch", "seq": 1, "events": events}))
    context.configure(app.extensions["replay"].settings)
    jobs.flush_session(session)


def deliver(app) -> list[dict]:
    """Evaluate once, then let a real RQ worker run the delivery jobs due now; returns the alerts recorded."""
    svc = app.extensions["replay"]
    alerts = alert_eval.evaluate(svc.redis, svc.keys, svc.settings)
    alert_delivery.enqueue_due(svc.redis, svc.keys, svc.settings)
    SimpleWorker([Queue(svc.settings.QUEUE_NAME, connection=svc.redis)], connection=svc.redis).work(burst=True)
    return alerts


def token(app) -> str:
    svc = app.extensions["replay"]
    return Accounts(svc.redis, svc.keys).create_token("metrics")


@pytest.fixture
def project(alert_app):
    svc = alert_app.extensions["replay"]
    return Accounts(svc.redis, svc.keys).create_project("shop", [ORIGIN]).key


def test_a_spike_pages_with_the_group_sessions_and_cause_then_resolves(alert_app, project, receiver):
    record(alert_app, project, "sess_spike_000000000001", 12)
    alerts = deliver(alert_app)
    assert sorted(a["rule_name"] for a in alerts) == ["Failure spike", "New failure group"]
    body = next(b for b in receiver.wait_for(2) if b["kind"] == "spike")
    assert body["v"] == 1 and body["event"] == "firing" and body["project"] == {"key": project, "name": "shop"}
    assert body["group"]["label"] == "POST shop.example/api/pay → 502" and body["counts"]["calls"] == 12
    assert body["group"]["url"] == f"{PUBLIC}/failures/{body['group']['id']}"
    assert body["sessions"] == [{"session": "sess_spike_000000000001", "at_ms": body["sessions"][0]["at_ms"],
                                 "call": body["sessions"][0]["call"],
                                 "url": f"{PUBLIC}/failures/{body['group']['id']}/sessions/sess_spike_000000000001"}]
    assert body["cause"]["confirmed"] is False and "upstream" in body["cause"]["summary"]
    assert "12 failed calls in the last 2 s" in body["text"] and body["sessions"][0]["url"] in body["text"]
    # Still firing at the next evaluation: no second message.
    assert deliver(alert_app) == []
    # The window empties: "resolved", once.
    time.sleep(2.1)
    resolved = deliver(alert_app)
    assert [(a["event"], a["rule_name"]) for a in resolved] == [("resolved", "Failure spike")]
    assert receiver.wait_for(3)[-1]["title"] == "Resolved: Failure spike: POST shop.example/api/pay → 502"
    assert deliver(alert_app) == []
    # The same group spikes again within the cooldown: nobody is paged again.
    record(alert_app, project, "sess_spike_000000000002", 40)
    assert deliver(alert_app) == []


def test_a_steady_trickle_pages_no_one_but_a_jump_over_its_usual_rate_does(alert_app, project, receiver):
    svc = alert_app.extensions["replay"]
    rules = AlertRules(svc.redis, svc.keys)
    for rule in rules.of_project(project):
        if rule["kind"] != "spike":
            rules.set_muted(project, rule["id"], True)
    record(alert_app, project, "sess_trickle_00000000001", 30)
    svc.redis.delete(svc.keys.alert_state(next(r["id"] for r in rules.of_project(project) if r["kind"] == "spike")))
    time.sleep(2.1)
    # 10 in the window: at the threshold, but the 30 of the 6 s before make 10 per window usual (x3 = 30).
    record(alert_app, project, "sess_trickle_00000000002", 10)
    assert deliver(alert_app) == []
    record(alert_app, project, "sess_trickle_00000000003", 25)
    [alert] = deliver(alert_app)
    body = receiver.wait_for(1)[0]
    assert alert["event"] == "firing" and body["counts"] == {"calls": 35, "baseline": 10.0}


def test_a_failed_delivery_is_retried_with_backoff_and_the_history_says_so(alert_app, project, receiver):
    svc = alert_app.extensions["replay"]
    receiver.fail_next = 1
    record(alert_app, project, "sess_retry_000000000001", 12)
    assert len(deliver(alert_app)) == 2
    stored = {a["id"]: a for a in alert_outbox.history(svc.redis, svc.keys, project)}
    statuses = sorted(a["status"] for a in stored.values())
    assert statuses == ["pending", "sent"]  # one of the two met the 500
    failed = next(a for a in stored.values() if a["status"] == "pending")
    assert failed["attempts"][0]["answer"].startswith("HTTP 500")
    # Due again one backoff (ALERT_RETRY_BASE_S) after the failed attempt.
    due = svc.redis.zscore(svc.keys.alert_outbox(), failed["id"])
    assert due == failed["attempts"][0]["at_ms"] + 200
    time.sleep(0.25)
    deliver(alert_app)
    again = alert_outbox.load(svc.redis, svc.keys, failed["id"])
    assert again["status"] == "sent" and [a["ok"] for a in again["attempts"]] == [False, True]
    assert len(receiver.wait_for(2)) == 2
    # /metrics counts the webhook POSTs by outcome.
    scraped = alert_app.test_client().get("/metrics", headers={"Authorization": f"Bearer {token(alert_app)}"})
    text = scraped.get_data(as_text=True)
    assert 'replay_alert_deliveries_total{outcome="sent"} 2.0' in text
    assert 'replay_alert_deliveries_total{outcome="retried"} 1.0' in text


def test_the_share_of_sessions_with_a_5xx(alert_app, project, receiver):
    svc = alert_app.extensions["replay"]
    rules = AlertRules(svc.redis, svc.keys)
    share = next(r for r in rules.of_project(project) if r["kind"] == "error_share")
    rules.update(project, share["id"], {"threshold": "40", "min_sessions": "3", "format": "slack"})
    for i in range(3):
        record(alert_app, project, f"sess_share_00000000000{i}", 0, ok_calls=1)
    record(alert_app, project, "sess_share_000000000009", 1, status=503)
    assert [a["kind"] for a in deliver(alert_app)] == ["new_group"]  # 1 of 4 (25 %)
    record(alert_app, project, "sess_share_000000000008", 1, status=503)
    alerts = deliver(alert_app)
    assert [a["kind"] for a in alerts] == ["error_share"]
    text = receiver.wait_for(2)[-1]
    assert list(text) == ["text"]  # Slack's form
    assert "2 of 5 sessions (40.0%) had a 5xx in the last 2 s" in text["text"]
    assert f"<{PUBLIC}/sessions/sess_share_000000000009|sess_share_0>" in text["text"]


def test_a_deleted_session_leaves_the_counts_and_a_reindex_counts_nothing_twice(alert_app, project):
    svc = alert_app.extensions["replay"]
    record(alert_app, project, "sess_alert_deleted_01", 3)
    record(alert_app, project, "sess_alert_kept_0002", 2)
    counts = lambda: {k.decode(): svc.redis.zrange(k, 0, -1)  # noqa: E731
                      for k in svc.redis.scan_iter(match=svc.keys.prefix + "alerts:count:*")}
    before = counts()
    assert any(b"sess_alert_deleted_01" in m for members in before.values() for m in members)
    jobs.flush_session("sess_alert_kept_0002")  # a flush again (as a reindex flushes): nothing counted twice
    assert counts() == before
    delete_sessions(svc.redis, svc.keys, svc.store, ["sess_alert_deleted_01"], int(time.time() * 1000), 60_000)
    after = counts()
    assert not any(b"sess_alert_deleted_01" in m for members in after.values() for m in members)
    assert any(b"sess_alert_kept_0002" in m for members in after.values() for m in members)
