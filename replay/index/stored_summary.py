"""A session's summary as the index stores it: compact, since one is kept per session for as long as it is kept.

What the summary can derive (browser, has_5xx, first_url, pages_visited, frustration) and what is empty
(None, [], {}, zero counts) is left out, and so is the end when it is the start plus the duration. The JSON
is deflated against a preset dictionary of what every summary spells alike (its field names, the common
shapes of user agents): about 120 bytes where zlib alone gave about 270 and the full JSON took about 700
(issue 11: the index's Redis memory per session). Stored: the byte 0x02, then raw deflate. `decode` gives back
the summary `replay.storage.manifest.summary` made, and reads what older versions stored: plain JSON (it
starts with "{") and zlib without the dictionary (it starts with 0x78).
"""
from __future__ import annotations

import json
import zlib

from replay.core import frustration
from replay.core.useragent import short_browser
from replay.storage.manifest import COUNTS

_DERIVED = ("browser", "has_5xx", "first_url", "frustration")
_VERSION = b"\x02"
# Changing a byte of it makes every summary stored before unreadable: add a new version instead.
_DICTIONARY = (
    b'{"counts":{"console_errors":1,"events":1,"exceptions":1,"network":1,"failed_network":1},"duration_ms":1,'
    b'"environment":"production","failed_urls":["https://api."],"failing_endpoint":"GET ","page_urls":["https://www.",'
    b'"release":"","releases":[""],"statuses":[502],"user":{"id":"","traits":{"email":"@","name":"","plan":""}},'
    b'"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0'
    b' Safari/537.36","user_agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like'
    b' Gecko) Version/17.0 Safari/605.1.15","user_agent":"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101'
    b' Firefox/120.0","user_agent":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",'
    b'"user_agent":"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile'
    b' Safari/537.36","project":"pk_","session":"","started_ms":17')
_EMPTY = {"project": None, "started_ms": None, "ended_ms": None, "duration_ms": None, "user": None,
          "page_urls": [], "user_agent": None, "statuses": [], "failed_urls": [], "release": None,
          "environment": None, "releases": [], "failing_endpoint": None}


def encode(summary: dict) -> bytes:
    s = {k: v for k, v in summary.items() if k not in _DERIVED and _EMPTY.get(k, ...) != v}
    s["counts"] = {k: v for k, v in (summary.get("counts") or {}).items() if v or k not in COUNTS}
    if not s["counts"]:
        del s["counts"]
    if s.get("pages_visited") == len(summary.get("page_urls") or []):
        del s["pages_visited"]
    if "ended_ms" in s and s["ended_ms"] == (s.get("started_ms") or 0) + (s.get("duration_ms") or 0):
        del s["ended_ms"]
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, _DICTIONARY)
    return _VERSION + deflate.compress(json.dumps(s, sort_keys=True, separators=(",", ":")).encode()) + deflate.flush()


def decode(raw: bytes | str) -> dict:
    """The summary (plain JSON of older versions, as stored, is read as it is)."""
    if isinstance(raw, str):
        raw = raw.encode()
    if raw[:1] == b"{":
        return json.loads(raw)
    if raw[:1] == _VERSION:
        s = json.loads(zlib.decompressobj(-15, _DICTIONARY).decompress(raw[1:]))
        if s.get("started_ms") is not None and s.get("duration_ms") is not None:
            s.setdefault("ended_ms", s["started_ms"] + s["duration_ms"])
    else:
        s = json.loads(zlib.decompress(raw))
    for name, empty in _EMPTY.items():
        s.setdefault(name, list(empty) if isinstance(empty, list) else empty)
    counts = {name: 0 for name in COUNTS}
    counts.update(s.get("counts") or {})
    s["counts"] = counts
    s["browser"] = short_browser(s["user_agent"])
    s["has_5xx"] = any(500 <= st <= 599 for st in s["statuses"])
    s["first_url"] = s["page_urls"][0] if s["page_urls"] else None
    s.setdefault("pages_visited", len(s["page_urls"]))
    s["frustration"] = {kind: counts.get(name, 0) for kind, name in frustration.COUNT_NAMES.items()}
    return s
