"""The per-session Redis buffer: the collector appends batches, the flush job drains them.

A batch is appended and its sequence number recorded in one Lua script, so a
batch is either durably in the buffer (and may be acked) or not at all, and a
duplicate `(session, window, seq)` is dropped atomically.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from redis import Redis

from replay.core.keys import RedisKeys
from replay.core.records import Record

_APPEND = """
local seqs, acked, buf, bytes = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local window, seq, record = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local seq_ttl, buf_ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
local high = tonumber(redis.call('HGET', acked, window) or '0')
if seq <= high or redis.call('SADD', seqs, seq) == 0 then
  return {0, high, tonumber(redis.call('GET', bytes) or '0')}
end
redis.call('RPUSH', buf, record)
local buffered = redis.call('INCRBY', bytes, string.len(record))
-- The set keeps only numbers above the contiguous high mark; the mark covers the rest.
while redis.call('SREM', seqs, high + 1) == 1 do
  high = high + 1
end
redis.call('HSET', acked, window, high)
redis.call('EXPIRE', seqs, seq_ttl)
redis.call('EXPIRE', acked, seq_ttl)
redis.call('EXPIRE', buf, buf_ttl)
redis.call('EXPIRE', bytes, buf_ttl)
return {1, high, buffered}
"""


# Trim only while the caller still holds the flush lock (when it names one): a flush
# whose lock expired must not drop records another flush may not have stored yet.
_TRIM = """
local buf, bytes, lock = KEYS[1], KEYS[2], KEYS[3]
if lock and redis.call('GET', lock) ~= ARGV[3] then
  return 0
end
redis.call('LTRIM', buf, tonumber(ARGV[1]), -1)
local left = redis.call('DECRBY', bytes, tonumber(ARGV[2]))
-- The byte count is advisory; never leave it negative or outliving the list.
if left <= 0 or redis.call('LLEN', buf) == 0 then
  redis.call('DEL', bytes)
end
return 1
"""


@dataclass(frozen=True)
class AppendResult:
    stored: bool  # False: a duplicate, dropped
    acked: int  # highest contiguous seq held for the window
    buffered_bytes: int  # what the session's buffer holds now, so the caller needs no second round trip


class Buffer:
    def __init__(self, redis: Redis, keys: RedisKeys, seq_ttl_s: int, buffer_ttl_s: int):
        self.redis = redis
        self.keys = keys
        self.seq_ttl_s = seq_ttl_s
        self.buffer_ttl_s = buffer_ttl_s
        self._append = redis.register_script(_APPEND)
        self._trim = redis.register_script(_TRIM)

    def append(self, session: str, window: str, seq: int, events: list, received_ms: int, url: str = "") -> AppendResult:
        record = json.dumps(
            {"w": window, "seq": seq, "t": received_ms, "url": url, "events": events},
            separators=(",", ":"),
        )
        k = self.keys
        stored, high, buffered = self._append(
            keys=[k.seqs(session, window), k.acked(session), k.buffer(session), k.buffer_bytes(session)],
            args=[window, seq, record, self.seq_ttl_s, self.buffer_ttl_s],
        )
        return AppendResult(bool(stored), int(high), int(buffered))

    def acked(self, session: str, window: str) -> int:
        return int(self.redis.hget(self.keys.acked(session), window) or 0)

    def size_bytes(self, session: str) -> int:
        return int(self.redis.get(self.keys.buffer_bytes(session)) or 0)

    def read(self, session: str, max_bytes: int) -> tuple[list[Record], int]:
        """The oldest records, up to about max_bytes; returns them and how many to trim."""
        out: list[Record] = []
        total = 0
        start = 0
        page = 64
        while total < max_bytes:
            raw = self.redis.lrange(self.keys.buffer(session), start, start + page - 1)
            if not raw:
                break
            for item in raw:
                d = json.loads(item)
                out.append(Record(d["w"], int(d["seq"]), int(d["t"]), d.get("url", ""), d["events"]))
                total += len(item)
                if total >= max_bytes:
                    break
            start += page
        return out, total

    def trim(self, session: str, count: int, nbytes: int, lock: tuple[str, str] | None = None) -> bool:
        """Drop the `count` oldest records once they are safely in object storage.

        With `lock=(key, token)`, trims only if that lock still holds that token; returns whether it trimmed.
        """
        k = self.keys
        redis_keys = [k.buffer(session), k.buffer_bytes(session)]
        args = [count, nbytes]
        if lock is not None:
            redis_keys.append(lock[0])
            args.append(lock[1])
        return bool(self._trim(keys=redis_keys, args=args))

    def length(self, session: str) -> int:
        """How many records wait in the buffer."""
        return int(self.redis.llen(self.keys.buffer(session)))
