"""Projects: an ingest key, a name, the origins that may send to it, and whether it is enabled, in Redis."""
from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from redis import Redis
from redis.exceptions import WatchError

from replay.core import sampling
from replay.core.alert_rules import AlertRules
from replay.core.keys import RedisKeys

# A DNS name or an IP address (IPv6 without its brackets, as urlsplit gives it).
_HOST = re.compile(r"\A(?:[a-z0-9.-]+|[0-9a-f:.]+)\Z")
MAX_NAME_CHARS = 200
MAX_ORIGINS = 100
# A project's retention, in days.
MIN_RETENTION_DAYS, MAX_RETENTION_DAYS = 1, 3650


class AccountError(ValueError):
    """Bad input to an admin command (an unknown key, a bad origin): one line for the operator."""


@dataclass(frozen=True)
class Project:
    """One project's record. A new per-project setting is one more field here, read in `from_hash`."""

    key: str
    name: str
    origins: tuple[str, ...]
    enabled: bool = True
    created_ms: int = 0
    # Days its sessions are kept (None: the RETENTION_DAYS setting).
    retention_days: int | None = None
    # Fields of the stored hash this version does not know (kept as they are by every change here).
    extra: dict = field(default_factory=dict, compare=False, repr=False)

    def allows(self, origin: str | None) -> bool:
        return bool(origin) and normalize_origin(origin, strict=False) in self.origins

    @classmethod
    def from_hash(cls, key: str, data: dict[bytes, bytes]) -> "Project":
        text = {k.decode(): v.decode() for k, v in data.items()}
        known = {"name", "origins", "disabled", "created_ms", "retention_days"}
        return cls(key=key, name=text.get("name", ""), origins=tuple(json.loads(text.get("origins") or "[]")),
                   enabled=text.get("disabled", "") != "1", created_ms=int(text.get("created_ms") or 0),
                   retention_days=int(text["retention_days"]) if text.get("retention_days", "").isdigit() else None,
                   extra={k: v for k, v in text.items() if k not in known})


def normalize_origin(value: str, strict: bool = True) -> str:
    """'https://Example.com:443/' -> 'https://example.com'; not strict: '' for anything that is no origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port  # raises ValueError on a port that is no number or out of range (client input)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and port != 0
    except ValueError:
        valid = False
    if not valid:
        if strict:
            raise AccountError(f"{value!r} is not an origin like https://example.com or http://localhost:8080")
        return ""
    if strict:
        extra = ("a path" if parts.path not in ("", "/") else "a query" if parts.query or value.rstrip("/").endswith("?")
                 else "a fragment" if parts.fragment or "#" in value else "a user name" if parts.username is not None
                 else "an empty port" if parts.netloc.endswith(":") else None)
        if extra:
            raise AccountError(f"{value!r} has {extra}; an origin is scheme://host[:port], like https://example.com")
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname.lower()
    if not _HOST.match(host):
        if strict:
            raise AccountError(f"{value!r} has a host name with characters no origin has")
        return ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def _name(name: str) -> str:
    name = name.strip()
    if not name:
        raise AccountError("a project needs a name")
    if len(name) > MAX_NAME_CHARS or not name.isprintable():
        raise AccountError(f"a project name is printable text of at most {MAX_NAME_CHARS} characters")
    return name


class Projects:
    """Project records (one hash each) and the set of every project key."""

    def __init__(self, redis: Redis, keys: RedisKeys):
        self.redis = redis
        self.keys = keys

    def create(self, name: str, origins: list[str]) -> Project:
        name = _name(name)
        if not origins:
            raise AccountError("a project needs at least one --origin")
        normalized = tuple(dict.fromkeys(normalize_origin(o) for o in origins))
        key = "pk_" + secrets.token_urlsafe(18)
        now = int(time.time() * 1000)
        self.redis.hset(self.keys.project(key), mapping={
            "name": name, "origins": json.dumps(normalized), "created_ms": now})
        self.redis.sadd(self.keys.projects(), key)
        # Every new project starts with the default alert rules (a project made before them gets them when read).
        AlertRules(self.redis, self.keys).seed(key)
        return Project(key, name, normalized, created_ms=now)

    def get(self, key: str) -> Project | None:
        data = self.redis.hgetall(self.keys.project(key))
        return Project.from_hash(key, data) if data else None

    def require(self, key: str) -> Project:
        """The project, or an AccountError an operator can act on."""
        project = self.get(key.strip()) if isinstance(key, str) and key.strip() else None
        if project is None:
            raise AccountError(f"no project has the key {key!r} (replay project list shows the keys)")
        return project

    def all(self) -> list[Project]:
        """Every project, by name."""
        keys = sorted(k.decode() for k in self.redis.smembers(self.keys.projects()))
        return sorted((p for p in map(self.get, keys) if p), key=lambda p: (p.name.lower(), p.key))

    def rename(self, key: str, name: str) -> Project:
        project = self.require(key)
        self.redis.hset(self.keys.project(project.key), "name", _name(name))
        return self.require(project.key)

    def set_enabled(self, key: str, enabled: bool) -> Project:
        project = self.require(key)
        if enabled:
            self.redis.hdel(self.keys.project(project.key), "disabled")
        else:
            self.redis.hset(self.keys.project(project.key), "disabled", "1")
        return self.require(project.key)

    def set_retention(self, key: str, days: int | str | None) -> Project:
        """Keep the project's sessions this many days (None or '': the RETENTION_DAYS setting)."""
        project = self.require(key)
        if days is None or (isinstance(days, str) and not days.strip()):
            self.redis.hdel(self.keys.project(project.key), "retention_days")
            return self.require(project.key)
        text = str(days).strip()
        if not text.isdigit() or not MIN_RETENTION_DAYS <= int(text) <= MAX_RETENTION_DAYS:
            raise AccountError(f"retention is a whole number of days from {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS}")
        self.redis.hset(self.keys.project(project.key), "retention_days", int(text))
        return self.require(project.key)

    def add_origin(self, key: str, origin: str) -> tuple[Project, bool]:
        """Allow one more origin; also says whether it was new."""
        wanted = normalize_origin(origin)
        return self._change_origins(key, lambda have: have if wanted in have else (*have, wanted), wanted)

    def remove_origin(self, key: str, origin: str) -> tuple[Project, bool]:
        """Stop allowing an origin (a project may be left with none: then it takes nothing); says whether it was there."""
        wanted = normalize_origin(origin)
        return self._change_origins(key, lambda have: tuple(o for o in have if o != wanted), wanted)

    def _change_origins(self, key: str, change, origin: str) -> tuple[Project, bool]:
        project = self.require(key)
        name = self.keys.project(project.key)
        # WATCH: two admins adding origins at once must both land.
        with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(name)
                    have = tuple(json.loads(pipe.hget(name, "origins") or "[]"))
                    new = change(have)
                    if len(new) > MAX_ORIGINS:
                        raise AccountError(f"a project takes at most {MAX_ORIGINS} origins")
                    pipe.multi()
                    pipe.hset(name, "origins", json.dumps(new))
                    pipe.execute()
                    break
                except WatchError:
                    continue
        return self.require(project.key), (origin in new) != (origin in have)

    def delete(self, key: str) -> Project:
        """Remove the project record (its key stops working); its recordings are left to the caller."""
        project = self.require(key)
        server_key = self.redis.hget(self.keys.project(project.key), "server_key")
        pipe = self.redis.pipeline(transaction=True)
        if server_key:  # its proxy logs are refused from now too
            pipe.delete(self.keys.server_key(server_key.decode()))
        pipe.delete(self.keys.project(project.key))
        pipe.srem(self.keys.projects(), project.key)
        pipe.delete(*self.keys.refused_origins(project.key))
        pipe.delete(*sampling.heartbeat_keys(self.keys, project.key))
        pipe.execute()
        return project

    def origin_allowed_anywhere(self, origin: str) -> bool:
        """Does any enabled project take this origin? (CORS preflights name no project.)"""
        wanted = normalize_origin(origin, strict=False)
        return bool(wanted) and any(p.enabled and wanted in p.origins for p in self.all())
