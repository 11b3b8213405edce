"""Application events intake (POST /ingest/server): each line checked and filed in Redis for the join.

Layout (docs/server-events.md): events of a session in a list per session; events without a session in a
list per method + host + folded route (the same route the proxy's unkeyed lines are filed by). Every list
keeps its newest events only and expires. A session's event schedules its flush (if none is due), so the flush
job's evidence pass joins it even after the session was stored. One post is one Redis round trip.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from redis import Redis

from replay.core.keys import RedisKeys
from replay.core.server_events import EventError, parse_event
from replay.core.server_keys import ServerKeyCache
from replay.core.settings import Settings
from replay.ingest.flush import request_flush


@dataclass
class Outcome:
    accepted: int = 0
    rejected: int = 0
    errors: list = field(default_factory=list)


class ServerEvents:
    def __init__(self, settings: Settings, redis: Redis, keys: RedisKeys, server_keys: ServerKeyCache):
        # The server-key cache is the one POST /ingest/logs and syslog use: one lookup serves all three.
        self.settings, self.redis, self.keys, self.server_keys = settings, redis, keys, server_keys

    def project_of(self, server_key: str) -> str | None:
        return self.server_keys.project_of(server_key)

    def store(self, project: str, lines: list[str]) -> Outcome:
        """Check each line, file the good ones under the project; what was refused, by line number (from 1)."""
        s, now, outcome = self.settings, int(time.time() * 1000), Outcome()
        lists: dict[str, tuple[list[str], int, int]] = {}
        rejoin: set[str] = set()
        for number, line in enumerate(lines, 1):
            try:
                event = parse_event(line, s)
            except EventError as exc:
                outcome.rejected += 1
                if len(outcome.errors) < s.MAX_LOG_ERRORS_REPORTED:
                    outcome.errors.append({"line": number, "reason": str(exc)})
                continue
            outcome.accepted += 1
            event["received_ms"] = now
            if event["session"]:
                target = (self.keys.server_session(project, event["session"]), s.SERVER_EVENT_MAX_PER_SESSION,
                          s.SERVER_EVENT_TTL_S)
                rejoin.add(event["session"])
            else:
                target = (self.keys.server_route(project, event["route"]), s.SERVER_EVENT_MAX_PER_ROUTE,
                          s.SERVER_EVENT_UNKEYED_TTL_S)
            lists.setdefault(target[0], ([], target[1], target[2]))[0].append(
                json.dumps(event, separators=(",", ":"), ensure_ascii=False))
        pipe = self.redis.pipeline(transaction=False)
        for session in rejoin:
            # As for a late proxy line: a session already stored is flushed again to join the event.
            request_flush(pipe, self.keys, session, s.PROXY_JOIN_DELAY_MS, if_unscheduled=True)
        for key, (values, cap, ttl_s) in lists.items():
            pipe.rpush(key, *values)
            pipe.ltrim(key, -cap, -1)
            pipe.expire(key, ttl_s)
        stats = self.keys.server_stats(project)
        for name, n in (("accepted", outcome.accepted), ("rejected", outcome.rejected)):
            if n:
                pipe.hincrby(stats, name, n)
        if lists or outcome.accepted or outcome.rejected:
            pipe.execute()
        return outcome
