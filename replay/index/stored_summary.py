"""A session's summary as the index stores it: compact, since one is kept per session for as long as it is kept.

What the summary can derive (browser, has_5xx, first_url, pages_visited, frustration) and what is empty
(None, [], {}, zero counts) is left out, and the JSON is deflated (about 250 bytes where the full JSON
took about 700). `decode` gives back the summary `replay.storage.manifest.summary` made, and reads
summaries stored as plain JSON before (those start with "{"; deflated ones never do).
"""
from __future__ import annotations

import json
import zlib

from replay.core import frustration
from replay.core.useragent import short_browser
from replay.storage.manifest import COUNTS

_DERIVED = ("browser", "has_5xx", "first_url", "frustration")
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
    return zlib.compress(json.dumps(s, sort_keys=True, separators=(",", ":")).encode(), 6)


def decode(raw: bytes | str) -> dict:
    """The summary (plain JSON of older versions, as stored, is read as it is)."""
    if isinstance(raw, str):
        raw = raw.encode()
    if raw[:1] == b"{":
        return json.loads(raw)
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
