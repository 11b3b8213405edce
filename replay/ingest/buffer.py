"""The per-session Redis buffer: the collector appends batches, the flush job drains them.

One Lua script per batch does everything the ack depends on, in one round
trip: the rate limits (token buckets per window, session and project), the
duplicate check, the append, the contiguous acked mark, and the session's
place in the flush schedule (`keys.flush_due()`, a zset of due times). So a
batch is either durably in the buffer with a flush due (and may be acked), or
not stored at all. On a Redis Cluster the same steps run as three scripts, one
per hash slot (replay/ingest/cluster_buffer.py).
"""
from __future__ import annotations

import json
import string
from dataclasses import dataclass

from redis import Redis

from replay.core.keys import RedisKeys
from replay.core.redis_conn import QuickScript
from replay.core.records import Record
from replay.core.settings import Settings
from replay.ingest.cluster_buffer import ClusterAppend

# $-fields: this process's settings, written into the script when it is registered (fewer arguments a call).
_APPEND = string.Template("""
local seqs, acked, buf, bytes, due = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local window, seq, record, session = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local now, delay_ms = tonumber(ARGV[5]), tonumber(ARGV[6])
local seq_ttl, buf_ttl, flush_bytes = $seq_ttl, $buf_ttl, $flush_bytes
-- Per second, burst: of the window, the session, the project.
local rates = {$rates}

-- Token buckets (KEYS[6..8]: window, session, project), each with its pair in `rates`.
-- Every bucket is checked before any is taken from, so a refusal costs nothing.
local tokens = {}
for i = 0, 2 do
  local key, rate, burst = KEYS[6 + i], rates[1 + 2 * i], rates[2 + 2 * i]
  local held = redis.call('HMGET', key, 't', 'ms')
  local t = tonumber(held[1]) or burst
  local last = tonumber(held[2]) or now
  t = math.min(burst, t + math.max(0, now - last) * rate / 1000)
  if t < 1 then return {-1 - i, 0, 0} end
  tokens[i] = t
end
for i = 0, 2 do
  local key, rate, burst = KEYS[6 + i], rates[1 + 2 * i], rates[2 + 2 * i]
  redis.call('HSET', key, 't', tokens[i] - 1, 'ms', now)
  redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 1000)
end

-- The set keeps only numbers above the contiguous high mark, never the one right after it; the mark covers
-- the rest. So the next number in order (most batches) is new without asking the set.
local high = tonumber(redis.call('HGET', acked, window) or '0')
if seq <= high or (seq > high + 1 and redis.call('SADD', seqs, seq) == 0) then
  return {0, high, tonumber(redis.call('GET', bytes) or '0')}
end
redis.call('RPUSH', buf, record)
local buffered = redis.call('INCRBY', bytes, string.len(record))
if seq == high + 1 then high = seq end
while redis.call('SREM', seqs, high + 1) == 1 do
  high = high + 1
end
redis.call('HSET', acked, window, high)
redis.call('EXPIRE', seqs, seq_ttl)
redis.call('EXPIRE', acked, seq_ttl)
redis.call('EXPIRE', buf, buf_ttl)
redis.call('EXPIRE', bytes, buf_ttl)
-- Due now when the buffer is full, else after the delay; an earlier due time is kept (LT).
-- A session whose flushes are failing keeps the retry time its backoff set (KEYS[9]: failures in a row).
if buffered >= flush_bytes then delay_ms = 0 end
if redis.call('HEXISTS', KEYS[9], session) == 1 then
  redis.call('ZADD', due, 'NX', now + delay_ms, session)
else
  redis.call('ZADD', due, 'LT', now + delay_ms, session)
end
return {1, high, buffered}
""")

# Trim only while the caller still holds the flush lock: a flush whose lock expired
# must not drop records another flush may not have stored yet. Then the session
# leaves the schedule if its buffer is empty, or is due at once if a full buffer waits.
_TRIM = """
local buf, bytes, lock, due = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if redis.call('GET', lock) ~= ARGV[3] then
  return -1
end
redis.call('LTRIM', buf, tonumber(ARGV[1]), -1)
local left = redis.call('DECRBY', bytes, tonumber(ARGV[2]))
local waiting = redis.call('LLEN', buf)
-- The byte count is advisory; never leave it negative or outliving the list.
if left <= 0 or waiting == 0 then
  redis.call('DEL', bytes)
  left = 0
end
if waiting == 0 then
  redis.call('ZREM', due, ARGV[4])
elseif left >= tonumber(ARGV[5]) then
  redis.call('ZADD', due, ARGV[6], ARGV[4])
end
return waiting
"""

# Records read per round trip by a flush.
_PAGE = 64

# Which rate bucket refused a batch, by the script's negative answer.
LIMITED = {-1: "window", -2: "session", -3: "project"}


def _append_script(s: Settings) -> str:
    rates = (s.RATE_WINDOW_PER_S, s.RATE_WINDOW_BURST, s.RATE_SESSION_PER_S, s.RATE_SESSION_BURST,
             s.RATE_PROJECT_PER_S, s.RATE_PROJECT_BURST)
    return _APPEND.substitute(seq_ttl=_lua_number(s.SEQ_TTL_S), buf_ttl=_lua_number(s.BUFFER_TTL_S),
                              flush_bytes=_lua_number(s.FLUSH_BYTES), rates=", ".join(map(_lua_number, rates)))


def _lua_number(value: int | float) -> str:
    number = float(value)  # refuses what is not a number: nothing but a number is written into the script
    return str(int(number)) if number.is_integer() else repr(number)


@dataclass(frozen=True)
class AppendResult:
    stored: bool  # False: a duplicate (dropped), or refused by a rate limit
    acked: int  # highest contiguous seq held for the window
    buffered_bytes: int  # what the session's buffer holds now
    limited: str | None = None  # "window", "session" or "project" when a rate limit refused it


class Buffer:
    def __init__(self, redis: Redis, keys: RedisKeys, settings: Settings):
        self.redis = redis
        self.keys = keys
        self.settings = settings
        self._append = redis.register_script(_append_script(settings))  # on a pipeline (append_all)
        self._append_now = None if keys.cluster else QuickScript(self._append)
        self._trim = redis.register_script(_TRIM)
        self._cluster = ClusterAppend(redis, keys, settings) if keys.cluster else None

    def append(self, session: str, window: str, seq: int, events: list, received_ms: int, url: str = "", *,
               project: str = "", idle: bool = False, client=None, batch_json: bytes | None = None) -> AppendResult:
        """Store one batch, unless it is a duplicate or over a rate limit; the session's flush becomes due.

        `idle`: the page is going away (a beacon), so the flush is due after FLUSH_IDLE_MS, not FLUSH_AGE_MS.
        `client`: a pipeline to queue the call on (its reply is then read with `result()`); not on a cluster.
        `batch_json`: the batch message's JSON as it came (holding these `events`), stored instead of encoding
        the events again (the costliest step of an ack).
        """
        head = '{"w":%s,"seq":%d,"t":%d,"url":%s' % (json.dumps(window), seq, received_ms, json.dumps(url))
        if batch_json is not None:
            record = b"%s,\"batch\":%s}" % (head.encode(), batch_json)
        else:
            record = head + ',"events":' + json.dumps(events, separators=(",", ":")) + "}"
        if self._cluster is not None:
            return self.result(self._cluster.append(session, window, seq, record, received_ms, project, idle))
        k, s = self.keys, self.settings
        keys_and_args = (k.seqs(session, window), k.acked(session), k.buffer(session), k.buffer_bytes(session),
                         k.flush_due(), k.rate_window(session, window), k.rate_session(session),
                         k.rate_project(project), k.flush_tries(),
                         window, seq, record, session, received_ms, s.FLUSH_IDLE_MS if idle else s.FLUSH_AGE_MS)
        if client is not None:
            return self._append(keys=keys_and_args[:9], args=keys_and_args[9:], client=client)
        return self.result(self._append_now(9, *keys_and_args))

    def append_all(self, session: str, window: str, batches: list, received_ms: int, url: str, *,
                   project: str, idle: bool) -> list[AppendResult]:
        """Store each (seq, events) in order, in one round trip on one Redis."""
        if self._cluster is not None:
            return [self.append(session, window, seq, events, received_ms, url, project=project, idle=idle)
                    for seq, events in batches]
        pipe = self.redis.pipeline(transaction=False)
        for seq, events in batches:
            self.append(session, window, seq, events, received_ms, url, project=project, idle=idle, client=pipe)
        return [self.result(reply) for reply in pipe.execute()]

    @staticmethod
    def result(reply) -> AppendResult:
        code, high, buffered = (int(x) for x in reply)
        if code < 0:
            return AppendResult(False, high, buffered, LIMITED[code])
        return AppendResult(bool(code), high, buffered)

    def acked(self, session: str, window: str) -> int:
        return int(self.redis.hget(self.keys.acked(session), window) or 0)

    def size_bytes(self, session: str) -> int:
        return int(self.redis.get(self.keys.buffer_bytes(session)) or 0)

    def queue_first_page(self, session: str, pipe) -> None:
        """Queue the read of `read`'s first page on a pipeline (its reply is read's `first_page`)."""
        pipe.lrange(self.keys.buffer(session), 0, _PAGE - 1)

    def read(self, session: str, max_bytes: int, first_page: list[bytes] | None = None) -> tuple[list[Record], int]:
        """The oldest records, up to about max_bytes; returns them and how many bytes they take.

        `first_page`: the reply of queue_first_page, when it was read already.
        """
        out: list[Record] = []
        total = 0
        start = 0
        page = _PAGE
        while total < max_bytes:
            if start == 0 and first_page is not None:
                raw = first_page
            else:
                raw = self.redis.lrange(self.keys.buffer(session), start, start + page - 1)
            if not raw:
                break
            for item in raw:
                d = json.loads(item)
                events = d["events"] if "events" in d else d["batch"]["events"]
                out.append(Record(d["w"], int(d["seq"]), int(d["t"]), d.get("url", ""), events))
                total += len(item)
                if total >= max_bytes:
                    break
            if len(raw) < page:
                # The list ended there: what is appended since lies past indexes not read, and the records read
                # must stay the list's head (the trim drops that many from it).
                break
            start += page
        return out, total

    def trim(self, session: str, count: int, nbytes: int, lock: tuple[str, str], now_ms: int) -> int | None:
        """Drop the `count` oldest records once they are safely in object storage, if `lock` (key, token) holds.

        Returns how many records still wait, or None when the lock was lost (nothing trimmed).
        """
        k = self.keys
        if self._cluster is not None:
            waiting = self._cluster.trim(session, count, nbytes, lock, now_ms)
            return None if waiting < 0 else waiting
        waiting = int(self._trim(keys=[k.buffer(session), k.buffer_bytes(session), lock[0], k.flush_due()],
                                 args=[count, nbytes, lock[1], session, self.settings.FLUSH_BYTES, now_ms]))
        return None if waiting < 0 else waiting

    def length(self, session: str) -> int:
        """How many records wait in the buffer."""
        return int(self.redis.llen(self.keys.buffer(session)))
