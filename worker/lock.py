"""A session's flush lock: one flush at a time per session, kept alive while its job is alive.

The lock expires FLUSH_LOCK_MS after its last renewal, and a heartbeat thread
renews it while the job runs, so a flush killed with its worker frees the
session within seconds, while a slow one (a hanging object store) keeps it.
One heartbeat thread per process renews every lock held (in one round trip),
so a flush pays no thread of its own.
"""
from __future__ import annotations

import signal
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Iterator

from redis import Redis
from redis.exceptions import RedisError

from replay.core.redis_conn import script_pipeline

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

    def acquire(self, client=None):
        """True when taken; with `client` (a pipeline), queued: its reply is truthy when taken."""
        reply = (client or self.redis).set(self.key, self.token, nx=True, px=self.ttl_ms)
        return reply if client is not None else bool(reply)

    def renew(self, client=None):
        """Extend the lock; False when it is no longer ours (it expired, another flush holds it).

        With `client` (a pipeline), queued: its reply is 1 when renewed."""
        if client is not None:
            return client.eval(_RENEW, 1, self.key, self.token, self.ttl_ms)
        return bool(self.redis.eval(_RENEW, 1, self.key, self.token, self.ttl_ms))

    def release(self, client=None) -> None:
        (client or self.redis).eval(_RELEASE, 1, self.key, self.token)

    @contextmanager
    def kept_alive(self) -> Iterator[None]:
        """Renew the lock every third of its lifetime until the block ends."""
        _heart.hold(self)
        try:
            yield
        finally:
            _heart.drop(self)


class _Heart:
    """The process's heartbeat: renews each held lock a third of its lifetime after its last renewal."""

    def __init__(self):
        self.due: dict[SessionLock, float] = {}
        self.changed = threading.Condition()
        self.thread: threading.Thread | None = None

    def hold(self, lock: SessionLock) -> None:
        with self.changed:
            self.due[lock] = time.monotonic() + lock.ttl_ms / 3000
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self.beat, name="flush locks", daemon=True)
                self.thread.start()
            self.changed.notify()

    def drop(self, lock: SessionLock) -> None:
        with self.changed:
            self.due.pop(lock, None)

    def beat(self) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})  # the main thread's to handle
        while True:
            with self.changed:
                now = time.monotonic()
                ready = [lock for lock, at in self.due.items() if at <= now]
                if not ready:
                    self.changed.wait(min(self.due.values(), default=now + 1.0) - now)
                    continue
                for lock in ready:
                    self.due[lock] = now + lock.ttl_ms / 3000
            self.renew(ready)

    def renew(self, locks: list[SessionLock]) -> None:
        by_client: dict[int, list[SessionLock]] = {}
        for lock in locks:
            by_client.setdefault(id(lock.redis), []).append(lock)
        for group in by_client.values():
            pipe = script_pipeline(group[0].redis)
            for lock in group:
                lock.renew(client=pipe)
            try:
                renewed = pipe.execute()
            except RedisError:
                continue  # Redis is away; the flush fails on its own next call
            with self.changed:
                for lock, ok in zip(group, renewed):
                    if not ok:
                        self.due.pop(lock, None)  # lost: the flush finds out at its next check and writes nothing more


_heart = _Heart()
