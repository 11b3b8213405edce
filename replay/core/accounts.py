"""Projects (ingest keys and their allowed origins), viewer users and their logins, and API tokens, in Redis."""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from redis import Redis
from werkzeug.security import check_password_hash, generate_password_hash

from replay.core.keys import RedisKeys
from replay.core.logins import Logins
from replay.core.projects import AccountError, Project, Projects, normalize_origin  # noqa: F401 (re-exported)

# Checked in place of a stored hash when the email is unknown, so that an unknown
# email costs the same as a known one. Same method and parameters as
# generate_password_hash's default (a test fails if they drift apart); nobody
# knows its password.
DUMMY_PASSWORD_HASH = ("scrypt:32768:8:1$52fAHFBFc1psc74J$85a541c7d99d52099d9ad43728a17a31ede75f46db813a3e5812361b5b"
                       "07014436fa76abbbcdb659097a3c0f20ea5bcbf56fdd385cbf00ecb54d45bfda8b6b60")


def normalize_email(email: str) -> str:
    """The one spelling of an email that names its user (and its login throttle)."""
    return email.strip().lower()


class Accounts:
    def __init__(self, redis: Redis, keys: RedisKeys):
        self.redis = redis
        self.keys = keys
        self.logins = Logins(redis, keys)
        self.project_store = Projects(redis, keys)
        self._create_user = redis.register_script(_CREATE_USER)

    # Projects (replay/core/projects.py).
    def create_project(self, name: str, origins: list[str]) -> Project:
        return self.project_store.create(name, origins)

    def project(self, key: str) -> Project | None:
        return self.project_store.get(key)

    def projects(self) -> list[Project]:
        """Every project, by name."""
        return self.project_store.all()

    def origin_allowed_anywhere(self, origin: str) -> bool:
        """Does any enabled project take this origin? (CORS preflights name no project.)"""
        return self.project_store.origin_allowed_anywhere(origin)

    # Viewer users.
    def create_user(self, email: str, password: str) -> None:
        """A new viewer login; an email that already has one is refused (reset_password changes it)."""
        email = _check_email(email)
        _check_password(password)
        if not self._create_user(keys=[self.keys.user(email)], args=list(_password_fields(password))):
            raise _exists(email)

    def check_new_user(self, email: str) -> None:
        """AccountError if this email already has a user."""
        email = _check_email(email)
        if self.user_exists(email):
            raise _exists(email)

    def reset_password(self, email: str, password: str) -> int:
        """A new password for an existing user; ends every login of theirs. Returns how many logins ended."""
        email = _check_email(email)
        _check_password(password)
        self.require_user(email)
        # A login remembers the password_id it was checked against; a new one ends
        # logins that the revocation below cannot see (one checked during the reset).
        fields = _password_fields(password)
        self.redis.hset(self.keys.user(email), mapping={"password": fields[0], "password_id": fields[1]})
        return self.logins.revoke_user(email)

    def require_user(self, email: str) -> str:
        email = normalize_email(email)
        if not self.user_exists(email):
            raise AccountError(f"no user has the email {email!r} (replay user list shows them)")
        return email

    def users(self) -> list[User]:
        """Every user, by email."""
        prefix_len = len(self.keys.user(""))
        names = sorted(k.decode()[prefix_len:] for k in self.redis.scan_iter(match=self.keys.user_pattern(), count=1000))
        pipe = self.redis.pipeline(transaction=False)
        for email in names:
            pipe.hmget(self.keys.user(email), "created_ms", "disabled")
            pipe.zcount(self.keys.logins_of_user(email), int(time.time() * 1000), "+inf")
        answers = pipe.execute()
        return [User(email, int(fields[0] or 0), fields[1] != b"1", live)
                for email, fields, live in zip(names, answers[::2], answers[1::2])]

    def set_user_enabled(self, email: str, enabled: bool) -> int:
        """Enable or disable a user; disabling ends every login of theirs (returns how many)."""
        email = self.require_user(email)
        if enabled:
            self.redis.hdel(self.keys.user(email), "disabled")
            return 0
        self.redis.hset(self.keys.user(email), "disabled", "1")
        return self.logins.revoke_user(email)

    def delete_user(self, email: str) -> bool:
        """Remove a user and end its logins; False if there was no such user."""
        email = normalize_email(email)
        existed = bool(self.redis.delete(self.keys.user(email)))
        self.logins.revoke_user(email)
        return existed

    def authenticate(self, email: str, password: str) -> str | None:
        """The user's password_id if the password is right (and the user enabled), else None; as slow for an
        unknown email as a known one."""
        stored, password_id, disabled = self.redis.hmget(self.keys.user(normalize_email(email)),
                                                         "password", "password_id", "disabled")
        # Always one hash check of the same cost: an unknown email checks the dummy.
        matches = check_password_hash(stored.decode() if stored else DUMMY_PASSWORD_HASH, password)
        if not (stored and matches) or disabled == b"1":
            return None
        return password_id.decode() if password_id else ""

    def check_user(self, email: str, password: str) -> bool:
        return self.authenticate(email, password) is not None

    def user_exists(self, email: str) -> bool:
        return bool(self.redis.exists(self.keys.user(normalize_email(email))))

    # API tokens: only a digest is stored, with a short public id (the token's first characters).
    def create_token(self, name: str = "") -> str:
        name = (name or "token").strip()
        if len(name) > 100 or not name.isprintable():
            raise AccountError("a token name is printable text of at most 100 characters")
        token = "rpt_" + secrets.token_urlsafe(32)
        self.redis.hset(self.keys.token(_digest(token)), mapping={
            "name": name or "token", "created_ms": int(time.time() * 1000), "prefix": token_id(token)})
        return token

    def check_token(self, token: str) -> bool:
        return bool(token) and bool(self.redis.exists(self.keys.token(_digest(token))))

    def tokens(self) -> list[Token]:
        """Every API token (never the token itself), newest first."""
        prefix_len = len(self.keys.token(""))
        digests = [k.decode()[prefix_len:] for k in self.redis.scan_iter(match=self.keys.token_pattern(), count=1000)]
        pipe = self.redis.pipeline(transaction=False)
        for digest in digests:
            pipe.hmget(self.keys.token(digest), "name", "created_ms", "prefix")
        out = []
        for digest, (name, created, prefix) in zip(digests, pipe.execute()):
            # Tokens made before ids existed are named by their digest's first characters.
            tid = prefix.decode() if prefix else "sha256:" + digest[:12]
            out.append(Token(tid, (name or b"").decode(), int(created or 0), digest))
        return sorted(out, key=lambda t: (-t.created_ms, t.id))

    def revoke_token(self, token_or_id: str) -> Token:
        """Revoke the one token with this id (as `replay token list` shows it) or this very token."""
        wanted = token_or_id.strip()
        found = [t for t in self.tokens() if wanted and (t.id == wanted or t.digest == _digest(wanted))]
        if not found:
            raise AccountError(f"no API token has the id {wanted!r} (replay token list shows them)")
        if len(found) > 1:
            raise AccountError(f"{len(found)} tokens have the id {wanted!r}; revoke by the whole token")
        self.redis.delete(self.keys.token(found[0].digest))
        return found[0]


@dataclass(frozen=True)
class User:
    email: str
    created_ms: int
    enabled: bool
    live_logins: int


@dataclass(frozen=True)
class Token:
    id: str
    name: str
    created_ms: int
    digest: str


# Create a user only where none is: two `user create` of one email cannot both win.
_CREATE_USER = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'password', ARGV[1], 'password_id', ARGV[2], 'created_ms', ARGV[3])
return 1
"""


def _exists(email: str) -> AccountError:
    return AccountError(f"user {email} exists; to set a new password (and end their logins): "
                        f"replay user create {email} --reset")


def _check_email(email: str) -> str:
    email = normalize_email(email)
    if "@" not in email or len(email) > 254 or not email.isprintable() or " " in email:
        raise AccountError(f"{email!r} is not an email address")
    return email


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise AccountError("a password has at least 8 characters")


def _password_fields(password: str) -> tuple[str, str, int]:
    return generate_password_hash(password), secrets.token_hex(8), int(time.time() * 1000)


def token_id(token: str) -> str:
    """The public id of a token: 'rpt_' and its next 8 characters (shown at creation and by `token list`)."""
    return token[:12]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
