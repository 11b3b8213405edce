"""Viewer logins, server-side: one Redis record per login, so that logging out or a password reset ends it."""
from __future__ import annotations

import hashlib
import secrets
import time

from redis import Redis

from replay.core.keys import RedisKeys

# Write a field only while the record lives: HSET on an expired record would
# bring it back without an expiry.
_SET_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
return -1
"""

MAX_LOGIN_ID_CHARS = 128


def _now_ms() -> int:
    return int(time.time() * 1000)


def _digest(login_id: str) -> str:
    return hashlib.sha256(login_id.encode("utf-8")).hexdigest()


class Logins:
    """Login records: created at login, read on every request, deleted at logout or when the user is reset."""

    def __init__(self, redis: Redis, keys: RedisKeys):
        self.redis = redis
        self.keys = keys
        self._set_if_exists = redis.register_script(_SET_IF_EXISTS)

    def create(self, email: str, password_id: str, ttl_s: int) -> str:
        """A new login for a user whose password (of this password_id) was just checked; returns its id."""
        login_id = secrets.token_urlsafe(32)
        digest = _digest(login_id)
        now = _now_ms()
        mine = self.keys.logins_of_user(email)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.keys.login(digest), mapping={
            "user": email, "password_id": password_id, "created_ms": now, "seen_ms": now})
        pipe.expire(self.keys.login(digest), ttl_s)
        pipe.zremrangebyscore(mine, "-inf", now)  # forget the user's expired logins
        pipe.zadd(mine, {digest: now + ttl_s * 1000})
        pipe.expire(mine, ttl_s)  # the newest login expires last
        pipe.execute()
        return login_id

    def user_of(self, login_id: object, seen_interval_s: int = 60) -> str | None:
        """The user of a live login, or None (no such login, ended, or its user removed, disabled or reset)."""
        if not isinstance(login_id, str) or not login_id or len(login_id) > MAX_LOGIN_ID_CHARS:
            return None
        key = self.keys.login(_digest(login_id))
        user, password_id, seen_ms = self.redis.hmget(key, "user", "password_id", "seen_ms")
        if user is None:
            return None
        email = user.decode()
        password, current_id, disabled = self.redis.hmget(self.keys.user(email), "password", "password_id", "disabled")
        if password is None or disabled == b"1" or (current_id or b"") != (password_id or b""):
            return None
        now = _now_ms()
        if now - int(seen_ms or 0) >= seen_interval_s * 1000:
            self._set_if_exists(keys=[key], args=["seen_ms", now])
        return email

    def revoke(self, login_id: object) -> None:
        """End one login (logout); nothing happens for an unknown id."""
        if not isinstance(login_id, str) or not login_id or len(login_id) > MAX_LOGIN_ID_CHARS:
            return
        digest = _digest(login_id)
        user = self.redis.hget(self.keys.login(digest), "user")
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self.keys.login(digest))
        if user is not None:
            pipe.zrem(self.keys.logins_of_user(user.decode()), digest)
        pipe.execute()

    def revoke_user(self, email: str) -> int:
        """End every login of a user (removed, or password reset); returns how many were live."""
        mine = self.keys.logins_of_user(email)
        digests = [d.decode() for d in self.redis.zrange(mine, 0, -1)]
        pipe = self.redis.pipeline(transaction=True)
        for digest in digests:
            pipe.delete(self.keys.login(digest))
        pipe.delete(mine)
        return sum(pipe.execute()[:-1])
