"""Projects (ingest keys and their allowed origins), viewer users and their logins, and API tokens, in Redis."""
from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from redis import Redis
from werkzeug.security import check_password_hash, generate_password_hash

from replay.core.keys import RedisKeys
from replay.core.logins import Logins

# Checked in place of a stored hash when the email is unknown, so that an unknown
# email costs the same as a known one. Same method and parameters as
# generate_password_hash's default (a test fails if they drift apart); nobody
# knows its password.
DUMMY_PASSWORD_HASH = ("scrypt:32768:8:1$52fAHFBFc1psc74J$85a541c7d99d52099d9ad43728a17a31ede75f46db813a3e5812361b5b"
                       "07014436fa76abbbcdb659097a3c0f20ea5bcbf56fdd385cbf00ecb54d45bfda8b6b60")


# A DNS name or an IP address (IPv6 without its brackets, as urlsplit gives it).
_HOST = re.compile(r"\A(?:[a-z0-9.-]+|[0-9a-f:.]+)\Z")


class AccountError(ValueError):
    """Bad input to an admin command."""


@dataclass(frozen=True)
class Project:
    key: str
    name: str
    origins: tuple[str, ...]

    def allows(self, origin: str | None) -> bool:
        return bool(origin) and normalize_origin(origin, strict=False) in self.origins


def normalize_origin(value: str, strict: bool = True) -> str:
    """'https://Example.com:443/' -> 'https://example.com'; not strict: '' for anything that is no origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port  # raises ValueError on a port that is no number (an Origin header is client input)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid:
        if strict:
            raise AccountError(f"{value!r} is not an origin like https://example.com")
        return ""
    if strict and (parts.path not in ("", "/") or parts.query or parts.fragment):
        raise AccountError(f"{value!r} has a path; an origin is scheme://host[:port]")
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname.lower()
    if not _HOST.match(host):
        if strict:
            raise AccountError(f"{value!r} has a host name with characters no origin has")
        return ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def normalize_email(email: str) -> str:
    """The one spelling of an email that names its user (and its login throttle)."""
    return email.strip().lower()


class Accounts:
    def __init__(self, redis: Redis, keys: RedisKeys):
        self.redis = redis
        self.keys = keys
        self.logins = Logins(redis, keys)

    # Projects.
    def create_project(self, name: str, origins: list[str]) -> Project:
        if not name.strip():
            raise AccountError("a project needs a name")
        if not origins:
            raise AccountError("a project needs at least one --origin")
        normalized = tuple(dict.fromkeys(normalize_origin(o) for o in origins))
        key = "pk_" + secrets.token_urlsafe(18)
        self.redis.hset(self.keys.project(key), mapping={
            "name": name.strip(), "origins": json.dumps(normalized), "created_ms": int(time.time() * 1000)})
        self.redis.sadd(self.keys.projects(), key)
        return Project(key, name.strip(), normalized)

    def project(self, key: str) -> Project | None:
        data = self.redis.hgetall(self.keys.project(key))
        if not data:
            return None
        return Project(key, data[b"name"].decode(), tuple(json.loads(data[b"origins"])))

    def projects(self) -> list[Project]:
        """Every project, by name."""
        keys = sorted(k.decode() for k in self.redis.smembers(self.keys.projects()))
        return sorted((p for p in map(self.project, keys) if p), key=lambda p: (p.name.lower(), p.key))

    def origin_allowed_anywhere(self, origin: str) -> bool:
        """Does any project take this origin? (CORS preflights name no project.)"""
        wanted = normalize_origin(origin, strict=False)
        return bool(wanted) and any(wanted in p.origins for p in self.projects())

    # Viewer users.
    def create_user(self, email: str, password: str) -> None:
        """Create a user, or reset an existing user's password; either way, end that user's logins."""
        email = normalize_email(email)
        if "@" not in email or len(email) > 254:
            raise AccountError(f"{email!r} is not an email address")
        if len(password) < 8:
            raise AccountError("a password has at least 8 characters")
        # A login remembers the password_id it was checked against; a new one ends
        # logins that the revocation below cannot see (one checked during the reset).
        self.redis.hset(self.keys.user(email), mapping={
            "password": generate_password_hash(password), "password_id": secrets.token_hex(8),
            "created_ms": int(time.time() * 1000)})
        self.logins.revoke_user(email)

    def delete_user(self, email: str) -> bool:
        """Remove a user and end its logins; False if there was no such user."""
        email = normalize_email(email)
        existed = bool(self.redis.delete(self.keys.user(email)))
        self.logins.revoke_user(email)
        return existed

    def authenticate(self, email: str, password: str) -> str | None:
        """The user's password_id if the password is right, else None; as slow for an unknown email as a known one."""
        stored, password_id = self.redis.hmget(self.keys.user(normalize_email(email)), "password", "password_id")
        # Always one hash check of the same cost: an unknown email checks the dummy.
        matches = check_password_hash(stored.decode() if stored else DUMMY_PASSWORD_HASH, password)
        if not (stored and matches):
            return None
        return password_id.decode() if password_id else ""

    def check_user(self, email: str, password: str) -> bool:
        return self.authenticate(email, password) is not None

    def user_exists(self, email: str) -> bool:
        return bool(self.redis.exists(self.keys.user(normalize_email(email))))

    # API tokens: only a digest is stored.
    def create_token(self, name: str = "") -> str:
        token = "rpt_" + secrets.token_urlsafe(32)
        self.redis.hset(self.keys.token(_digest(token)), mapping={
            "name": name or "token", "created_ms": int(time.time() * 1000)})
        return token

    def check_token(self, token: str) -> bool:
        return bool(token) and bool(self.redis.exists(self.keys.token(_digest(token))))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
