"""Ingestion as plain functions: validate, cap, append to Redis, then ack.

The websocket and HTTP routes are thin loops around `Ingest`; unit tests call
it directly and the end-to-end tests drive the real socket. Per batch the ack
waits for one Redis round trip (the append script, which also applies the rate
limits and schedules the flush); a hello costs one more (the admit script).
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Callable

from redis import Redis

from replay.core import body_capture, metrics, sampling
from replay.core.accounts import Accounts, Project
from replay.core.disk import DiskWatch
from replay.core.keys import RedisKeys
from replay.core.refusals import Refusals
from replay.core.settings import Settings
from replay.ingest.buffer import AppendResult, Buffer
from replay.ingest.protocol import (Hello, ProtocolError, decode, decode_message, parse_batch, parse_heartbeat,
                                    parse_hello, parse_http_batches)
from replay.ingest.refusals import RefusalLog, RefusalReporter

PROJECT_CACHE_S = 5.0
MAX_HEARTBEAT_BYTES = 1024

# A session belongs to the project of its first hello, and to the browser holding the
# secret that hello carried (sessions from before secrets bind to the next one seen).
# Its release and environment are the last ones a hello named.
_ADMIT = """
local meta = KEYS[1]
local project, secret, now, ua, ttl, release, environment = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local held = redis.call('HMGET', meta, 'project', 'secret')
if held[1] and held[1] ~= project then return 'project' end
if held[2] and held[2] ~= secret then return 'secret' end
if not held[1] then redis.call('HSET', meta, 'project', project, 'first_seen_ms', now, 'ua', ua) end
if not held[2] then redis.call('HSET', meta, 'secret', secret) end
if release ~= '' then redis.call('HSET', meta, 'release', release) end
if environment ~= '' then redis.call('HSET', meta, 'environment', environment) end
redis.call('HSET', meta, 'last_seen_ms', now)
redis.call('EXPIRE', meta, ttl)
return 'ok'
"""
_REFUSED = {
    "project": ProtocolError("session_conflict", "this session id belongs to another project"),
    "secret": ProtocolError("session_conflict", "this session belongs to another browser (its secret differs)"),
}


@dataclass
class Connection:
    """What one socket has said so far."""

    origin: str | None
    hello: Hello | None = None
    project: Project | None = None
    stored: int = 0
    sessions: set = field(default_factory=set)


class Ingest:
    def __init__(self, settings: Settings, redis: Redis, keys: RedisKeys,
                 request_flush: Callable[[str, int], None]):
        self.settings = settings
        self.redis = redis
        self.keys = keys
        self.buffer = Buffer(redis, keys, settings)
        self.accounts = Accounts(redis, keys)
        self.request_flush = request_flush
        self._admit_script = redis.register_script(_ADMIT)
        self.disk = DiskWatch(settings)
        self._projects: dict[str, tuple[float, Project | None]] = {}
        self.refusals = RefusalReporter(
            Refusals(redis, keys, settings.REFUSED_ORIGINS_KEPT, settings.REFUSED_ORIGINS_TTL_S),
            RefusalLog(settings.REFUSAL_LOG_INTERVAL_S, settings.REFUSAL_LOG_LINES_PER_MIN))

    # Websocket: one Connection per socket.
    def receive(self, conn: Connection, data: bytes | str) -> dict:
        """Handle one frame; returns the reply to send."""
        msg, text = decode_message(data, self.settings)
        kind = msg.get("type")
        if kind == "hello":
            return self.hello(conn, msg)
        if kind == "batch":
            if conn.hello is None:
                raise ProtocolError("hello_required", "send a hello before any batch")
            return self.batch(conn, msg, text)
        raise ProtocolError("invalid_message", f"unknown message type {kind!r}; expected hello or batch")

    def hello(self, conn: Connection, msg: dict) -> dict:
        hello = parse_hello(msg, self.settings)
        conn.project = self._admit(hello, conn.origin)
        conn.hello = hello
        conn.sessions.add(hello.session)
        return {"type": "ready", "acked": self.buffer.acked(hello.session, hello.window), **self._capture(conn.project)}

    def batch(self, conn: Connection, msg: dict, text: bytes | None = None) -> dict:
        """`text`: the message as it came; stored as it is unless an event time had to be reset."""
        try:
            batch = parse_batch(msg, self.settings)
        except ProtocolError:
            metrics.batch("refused", _event_count(msg))
            raise
        h = conn.hello
        now = _now_ms()
        as_sent = text if text is not None and not self._clamp(batch.events, now) else None
        result = self.buffer.append(h.session, h.window, batch.seq, batch.events, now, h.url,
                                    project=conn.project.key, batch_json=as_sent)
        metrics.batch("refused" if result.limited else "acked" if result.stored else "duplicate", len(batch.events))
        _check(result)
        conn.stored += result.stored
        return {"type": "ack", "seq": batch.seq, "acked": result.acked}

    def closed(self, conn: Connection) -> None:
        """The socket went away: the page may be gone, so its session is due soon."""
        if conn.stored:
            for session in conn.sessions:
                self.request_flush(session, self.settings.FLUSH_IDLE_MS)

    # HTTP: the whole envelope in one request, appended in one round trip.
    def http_batch(self, origin: str | None, body: bytes) -> dict:
        if len(body) > self.settings.MAX_HTTP_BATCH_BYTES:
            raise ProtocolError("too_large", f"body is {len(body)} bytes; the limit is {self.settings.MAX_HTTP_BATCH_BYTES}")
        msg = decode(body, self.settings)
        hello = parse_hello(msg, self.settings)
        batches = parse_http_batches(msg, self.settings)
        project = self._admit(hello, origin)
        now = _now_ms()
        for batch in batches:
            self._clamp(batch.events, now)
        results = self.buffer.append_all(hello.session, hello.window, [(b.seq, b.events) for b in batches], now,
                                         hello.url, project=project.key, idle=True)
        for batch, r in zip(batches, results):
            metrics.batch("refused" if r.limited else "acked" if r.stored else "duplicate", len(batch.events))
        # What was stored before a refusal stays stored; the refusal is the answer, so the client resends the rest.
        refused = next((r for r in results if r.limited), None)
        if refused is not None:
            exc = ProtocolError("rate_limited", f"too many batches for this {refused.limited}; slow down and retry")
            exc.admitted = True
            raise exc
        return {"acked": results[-1].acked, "stored": sum(r.stored for r in results),
                "duplicates": sum(not r.stored for r in results), **self._capture(project)}

    # HTTP: a page that holds its recording (record on failure) says it loaded; no session, no event.
    def heartbeat(self, origin: str | None, body: bytes) -> dict:
        if len(body) > MAX_HEARTBEAT_BYTES:
            raise ProtocolError("too_large", f"a heartbeat is at most {MAX_HEARTBEAT_BYTES} bytes")
        project = self._allowed(parse_heartbeat(decode(body, self.settings)), origin)
        sampling.count_heartbeat(self.redis, self.keys, project.key)
        return self._capture(project)

    # Shared steps.
    def _admit(self, hello: Hello, origin: str | None) -> Project:
        project = self._allowed(hello.key, origin)
        # Under the disk floor, sessions already recording go on (they are bounded by the rate limits); new ones
        # are refused, so the disk does not fill up with recordings that could not be flushed anyway.
        if self.disk.low() and not self.redis.exists(self.keys.session_meta(hello.session)):
            exc = ProtocolError("storage_full", self.disk.message())
            exc.admitted = True
            raise exc
        answer = self._admit_script(keys=[self.keys.session_meta(hello.session)],
                                    args=[project.key, _digest(hello.secret), _now_ms(), hello.ua,
                                          self.settings.SEQ_TTL_S, hello.release, hello.environment])
        refused = _REFUSED.get(answer.decode() if isinstance(answer, bytes) else answer)
        if refused is not None:
            exc = ProtocolError(refused.code, refused.message)
            exc.admitted = True  # the origin is the project's own: its page may read why (and stop sending)
            raise exc
        return project

    def _allowed(self, key: str, origin: str | None) -> Project:
        """The project of `key`, if it exists, takes `origin` and is enabled (else the refusal, counted)."""
        project = self._project(key)
        if project is None:
            self.refusals.refused("unknown_project", key, None, origin)
            raise ProtocolError("unknown_project", "no project has this key")
        if not project.allows(origin):
            self.refusals.refused("origin_not_allowed", key, project, origin)
            raise ProtocolError("origin_not_allowed", f"origin {origin or '(none)'} may not send to this project")
        if not project.enabled:
            self.refusals.refused("project_disabled", key, project, origin)
            raise ProtocolError("project_disabled", "this project is disabled; its admin can enable it with: "
                                f"replay project enable {project.key}")
        return project

    def forget_project(self, key: str) -> None:
        """This process reads the project again at its next hello (an admin changed it here)."""
        self._projects.pop(key, None)

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

    @staticmethod
    def _capture(project: Project) -> dict:
        """What the snippet is asked to capture beyond the default ({} for nothing): the `capture` of ready.
        Read from the project's record as cached for its hello (PROJECT_CACHE_S)."""
        found = body_capture.parse(project.extra.get(body_capture.FIELD))
        rate = sampling.parse(project.extra.get(sampling.FIELD))
        capture = {**({"requestBodies": found} if found else {}), **({"sampleRate": rate} if rate is not None else {})}
        return {"capture": capture} if capture else {}

    def _clamp(self, events: list, now: int) -> bool:
        """Events timed far from the server's clock (a broken clock, or a hostile client) are set to now; any?"""
        low, high = now - self.settings.MAX_EVENT_AGE_MS, now + self.settings.MAX_EVENT_LEAD_MS
        changed = False
        for event in events:
            if not low <= event["timestamp"] <= high:
                event["timestamp"] = now
                changed = True
        return changed


def _check(result: AppendResult) -> None:
    if result.limited:
        raise ProtocolError("rate_limited", f"too many batches for this {result.limited}; slow down and retry")


def _event_count(msg: dict) -> int:
    events = msg.get("events")
    return len(events) if isinstance(events, list) else 0


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _now_ms() -> int:
    return int(time.time() * 1000)
