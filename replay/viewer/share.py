"""Share links: a signed, expiring, revocable link to one session (and optionally one moment)."""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Callable

from itsdangerous import BadSignature, URLSafeSerializer
from redis import Redis

from replay.core.keys import ID_PATTERN, RedisKeys

# Separates share tokens from anything else signed with the same key (login cookies).
SALT = "replay.share.v1"
DEFAULT_TTL_S = 7 * 24 * 3600
# A dead link's record stays listable (as expired or revoked) this long, then Redis drops it.
KEEP_S = 30 * 24 * 3600

# ShareError code -> HTTP status.
STATUS = {"invalid": 403, "wrong_session": 403, "forbidden": 403, "not_found": 404,
          "expired": 410, "revoked": 410}
MESSAGES = {
    "invalid": "This share link is not valid: it may have been copied incompletely or altered.",
    "wrong_session": "This share link is for another session.",
    "forbidden": "Only the person who created a share link may revoke it.",
    "not_found": "No such share link.",
    "expired": "This share link has expired. Ask for a new one.",
    "revoked": "This share link was revoked by the person who made it. Ask for a new one.",
}


class ShareError(Exception):
    """A refused share link; `code` is one of STATUS's keys."""

    def __init__(self, code: str, message: str | None = None):
        super().__init__(message or MESSAGES[code])
        self.code = code
        self.message = message or MESSAGES[code]
        self.status = STATUS[code]


@dataclass(frozen=True)
class ShareLink:
    id: str
    session: str
    created_by: str
    created_ms: int
    expires_ms: int
    t_ms: int | None
    revoked: bool

    def state(self, now_ms: int) -> str:
        """'active', 'expired' or 'revoked'."""
        if self.revoked:
            return "revoked"
        return "expired" if now_ms >= self.expires_ms else "active"

    def as_dict(self, now_ms: int) -> dict:
        return {"id": self.id, "session": self.session, "created_by": self.created_by,
                "created_ms": self.created_ms, "expires_ms": self.expires_ms, "t_ms": self.t_ms,
                "revoked": self.revoked, "state": self.state(now_ms)}


class ShareLinks:
    """Tokens are signed (so they cannot be forged or edited); Redis holds revocation and listings."""

    def __init__(self, redis: Redis, keys: RedisKeys, secret_key: str | bytes,
                 keep_s: int = KEEP_S, clock: Callable[[], float] = time.time):
        self.redis = redis
        self.keys = keys
        self.keep_s = keep_s
        self.clock = clock
        self.serializer = URLSafeSerializer(secret_key, salt=SALT)

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def create(self, session_id: str, created_by: str, t_ms: int | None = None,
               ttl_s: int = DEFAULT_TTL_S) -> tuple[str, str]:
        """A new link: returns (link id, token)."""
        if not ID_PATTERN.match(session_id):
            raise ValueError(f"{session_id!r} is not a session id")
        if not created_by:
            raise ValueError("a share link needs its creator")
        if ttl_s <= 0:
            raise ValueError("ttl_s is a positive number of seconds")
        if t_ms is not None and t_ms < 0:
            raise ValueError("t_ms is a non-negative offset in milliseconds")
        link_id = secrets.token_urlsafe(12)
        now = self.now_ms()
        expires = now + int(ttl_s) * 1000
        record = {"session": session_id, "created_by": created_by, "created_ms": now,
                  "expires_ms": expires, "t_ms": "" if t_ms is None else int(t_ms), "revoked": 0}
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.keys.share(link_id), mapping=record)
        pipe.pexpireat(self.keys.share(link_id), expires + self.keep_s * 1000)
        pipe.zadd(self.keys.shares_of_session(session_id), {link_id: now})
        pipe.zadd(self.keys.shares_of_user(created_by), {link_id: now})
        pipe.execute()
        payload = {"l": link_id, "s": session_id, "e": expires}
        if t_ms is not None:
            payload["t"] = int(t_ms)
        return link_id, self.serializer.dumps(payload)

    def verify(self, token: str, session_id: str | None = None) -> ShareLink:
        """The link behind a token, or ShareError. With session_id, the token must be for that session."""
        try:
            payload = self.serializer.loads(token)
            link_id, session, expires = payload["l"], payload["s"], int(payload["e"])
        except (BadSignature, KeyError, TypeError, ValueError):
            raise ShareError("invalid") from None
        if session_id is not None and session != session_id:
            raise ShareError("wrong_session")
        if self.now_ms() >= expires:
            raise ShareError("expired")
        link = self.get(link_id)
        if link is None:
            # Signed by us but its record is gone (deleted, or Redis was lost): treat as withdrawn.
            raise ShareError("revoked")
        if link.session != session or link.expires_ms != expires:
            raise ShareError("invalid")
        if link.revoked:
            raise ShareError("revoked")
        return link

    def get(self, link_id: str) -> ShareLink | None:
        data = self.redis.hgetall(self.keys.share(link_id))
        if not data:
            return None
        d = {k.decode(): v.decode() for k, v in data.items()}
        return ShareLink(id=link_id, session=d["session"], created_by=d["created_by"],
                         created_ms=int(d["created_ms"]), expires_ms=int(d["expires_ms"]),
                         t_ms=int(d["t_ms"]) if d.get("t_ms") else None, revoked=d.get("revoked") == "1")

    def revoke(self, link_id: str, by_user: str) -> ShareLink:
        """Only the creator may revoke; revoking twice is fine."""
        link = self.get(link_id)
        if link is None:
            raise ShareError("not_found")
        if link.created_by != by_user:
            raise ShareError("forbidden")
        self.redis.hset(self.keys.share(link_id), "revoked", 1)
        return self.get(link_id) or link

    def list_for_session(self, session_id: str) -> list[ShareLink]:
        """Newest first; records Redis has dropped are pruned from the listing."""
        return self._list(self.keys.shares_of_session(session_id))

    def list_for_user(self, email: str) -> list[ShareLink]:
        return self._list(self.keys.shares_of_user(email))

    def _list(self, key: str) -> list[ShareLink]:
        links, gone = [], []
        for raw in self.redis.zrevrange(key, 0, -1):
            link = self.get(raw.decode())
            (links if link else gone).append(link or raw)
        if gone:
            self.redis.zrem(key, *gone)
        return links
