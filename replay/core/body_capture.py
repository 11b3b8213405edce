"""A project's opt-in to request bodies of failed calls: the URL patterns whose bodies may be recorded.

Off by default (no patterns). The collector tells the snippet the patterns in its `ready` answer (docs/protocol.md),
and the worker drops any request body whose URL no pattern matches before anything is stored, so a modified snippet
cannot opt a project in. Kept in the project's own hash (field `capture_request_bodies`, a JSON list), so a project's
deletion takes it along.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from urllib.parse import urlsplit

from redis import Redis

from replay.core import wire
from replay.core.keys import RedisKeys

FIELD = "capture_request_bodies"
MAX_PATTERNS = wire.MAX_CAPTURE_PATTERNS
MAX_PATTERN_CHARS = wire.MAX_CAPTURE_PATTERN_CHARS


class PatternError(ValueError):
    """A URL pattern that cannot be a capture rule."""


def check(pattern: str) -> str:
    """A pattern as stored: "/path/*" (any host) or "https://host/path*"; `*` matches any run of characters."""
    p = pattern.strip()
    if not p:
        raise PatternError("a URL pattern cannot be empty")
    if len(p) > MAX_PATTERN_CHARS:
        raise PatternError(f"a URL pattern has at most {MAX_PATTERN_CHARS} characters")
    if any(c in p for c in "?# \t\r\n"):
        raise PatternError(f"{p!r}: a pattern matches the URL without its query: no '?', '#' or spaces")
    origin = re.match(r"https?://[^/*]+(?=/|\*|$)", p, re.I)
    if not (p.startswith("/") or origin or p == "*"):
        raise PatternError(f"{p!r} is neither a path like /api/* nor a URL like https://api.example.com/*")
    return origin.group(0).lower() + p[origin.end():] if origin else p


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern:
    return re.compile("".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", pattern)),
                      re.S)


def matches(patterns, url: str) -> bool:
    """Does any pattern match the URL? "/..." patterns match its path on any host; others scheme://host/path."""
    if not isinstance(url, str) or not patterns:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    path = parts.path or "/"
    full = f"{parts.scheme}://{parts.netloc.lower()}{path}" if parts.scheme else path
    return any(isinstance(p, str) and (p == "*" or _regex(p).fullmatch(path if p.startswith("/") else full))
               for p in patterns)


def patterns(redis: Redis, keys: RedisKeys, project_key: str | None) -> list[str]:
    """The project's patterns ([] when it has none, or no such project)."""
    return parse(redis.hget(keys.project(project_key), FIELD)) if project_key else []


def parse(raw: str | bytes | None) -> list[str]:
    """Patterns as stored in the project's hash field FIELD ([] for none, or for anything but a list of text)."""
    try:
        value = json.loads(raw) if raw else []
    except ValueError:
        return []
    return [p for p in value if isinstance(p, str)][:MAX_PATTERNS] if isinstance(value, list) else []


def set_patterns(redis: Redis, keys: RedisKeys, project_key: str, wanted: list[str]) -> list[str]:
    """Replace the project's patterns ([] turns capture off); returns them as stored."""
    if not redis.exists(keys.project(project_key)):
        raise PatternError(f"no project has the key {project_key}")
    checked = list(dict.fromkeys(check(p) for p in wanted))
    if len(checked) > MAX_PATTERNS:
        raise PatternError(f"at most {MAX_PATTERNS} URL patterns")
    if checked:
        redis.hset(keys.project(project_key), FIELD, json.dumps(checked))
    else:
        redis.hdel(keys.project(project_key), FIELD)
    return checked
