"""Refused ingest per project, in Redis: which origins were refused, how often, when last, and why.

Written only on the refusal path (one script call); bounded per project to the
REFUSED_ORIGINS_KEPT most recently refused origins, and expiring
REFUSED_ORIGINS_TTL_S after the last refusal, so a flood of random origins
cannot grow Redis.
"""
from __future__ import annotations

from dataclasses import dataclass

from redis import Redis

from replay.core.keys import RedisKeys

# Longest origin text kept: a refused Origin header is whatever a client sent.
MAX_ORIGIN_CHARS = 200

# KEYS: seen zset, info hash. ARGV: origin, reason, now ms, how many to keep, ttl s.
_NOTE = """
local seen, info = KEYS[1], KEYS[2]
local origin, reason, now, keep, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZADD', seen, now, origin)
redis.call('HINCRBY', info, 'n:' .. origin, 1)
redis.call('HSET', info, 'r:' .. origin, reason)
local extra = redis.call('ZCARD', seen) - keep
if extra > 0 then
  for _, old in ipairs(redis.call('ZRANGE', seen, 0, extra - 1)) do
    redis.call('HDEL', info, 'n:' .. old, 'r:' .. old)
  end
  redis.call('ZREMRANGEBYRANK', seen, 0, extra - 1)
end
redis.call('EXPIRE', seen, ttl)
redis.call('EXPIRE', info, ttl)
return 1
"""


@dataclass(frozen=True)
class RefusedOrigin:
    origin: str
    count: int
    last_seen_ms: int
    reason: str


class Refusals:
    def __init__(self, redis: Redis, keys: RedisKeys, kept: int = 50, ttl_s: int = 30 * 24 * 3600):
        self.redis = redis
        self.keys = keys
        self.kept = kept
        self.ttl_s = ttl_s
        self._note = redis.register_script(_NOTE)

    def note(self, project: str, origin: str, reason: str, now_ms: int) -> None:
        """Count one refusal of `origin` (already normalized, or a placeholder such as '(none)')."""
        self._note(keys=list(self.keys.refused_origins(project)),
                   args=[origin[:MAX_ORIGIN_CHARS], reason, now_ms, self.kept, self.ttl_s])

    def of_project(self, project: str) -> list[RefusedOrigin]:
        """The refused origins kept for a project, most recently refused first."""
        seen, info = self.keys.refused_origins(project)
        pipe = self.redis.pipeline(transaction=False)
        pipe.zrevrange(seen, 0, -1, withscores=True)
        pipe.hgetall(info)
        ranked, fields = pipe.execute()
        fields = {k.decode(): v.decode() for k, v in fields.items()}
        out = []
        for member, score in ranked:
            origin = member.decode()
            out.append(RefusedOrigin(origin, int(fields.get("n:" + origin, 0)), int(score),
                                     fields.get("r:" + origin, "")))
        return out

    def forget(self, project: str, origin: str) -> None:
        """Drop one origin's refusals (it was just allowed)."""
        seen, info = self.keys.refused_origins(project)
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem(seen, origin)
        pipe.hdel(info, "n:" + origin, "r:" + origin)
        pipe.execute()
