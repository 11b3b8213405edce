"""Ingestion as plain functions: validate, cap, append to Redis, then ack.

The websocket and HTTP routes are thin loops around `Ingest`; unit tests call
it directly and the end-to-end tests drive the real socket.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from redis import Redis

from replay.core.accounts import Accounts, Project
from replay.ingest.protocol import Hello, ProtocolError, decode, parse_batch, parse_hello, parse_http_batches
from replay.core.settings import Settings
from replay.ingest.buffer import Buffer
from replay.core.keys import RedisKeys

PROJECT_CACHE_S = 5.0


@dataclass
class Connection:
    """What one socket has said so far."""

    origin: str | None
    hello: Hello | None = None
    stored: int = 0
    sessions: set = field(default_factory=set)


class Ingest:
    def __init__(self, settings: Settings, redis: Redis, keys: RedisKeys,
                 request_flush: Callable[[str, int], None]):
        self.settings = settings
        self.redis = redis
        self.keys = keys
        self.buffer = Buffer(redis, keys, settings.SEQ_TTL_S, settings.BUFFER_TTL_S)
        self.accounts = Accounts(redis, keys)
        self.request_flush = request_flush
        self._projects: dict[str, tuple[float, Project | None]] = {}

    # Websocket: one Connection per socket.
    def receive(self, conn: Connection, data: bytes | str) -> dict:
        """Handle one frame; returns the reply to send."""
        msg = decode(data, self.settings)
        kind = msg.get("type")
        if kind == "hello":
            return self.hello(conn, msg)
        if kind == "batch":
            if conn.hello is None:
                raise ProtocolError("hello_required", "send a hello before any batch")
            return self.batch(conn, msg)
        raise ProtocolError("invalid_message", f"unknown message type {kind!r}; expected hello or batch")

    def hello(self, conn: Connection, msg: dict) -> dict:
        hello = parse_hello(msg, self.settings)
        self._admit(hello, conn.origin)
        conn.hello = hello
        conn.sessions.add(hello.session)
        return {"type": "ready", "acked": self.buffer.acked(hello.session, hello.window)}

    def batch(self, conn: Connection, msg: dict) -> dict:
        batch = parse_batch(msg, self.settings)
        h = conn.hello
        self._rate_limit(h)
        result = self.buffer.append(h.session, h.window, batch.seq, batch.events, _now_ms(), h.url)
        if result.stored:
            conn.stored += 1
            self._after_append(h.session, result.buffered_bytes)
        return {"type": "ack", "seq": batch.seq, "acked": result.acked}

    def closed(self, conn: Connection) -> None:
        """The socket went away: the session may be idle, flush soon."""
        if conn.stored:
            for session in conn.sessions:
                self.request_flush(session, self.settings.FLUSH_IDLE_MS)

    # HTTP: the whole envelope in one request.
    def http_batch(self, origin: str | None, body: bytes) -> dict:
        if len(body) > self.settings.MAX_HTTP_BATCH_BYTES:
            raise ProtocolError("too_large", f"body is {len(body)} bytes; the limit is {self.settings.MAX_HTTP_BATCH_BYTES}")
        msg = decode(body, self.settings)
        hello = parse_hello(msg, self.settings)
        batches = parse_http_batches(msg, self.settings)
        self._admit(hello, origin)
        stored = duplicates = 0
        acked = buffered = 0
        for batch in batches:
            self._rate_limit(hello)
            result = self.buffer.append(hello.session, hello.window, batch.seq, batch.events, _now_ms(), hello.url)
            stored += result.stored
            duplicates += not result.stored
            acked, buffered = result.acked, result.buffered_bytes
        if stored:
            self._after_append(hello.session, buffered, idle=True)
        return {"acked": acked, "stored": stored, "duplicates": duplicates}

    # Shared steps.
    def _admit(self, hello: Hello, origin: str | None) -> None:
        project = self._project(hello.key)
        if project is None:
            raise ProtocolError("unknown_project", "no project has this key")
        if not project.allows(origin):
            raise ProtocolError("origin_not_allowed", f"origin {origin or '(none)'} may not send to this project")
        meta = self.keys.session_meta(hello.session)
        pipe = self.redis.pipeline()
        pipe.hsetnx(meta, "project", project.key)
        pipe.hget(meta, "project")
        owner = pipe.execute()[-1]
        if owner and owner.decode() != project.key:
            raise ProtocolError("session_conflict", "this session id belongs to another project")
        now = _now_ms()
        pipe = self.redis.pipeline()
        pipe.hsetnx(meta, "first_seen_ms", now)
        pipe.hsetnx(meta, "ua", hello.ua)
        pipe.hset(meta, "last_seen_ms", now)
        pipe.expire(meta, self.settings.SEQ_TTL_S)
        pipe.execute()

    def _project(self, key: str) -> Project | None:
        now = time.monotonic()
        hit = self._projects.get(key)
        if hit and now - hit[0] < PROJECT_CACHE_S:
            return hit[1]
        project = self.accounts.project(key)
        if len(self._projects) > 10_000:
            self._projects.clear()
        self._projects[key] = (now, project)
        return project

    def _rate_limit(self, hello: Hello) -> None:
        minute = int(time.time() // 60)
        key = self.keys.rate(hello.session, hello.window, minute)
        pipe = self.redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, 120)
        count = pipe.execute()[0]
        if count > self.settings.MAX_BATCHES_PER_WINDOW_PER_MINUTE:
            raise ProtocolError("rate_limited", f"more than {self.settings.MAX_BATCHES_PER_WINDOW_PER_MINUTE} batches a minute")

    def _after_append(self, session: str, buffered_bytes: int, idle: bool = False) -> None:
        if buffered_bytes >= self.settings.FLUSH_BYTES:
            self.request_flush(session, 0)
        elif idle:
            self.request_flush(session, self.settings.FLUSH_IDLE_MS)
        else:
            self.request_flush(session, self.settings.FLUSH_AGE_MS)


def _now_ms() -> int:
    return int(time.time() * 1000)
