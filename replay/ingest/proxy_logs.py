"""Proxy log intake: lines from nginx (syslog or POST /ingest/logs) parsed and filed in Redis for the join.

Layout (docs/proxy-logs.md): access lines of a session in a list per session; failed access lines
without a session in a list per method + host + folded route; error-log lines (warn and worse) in a
list per nginx connection number. Every list keeps its newest lines only and expires. One batch of
lines is one Redis round trip.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

from redis import Redis

from replay.core import metrics
from replay.core.keys import RedisKeys
from replay.core.proxy_logs.access_log import route_of
from replay.core.proxy_logs.lines import LineError, parse_line
from replay.core.proxy_logs.syslog import parse_frame
from replay.core.server_keys import ServerKeyCache
from replay.core.settings import Settings
from replay.ingest.flush import request_flush

log = logging.getLogger(__name__)
STORED_LEVELS = {"warn", "error", "crit", "alert", "emerg"}


@dataclass
class Outcome:
    accepted: int = 0
    rejected: int = 0
    errors: list = field(default_factory=list)


@dataclass
class DatagramCounts:
    accepted: int = 0
    rejected: int = 0
    unknown_tag: int = 0
    not_syslog: int = 0


class _Batch:
    """Lists to append to and counters to add, written in one pipeline."""

    def __init__(self):
        self.lists: dict[str, tuple[list[str], int, int]] = {}
        self.counters: dict[tuple[str, str], int] = {}
        self.rejoin: set[str] = set()  # sessions with a failed line: re-joined if already stored
        self.strings: dict[str, tuple[str, int]] = {}  # key -> (value, ttl): the session of a connection
        self.lookups: set[str] = set()  # connections with an error line: their session is re-joined too

    def push(self, key: str, value: str, cap: int, ttl_s: int) -> None:
        self.lists.setdefault(key, ([], cap, ttl_s))[0].append(value)

    def count(self, key: str, name: str, n: int = 1) -> None:
        if n:
            self.counters[(key, name)] = self.counters.get((key, name), 0) + n

    def write(self, redis: Redis, keys: RedisKeys, rejoin_delay_ms: int) -> None:
        if not self.lists and not self.counters:
            return
        pipe = redis.pipeline(transaction=False)
        for session in self.rejoin:
            # A session already stored (not due for a flush) is flushed again to join the late line.
            request_flush(pipe, keys, session, rejoin_delay_ms, if_unscheduled=True)
        for key, (values, cap, ttl_s) in self.lists.items():
            pipe.rpush(key, *values)
            pipe.ltrim(key, -cap, -1)
            pipe.expire(key, ttl_s)
        for (key, name), n in self.counters.items():
            pipe.hincrby(key, name, n)
        for key, (value, ttl_s) in self.strings.items():
            pipe.set(key, value, ex=ttl_s)
        pipe.execute()
        lookups = sorted(self.lookups - set(self.strings))
        if lookups:
            # An error line that came after its access line (files shipped apart): its session joins it again.
            sessions = {s.decode() for s in redis.mget(lookups) if s}
            if sessions:
                pipe = redis.pipeline(transaction=False)
                for session in sessions:
                    request_flush(pipe, keys, session, rejoin_delay_ms, if_unscheduled=True)
                pipe.execute()


def _failed(access: dict) -> bool:
    return access["status"] >= 400 or access["status"] < 100


class ProxyLogs:
    def __init__(self, settings: Settings, redis: Redis, keys: RedisKeys):
        self.settings, self.redis, self.keys = settings, redis, keys
        self.server_keys = ServerKeyCache(redis, keys, settings.SERVER_KEY_CACHE_S)

    def project_of(self, server_key: str) -> str | None:
        return self.server_keys.project_of(server_key)

    def store_lines(self, project: str, lines: list[str], via: str, source: str | None = None) -> Outcome:
        """Parse each line, file the good ones under the project; what was refused, by line number (from 1)."""
        batch, outcome = _Batch(), Outcome()
        self._file(batch, project, lines, via, source, outcome)
        batch.write(self.redis, self.keys, self.settings.PROXY_JOIN_DELAY_MS)
        metrics.proxy_lines(via, outcome.accepted, outcome.rejected)
        return outcome

    def store_datagrams(self, datagrams: list[tuple[bytes, str | None]]) -> DatagramCounts:
        """Syslog datagrams (payload, sender address) from any number of projects, in one round trip."""
        batch, counts = _Batch(), DatagramCounts()
        by_project: dict[tuple[str, str | None], list[str]] = {}
        for payload, sender in datagrams:
            frame = parse_frame(payload)
            if frame is None:
                counts.not_syslog += 1
                continue
            project = self.project_of(frame[0])
            if project is None:
                counts.unknown_tag += 1
                continue
            by_project.setdefault((project, sender), []).append(frame[1])
        for (project, sender), lines in by_project.items():
            outcome = Outcome()
            self._file(batch, project, lines, "syslog", sender, outcome)
            counts.accepted += outcome.accepted
            counts.rejected += outcome.rejected
        batch.count(self.keys.proxy_dropped(), "unknown_tag", counts.unknown_tag)
        batch.count(self.keys.proxy_dropped(), "not_syslog", counts.not_syslog)
        batch.write(self.redis, self.keys, self.settings.PROXY_JOIN_DELAY_MS)
        metrics.proxy_lines("syslog", counts.accepted, counts.rejected + counts.unknown_tag + counts.not_syslog)
        return counts

    def _file(self, batch: _Batch, project: str, lines: list[str], via: str, source: str | None,
              outcome: Outcome) -> None:
        s, now = self.settings, int(time.time() * 1000)
        for number, line in enumerate(lines, 1):
            try:
                record = parse_line(line, s.MAX_LOG_LINE_CHARS)
            except LineError as exc:
                outcome.rejected += 1
                if len(outcome.errors) < s.MAX_LOG_ERRORS_REPORTED:
                    outcome.errors.append({"line": number, "reason": str(exc)})
                continue
            outcome.accepted += 1
            record.update(received_ms=now, via=via, source=source)
            target = self._target(project, record)
            if target:
                batch.push(target[0], json.dumps(record, separators=(",", ":")), target[1], target[2])
                self._note_rejoin(batch, project, record)
        stats = self.keys.proxy_stats(project)
        batch.count(stats, f"accepted_{via}", outcome.accepted)
        batch.count(stats, f"rejected_{via}", outcome.rejected)

    def _note_rejoin(self, batch: _Batch, project: str, record: dict) -> None:
        """What a filed record may change in a stored session's evidence: the flush to schedule for it."""
        if record["kind"] == "access":
            if record["session"] and _failed(record):
                batch.rejoin.add(record["session"])
                if record["connection"] is not None:
                    key = self.keys.proxy_connection_session(project, record["connection"])
                    batch.strings[key] = (record["session"], self.settings.PROXY_LOG_TTL_S)
        else:
            batch.lookups.add(self.keys.proxy_connection_session(project, record["connection"]))

    def _target(self, project: str, record: dict) -> tuple[str, int, int] | None:
        """(list key, cap, ttl) the record is filed under, or None when no join will need it."""
        s = self.settings
        if record["kind"] == "access":
            if record["session"]:
                return self.keys.proxy_session(project, record["session"]), s.PROXY_LOG_MAX_PER_SESSION, s.PROXY_LOG_TTL_S
            if _failed(record):
                route = route_of(record["method"], record["host"], record["uri"])
                return self.keys.proxy_route(project, route), s.PROXY_LOG_MAX_PER_ROUTE, s.PROXY_LOG_UNKEYED_TTL_S
            return None
        if record["connection"] is not None and record["level"] in STORED_LEVELS:
            return (self.keys.proxy_connection(project, record["connection"]), s.PROXY_LOG_MAX_PER_CONNECTION,
                    s.PROXY_LOG_TTL_S)
        return None
