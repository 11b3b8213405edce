"""Alert delivery: due alerts from the outbox become RQ jobs that POST them to their webhook.

The retry schedule is ours, in the outbox (replay/core/alert_outbox.py): a failed POST is due again after
ALERT_RETRY_BASE_S, four times longer each time up to ALERT_RETRY_MAX_S, until ALERT_DELIVERY_ATTEMPTS; RQ's
own retries would need its scheduler, which the workers do not run.
"""
from __future__ import annotations

import logging
import urllib.error
import urllib.request

from redis import Redis
from rq import Queue

from replay.core import alert_outbox, worker_stats
from replay.core.alert_messages import webhook_body
from replay.core.keys import RedisKeys
from replay.core.settings import Settings
from worker.context import current

log = logging.getLogger(__name__)

DELIVER_JOB = "worker.alert_delivery.deliver"
# A webhook's answer quoted in the alert's attempts, at most.
MAX_ANSWER_CHARS = 200


def enqueue_due(redis: Redis, keys: RedisKeys, settings: Settings, queue_redis: Redis | None = None) -> int:
    """Enqueue one delivery job per alert due now (on `queue_redis`, else `redis`); returns how many."""
    ids = alert_outbox.claim_due(redis, keys, int(settings.ALERT_LEASE_S * 1000))
    if ids:
        Queue(settings.QUEUE_NAME, connection=queue_redis or redis).enqueue_many([Queue.prepare_data(
            DELIVER_JOB, args=(alert_id,), result_ttl=0, failure_ttl=24 * 3600,
            description=f"deliver alert {alert_id}") for alert_id in ids])
    return len(ids)


def post(url: str, body: bytes, timeout_s: float) -> tuple[bool, str]:
    """POST the JSON body; (a 2xx came back, what came back)."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "replay-alerts/1"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            return 200 <= answer.status < 300, f"HTTP {answer.status}"
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}: {exc.read(MAX_ANSWER_CHARS).decode('utf-8', 'replace')}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return False, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"[:MAX_ANSWER_CHARS]


def backoff_s(settings: Settings, attempts: int) -> float:
    return min(settings.ALERT_RETRY_BASE_S * 4 ** (attempts - 1), settings.ALERT_RETRY_MAX_S)


def deliver(alert_id: str) -> str:
    """RQ job: POST the alert; on failure, due again after the backoff. Returns its status."""
    ctx = current()
    redis, keys, settings = ctx.redis, ctx.keys, ctx.settings
    alert = alert_outbox.load(redis, keys, alert_id)
    if alert is None or alert["status"] != "pending":
        alert_outbox.done(redis, keys, alert_id)
        return alert["status"] if alert else "gone"
    ok, answer = post(alert["url"], webhook_body(alert), settings.ALERT_TIMEOUT_S)
    now = alert_outbox.now_ms()
    alert["attempts"].append({"at_ms": now, "ok": ok, "answer": answer})
    if ok:
        alert["status"], alert["sent_ms"] = "sent", now
    elif len(alert["attempts"]) >= settings.ALERT_DELIVERY_ATTEMPTS:
        alert["status"] = "failed"
        log.warning("alert %s to %s failed %d times; last: %s", alert_id, alert["url"], len(alert["attempts"]), answer)
    alert_outbox.save(redis, keys, alert)
    worker_stats.record_alert_attempt(redis, keys, "retried" if alert["status"] == "pending" else alert["status"])
    if alert["status"] == "pending":
        delay = backoff_s(settings, len(alert["attempts"]))
        alert_outbox.retry_at(redis, keys, alert_id, now + int(delay * 1000))
    else:
        alert_outbox.done(redis, keys, alert_id)
    return alert["status"]

