"""What the web processes count for Prometheus (GET /metrics): counters only on the hot paths.

Under `replay serve` each gunicorn worker writes its values to files in
PROMETHEUS_MULTIPROC_DIR (prometheus_client's multi-process mode, set up by
replay/serve.py before this module is imported) and a scrape of any worker sums
them all. Elsewhere (tests, a single process) they live in this process.
What the worker does, and the backlog, are read from Redis at scrape time
(replay/core/backlog.py, replay/core/worker_stats.py).
"""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

INGEST_BATCHES = Counter("replay_ingest_batches", "Ingest batches by outcome (acked, duplicate, refused)",
                         ["outcome"])
INGEST_EVENTS = Counter("replay_ingest_events", "rrweb events in ingest batches by outcome (acked, duplicate, refused)",
                        ["outcome"])
INGEST_REFUSED = Counter("replay_ingest_refused", "Ingest messages and requests refused, by error code", ["reason"])
# livesum: the sockets of the processes alive now (a dead worker's are dropped by gunicorn's child_exit hook).
OPEN_SOCKETS = Gauge("replay_ingest_open_sockets", "Ingest websockets open now", multiprocess_mode="livesum")
ACK_SECONDS = Histogram("replay_ingest_ack_seconds", "From a batch's arrival to its ack (one Redis round trip)",
                        ["transport"], buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
PROXY_LINES = Counter("replay_proxy_log_lines", "Proxy log lines by intake (syslog, http) and outcome (accepted, "
                      "rejected)", ["via", "outcome"])
STORAGE_ERRORS = Counter("replay_web_storage_errors", "Object storage failures met by the web tier (viewer, API)")

# Shown at 0 before the first batch: a rate over a series that appears late misses its first increase.
# Bound once: `labels()` per batch costs about as much as the increment.
_BATCHES = {outcome: INGEST_BATCHES.labels(outcome) for outcome in ("acked", "duplicate", "refused")}
_EVENTS = {outcome: INGEST_EVENTS.labels(outcome) for outcome in _BATCHES}
ACK_WS, ACK_HTTP = ACK_SECONDS.labels("ws"), ACK_SECONDS.labels("http")


def batch(outcome: str, events: int) -> None:
    _BATCHES[outcome].inc()
    if events:
        _EVENTS[outcome].inc(events)


def refused(reason: str) -> None:
    INGEST_REFUSED.labels(reason).inc()


def proxy_lines(via: str, accepted: int, rejected: int) -> None:
    if accepted:
        PROXY_LINES.labels(via, "accepted").inc(accepted)
    if rejected:
        PROXY_LINES.labels(via, "rejected").inc(rejected)
