"""The buffer's append and trim on a Redis Cluster, where one script touches one hash slot.

On one Redis a single script per batch applies the rate limits, stores it and
schedules its flush (replay/ingest/buffer.py). On a cluster the session's keys
share a slot (`{session}` tags, replay/core/keys.py) but the project's rate
bucket and the flush schedule (`{flush}`) lie elsewhere, so a batch takes three
scripts, each atomic in its own slot, in this order:

1. the project's bucket: checked and taken (a batch the session's buckets
   then refuse has cost the project one token: the only difference);
2. the session's buckets, the duplicate check, the append and the acked mark;
3. the schedule (stored or duplicate alike: a resent batch whose first try
   stored it but lost the schedule gets it now).

The ack waits for all three, so an acked batch is in the buffer with a flush
due, as on one Redis. Should a process die between 2 and 3, the batch is not
acked, the client resends it, and step 3 runs then; the sweep is the backstop.
"""
from __future__ import annotations

_PROJECT_BUCKET = """
local key, now, rate, burst = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local held = redis.call('HMGET', key, 't', 'ms')
local t = tonumber(held[1]) or burst
local last = tonumber(held[2]) or now
t = math.min(burst, t + math.max(0, now - last) * rate / 1000)
if t < 1 then return 0 end
redis.call('HSET', key, 't', t - 1, 'ms', now)
redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 1000)
return 1
"""

# The single-Redis script without the project bucket and the schedule (KEYS[5..6]: window and session buckets).
_APPEND_SESSION = """
local seqs, acked, buf, bytes = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local window, seq, record = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local now, seq_ttl, buf_ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local tokens = {}
for i = 0, 1 do
  local key, rate, burst = KEYS[5 + i], tonumber(ARGV[7 + 2 * i]), tonumber(ARGV[8 + 2 * i])
  local held = redis.call('HMGET', key, 't', 'ms')
  local t = tonumber(held[1]) or burst
  local last = tonumber(held[2]) or now
  t = math.min(burst, t + math.max(0, now - last) * rate / 1000)
  if t < 1 then return {-1 - i, 0, 0} end
  tokens[i] = t
end
for i = 0, 1 do
  local key, rate, burst = KEYS[5 + i], tonumber(ARGV[7 + 2 * i]), tonumber(ARGV[8 + 2 * i])
  redis.call('HSET', key, 't', tokens[i] - 1, 'ms', now)
  redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 1000)
end
local high = tonumber(redis.call('HGET', acked, window) or '0')
if seq <= high or redis.call('SADD', seqs, seq) == 0 then
  return {0, high, tonumber(redis.call('GET', bytes) or '0')}
end
redis.call('RPUSH', buf, record)
local buffered = redis.call('INCRBY', bytes, string.len(record))
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

# KEYS: the schedule and the failures hash ({flush}); ARGV: session, due time. As on one Redis: an earlier due
# time is kept, and a session whose flushes are failing keeps the retry time its backoff set.
_SCHEDULE = """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
else
  redis.call('ZADD', KEYS[1], 'LT', ARGV[2], ARGV[1])
end
return 1
"""

_TRIM_SESSION = """
local buf, bytes, lock = KEYS[1], KEYS[2], KEYS[3]
if redis.call('GET', lock) ~= ARGV[3] then
  return {-1, 0}
end
redis.call('LTRIM', buf, tonumber(ARGV[1]), -1)
local left = redis.call('DECRBY', bytes, tonumber(ARGV[2]))
local waiting = redis.call('LLEN', buf)
if left <= 0 or waiting == 0 then
  redis.call('DEL', bytes)
  left = 0
end
return {waiting, left}
"""


class ClusterAppend:
    """Buffer.append and Buffer.trim in per-slot steps (see the module's docstring)."""

    def __init__(self, redis, keys, settings):
        self.redis, self.keys, self.settings = redis, keys, settings
        self._bucket = redis.register_script(_PROJECT_BUCKET)
        self._append = redis.register_script(_APPEND_SESSION)
        self._schedule = redis.register_script(_SCHEDULE)
        self._trim = redis.register_script(_TRIM_SESSION)

    def append(self, session: str, window: str, seq: int, record, received_ms: int, project: str,
               idle: bool) -> list[int]:
        """The single-Redis script's reply: [code, acked, buffered bytes]."""
        k, s = self.keys, self.settings
        if not self._bucket(keys=[k.rate_project(project)],
                            args=[received_ms, s.RATE_PROJECT_PER_S, s.RATE_PROJECT_BURST]):
            return [-3, 0, 0]
        reply = [int(x) for x in self._append(
            keys=[k.seqs(session, window), k.acked(session), k.buffer(session), k.buffer_bytes(session),
                  k.rate_window(session, window), k.rate_session(session)],
            args=[window, seq, record, received_ms, s.SEQ_TTL_S, s.BUFFER_TTL_S,
                  s.RATE_WINDOW_PER_S, s.RATE_WINDOW_BURST, s.RATE_SESSION_PER_S, s.RATE_SESSION_BURST])]
        if reply[0] >= 0:
            delay = 0 if reply[2] >= s.FLUSH_BYTES else s.FLUSH_IDLE_MS if idle else s.FLUSH_AGE_MS
            self._schedule(keys=[k.flush_due(), k.flush_tries()], args=[session, received_ms + delay])
        return reply

    def trim(self, session: str, count: int, nbytes: int, lock: tuple[str, str], now_ms: int) -> int:
        """As the single-Redis trim script: records still waiting, or -1 when the lock was lost."""
        k = self.keys
        waiting, left = (int(x) for x in self._trim(keys=[k.buffer(session), k.buffer_bytes(session), lock[0]],
                                                    args=[count, nbytes, lock[1]]))
        if waiting == 0:
            self.redis.zrem(k.flush_due(), session)
            # An append stored between the trim and the ZREM scheduled itself before the ZREM took that away.
            if self.redis.llen(k.buffer(session)):
                self.redis.zadd(k.flush_due(), {session: now_ms}, nx=True)
        elif waiting > 0 and left >= self.settings.FLUSH_BYTES:
            self.redis.zadd(k.flush_due(), {session: now_ms})
        return waiting
