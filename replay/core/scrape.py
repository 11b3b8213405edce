"""What a /metrics scrape reads from Redis: the backlog and the workers' counters, as Prometheus families.

Global values (the same from whichever web process answers), read in a few
round trips per scrape; nothing is counted on the ingest path for them.
"""
from __future__ import annotations

import logging

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from redis import Redis
from redis.exceptions import RedisError

from replay.core import backlog, worker_stats
from replay.core.keys import RedisKeys

log = logging.getLogger(__name__)

GAUGES = [
    ("queue_depth", "replay_queue_depth", "Flush jobs waiting in the RQ queue"),
    ("oldest_job_age_s", "replay_queue_oldest_job_age_seconds", "How long the oldest queued flush job has waited"),
    ("due_flushes", "replay_flush_due_sessions", "Sessions whose flush is due now"),
    ("oldest_due_age_s", "replay_flush_overdue_seconds", "How late the most overdue flush is"),
    ("failed_jobs", "replay_queue_failed_jobs", "Flush jobs in RQ's failed registry"),
    ("workers", "replay_workers", "replay worker processes registered on the queue"),
    ("sessions_indexed", "replay_sessions_stored", "Sessions stored and indexed"),
]


class RedisCollector:
    """A prometheus_client collector reading Redis at each collect()."""

    def __init__(self, redis: Redis, keys: RedisKeys, queue_name: str, queue_redis: Redis | None = None):
        self.redis, self.keys, self.queue_name, self.queue_redis = redis, keys, queue_name, queue_redis

    def collect(self):
        up = GaugeMetricFamily("replay_redis_up", "Whether Redis answered this scrape (1) or not (0)")
        try:
            now = backlog.read(self.redis, self.keys, self.queue_name, self.queue_redis)
            stats = worker_stats.read(self.redis, self.keys)
        except RedisError as exc:
            log.warning("metrics scrape without the backlog: Redis unavailable (%s)", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        values = now.as_dict()
        for field, name, text in GAUGES:
            yield GaugeMetricFamily(name, text, value=values[field])
        flushes = CounterMetricFamily("replay_flushes", "Session flushes by the workers, by outcome (ok, failed)",
                                      labels=["outcome"])
        flushes.add_metric(["ok"], stats.get("flushes_ok", 0.0))
        flushes.add_metric(["failed"], stats.get("flushes_failed", 0.0))
        yield flushes
        alerts = CounterMetricFamily("replay_alert_deliveries", "Alert webhook POSTs by outcome (sent; retried: "
                                     "failed and tried again later; failed: given up)", labels=["outcome"])
        for outcome in ("sent", "retried", "failed"):
            alerts.add_metric([outcome], stats.get(f"alerts_{outcome}", 0.0))
        yield alerts
        yield CounterMetricFamily("replay_worker_storage_errors", "Flushes that failed on object storage",
                                  value=stats.get("storage_errors", 0.0))
        buckets, total = worker_stats.flush_histogram(stats)
        yield HistogramMetricFamily("replay_flush_duration_seconds", "How long one session's flush took",
                                    buckets=buckets, sum_value=total)
