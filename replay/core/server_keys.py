"""Per-project server keys: what nginx (syslog tag) and application servers send with, apart from the browser key.

A project's hash holds its key (field `server_key`) and `serverkey:<key>` maps it back to the
project, so a lookup is one GET. Rotating replaces both at once: the old key stops working.
"""
from __future__ import annotations

import re
import secrets
import string
import time

from redis import Redis

from replay.core.accounts import AccountError
from replay.core.keys import RedisKeys

# "sk_" + 29 letters and digits (about 170 bits): fits nginx's syslog tag (letters, digits, "_", at most 32).
PATTERN = re.compile(r"\Ask_[A-Za-z0-9_]{1,29}\Z")
_ALPHABET = string.ascii_letters + string.digits
RANDOM_CHARS = 29

# KEYS[1] project hash; ARGV: server-key prefix, new key, rotate, project key. Returns the key in force,
# or false when the project does not exist.
_ISSUE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local old = redis.call('HGET', KEYS[1], 'server_key')
if old and ARGV[3] ~= '1' then return old end
if old then redis.call('DEL', ARGV[1] .. old) end
redis.call('SET', ARGV[1] .. ARGV[2], ARGV[4])
redis.call('HSET', KEYS[1], 'server_key', ARGV[2])
return ARGV[2]
"""

_FORGET = """
local old = redis.call('HGET', KEYS[1], 'server_key')
if old then redis.call('DEL', ARGV[1] .. old) redis.call('HDEL', KEYS[1], 'server_key') end
return old
"""


def new_key() -> str:
    return "sk_" + "".join(secrets.choice(_ALPHABET) for _ in range(RANDOM_CHARS))


def issue(redis: Redis, keys: RedisKeys, project: str, rotate: bool = False) -> str | None:
    """The project's server key, made on first use; a new one (the old one refused from now) with rotate.
    None when there is no such project."""
    found = redis.eval(_ISSUE, 1, keys.project(project), keys.server_key(""), new_key(), "1" if rotate else "0",
                       project)
    return found.decode() if isinstance(found, bytes) else found


def forget(redis: Redis, keys: RedisKeys, project: str) -> None:
    """Refuse the project's server key from now (for a project being disabled or deleted)."""
    redis.eval(_FORGET, 1, keys.project(project), keys.server_key(""))


def project_of(redis: Redis, keys: RedisKeys, server_key: str) -> str | None:
    """The project key a server key belongs to, or None."""
    if not server_key or not PATTERN.match(server_key):
        return None
    found = redis.get(keys.server_key(server_key))
    return found.decode() if found else None


class ServerKeyCache:
    """project_of, remembered for a few seconds per process (a rotated key stops working within `ttl_s`)."""

    def __init__(self, redis: Redis, keys: RedisKeys, ttl_s: float):
        self.redis, self.keys, self.ttl_s = redis, keys, ttl_s
        self._known: dict[str, tuple[float, str | None]] = {}

    def project_of(self, server_key: str) -> str | None:
        now = time.monotonic()
        hit = self._known.get(server_key)
        if hit and hit[0] > now:
            return hit[1]
        project = project_of(self.redis, self.keys, server_key)
        if len(self._known) > 10_000:
            self._known.clear()  # a flood of made-up tags must not grow this without end
        self._known[server_key] = (now + self.ttl_s, project)
        return project


def find_project(accounts, ref: str):
    """The project named by its key or, when exactly one project has it, its name (case-insensitive)."""
    project = accounts.project(ref)
    if project is not None:
        return project
    named = [p for p in accounts.projects() if p.name.strip().lower() == ref.strip().lower()]
    if len(named) == 1:
        return named[0]
    if named:
        raise AccountError(f"{len(named)} projects are named {ref!r}; give the key of one: "
                           + ", ".join(p.key for p in named))
    raise AccountError(f"no project has the key or name {ref!r}")
