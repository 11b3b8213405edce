"""A session's flush lock: one flush at a time per session, kept alive while its job is alive.

The lock expires FLUSH_LOCK_MS after its last renewal, and a heartbeat thread
renews it while the job runs, so a flush killed with its worker frees the
session within seconds, while a slow one (a hanging object store) keeps it.
"""
from __future__ import annotations

import signal
import threading
import uuid
from contextlib import contextmanager
from typing import Iterator

from redis import Redis
from redis.exceptions import RedisError

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


class SessionLock:
    def __init__(self, redis: Redis, key: str, ttl_ms: int):
        self.redis = redis
        self.key = key
        self.ttl_ms = ttl_ms
        self.token = uuid.uuid4().hex

    def acquire(self) -> bool:
        return bool(self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms))

    def renew(self) -> bool:
        """Extend the lock; False when it is no longer ours (it expired, another flush holds it)."""
        return bool(self.redis.eval(_RENEW, 1, self.key, self.token, self.ttl_ms))

    def release(self) -> None:
        self.redis.eval(_RELEASE, 1, self.key, self.token)

    @contextmanager
    def kept_alive(self) -> Iterator[None]:
        """Renew the lock every third of its lifetime until the block ends."""
        stop = threading.Event()

        def beat() -> None:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})  # the main thread's to handle
            while not stop.wait(self.ttl_ms / 3000):
                try:
                    if not self.renew():
                        return  # lost: the flush finds out at its next check and writes nothing more
                except RedisError:
                    pass  # Redis is away; the flush fails on its own next call

        heart = threading.Thread(target=beat, name=f"lock {self.key}", daemon=True)
        heart.start()
        try:
            yield
        finally:
            stop.set()
            heart.join()
