"""Alerts as sent (or to send): each one's message and delivery, the project's history, and the outbox.

An alert with a destination goes in the outbox zset, scored by when it is due. A worker claims what is due
by moving its score a lease ahead (so an alert whose job dies is due again after the lease), and the
delivery job takes it out once it is sent, or puts it back at its next try after a failure.
"""
from __future__ import annotations

import json
import secrets
import time

from redis import Redis

from replay.core.keys import RedisKeys

# KEYS[1]: the outbox. ARGV: now, the lease's end, the most to claim. Returns the claimed ids.
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], id) end
return due
"""


def now_ms() -> int:
    return int(time.time() * 1000)


def record(redis: Redis, keys: RedisKeys, *, rule: dict, payload: dict, url: str, fmt: str,
           kept: int, ttl_s: int) -> dict:
    """Store an alert in the project's history; with a URL, due for delivery now. Returns it."""
    alert = {"id": "al_" + secrets.token_hex(8), "project": rule["project"], "rule_id": rule.get("id"),
             "rule_name": rule.get("name"), "kind": payload["kind"], "event": payload["event"], "title": payload["title"],
             "created_ms": payload["sent_ms"], "url": url, "format": fmt,
             "status": "pending" if url else "not_sent", "attempts": [], "payload": payload}
    pipe = redis.pipeline(transaction=False)
    pipe.set(keys.alert(alert["id"]), json.dumps(alert), ex=ttl_s)
    pipe.lpush(keys.alert_history(rule["project"]), alert["id"])
    pipe.ltrim(keys.alert_history(rule["project"]), 0, kept - 1)
    pipe.expire(keys.alert_history(rule["project"]), ttl_s)
    if url:
        pipe.zadd(keys.alert_outbox(), {alert["id"]: now_ms()})
    pipe.execute()
    return alert


def load(redis: Redis, keys: RedisKeys, alert_id: str) -> dict | None:
    raw = redis.get(keys.alert(alert_id))
    return json.loads(raw) if raw else None


def save(redis: Redis, keys: RedisKeys, alert: dict) -> None:
    """Write the alert back, keeping its expiry."""
    redis.set(keys.alert(alert["id"]), json.dumps(alert), keepttl=True)


def history(redis: Redis, keys: RedisKeys, project: str, limit: int = 100) -> list[dict]:
    """The project's alerts, newest first (those expired are skipped)."""
    ids = [raw.decode() for raw in redis.lrange(keys.alert_history(project), 0, limit - 1)]
    found = redis.mget([keys.alert(i) for i in ids]) if ids else []
    return [json.loads(raw) for raw in found if raw]


def claim_due(redis: Redis, keys: RedisKeys, lease_ms: int, limit: int = 100) -> list[str]:
    """Ids of alerts due now, each leased for lease_ms."""
    now = now_ms()
    return [raw.decode() for raw in redis.register_script(_CLAIM)(
        keys=[keys.alert_outbox()], args=[now, now + lease_ms, limit])]


def retry_at(redis: Redis, keys: RedisKeys, alert_id: str, due_ms: int) -> None:
    redis.zadd(keys.alert_outbox(), {alert_id: due_ms})


def done(redis: Redis, keys: RedisKeys, alert_id: str) -> None:
    redis.zrem(keys.alert_outbox(), alert_id)
