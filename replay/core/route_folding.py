"""Failed calls folded into groups: a route with its ids replaced by ':id', and a session's tally per group.

A group is method + host + normalised route + status + sign (failure_signs.py: what the
browser's evidence tells apart, such as a 502 at once from one after a long wait). The tally lives in the
manifest (built as records merge, so it counts every failed call even past
the manifest's cap on listed calls) and the index sums tallies over sessions.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from replay.core.failure_signs import sign as call_sign

MAX_ROUTE_CHARS = 1024
HOUR_MS = 3_600_000
# Caps that keep a manifest small: distinct groups per session, hourly buckets per group and session.
MAX_FAILURE_GROUPS = 200
MAX_GROUP_HOURS = 24 * 14

_INTEGER = re.compile(r"^\d+$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
# Mongo ObjectIds, hashes, UUIDs without dashes; a digit rules out the odd long word made of a-f.
_LONG_HEX = re.compile(r"^(?=.*\d)[0-9a-f]{16,}$", re.I)
_ULID = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$", re.I)
_EMAIL = re.compile(r"^[^@/\s]+@[^@/\s]+\.[A-Za-z]{2,}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_\-.~=]{20,}$")
_PIECES = re.compile(r"[-_.~=]")
# 'report-2024.pdf' keeps its name; '123.json' folds its stem.
_EXTENSION = re.compile(r"^(.+)(\.[A-Za-z][A-Za-z0-9]{0,4})$")


def _is_token(segment: str) -> bool:
    """A long opaque token (API key, JWT, base64 id): some 8+ char piece mixes letters and digits.

    A slug such as 'annual-report-2024-summary' is long too, but each piece is a word or a number.
    """
    if not _TOKEN.match(segment):
        return False
    return any(len(p) >= 8 and re.search(r"\d", p) and re.search(r"[A-Za-z]", p) for p in _PIECES.split(segment))


def _is_id(segment: str) -> bool:
    return bool(_INTEGER.match(segment) or _UUID.match(segment) or _LONG_HEX.match(segment)
                or _ULID.match(segment) or _EMAIL.match(segment) or _is_token(segment))


def fold_segment(segment: str) -> str:
    """':id' for a segment that is an id, ':id.ext' for an id with a file extension, else the segment."""
    if not segment:
        return segment
    if _is_id(segment):
        return ":id"
    found = _EXTENSION.match(segment)
    if found and _is_id(found.group(1)):
        return ":id" + found.group(2)
    return segment


def fold_path(path: str) -> str:
    """The path with every id segment folded; '/' for an empty path."""
    return "/".join(fold_segment(s) for s in (path or "/").split("/"))[:MAX_ROUTE_CHARS] or "/"


def route_parts(url: str) -> tuple[str, str]:
    """(host[:port], folded path) of a URL; host is '' for a relative URL. No scheme, query or fragment."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
        path = parts.path
    except ValueError:
        # A URL urlsplit refuses (a bad port, say): keep what precedes any query, path only.
        host, port, path = "", None, url.split("?", 1)[0].split("#", 1)[0]
    if host and port:
        host = f"{host}:{port}"
    if path and not path.startswith("/") and host:
        path = "/" + path
    return host, fold_path(path)


def normalize_route(url: str) -> str:
    """'api.example.com/api/orders/:id' for 'https://api.example.com/api/orders/123?x=1'; a relative URL: its route."""
    host, route = route_parts(url)
    return host + route


def call_id(window: str, seq: int, n: int) -> str:
    """The id of the n-th failed call (from 0) in batch (window, seq): stable, as a batch is merged once."""
    return f"{window}:{seq}:{n}"


def _call_order(call: str | None) -> tuple:
    window, _, rest = (call or "").partition(":")
    seq, _, n = rest.partition(":")
    return (window, int(seq) if seq.isdigit() else -1, int(n) if n.isdigit() else -1)


def tally(groups: dict, call: dict) -> None:
    """Count one failed call (method, url, status, ts, id) into a session's groups, in place."""
    method, status, ts = call.get("method") or "GET", int(call.get("status") or 0), int(call.get("ts") or 0)
    host, route = route_parts(call.get("url") or "")
    sign = call_sign(call)
    key = f"{method} {status}{'/' + sign if sign else ''} {host}{route}"
    group = groups.get(key)
    if group is None:
        if len(groups) >= MAX_FAILURE_GROUPS:
            return
        group = groups[key] = {"method": method, "host": host, "route": route, "status": status, "sign": sign, "count": 0,
                               "first_ms": ts, "last_ms": ts, "call": call.get("id"), "hours": {}}
    group["count"] += 1
    group["first_ms"] = min(group["first_ms"], ts)
    # The latest call (ties broken by its place in the recording) is where the viewer opens.
    if (ts, _call_order(call.get("id"))) >= (group["last_ms"], _call_order(group["call"])):
        group["last_ms"], group["call"] = ts, call.get("id")
    hour = str(ts - ts % HOUR_MS)
    if hour in group["hours"] or len(group["hours"]) < MAX_GROUP_HOURS:
        group["hours"][hour] = group["hours"].get(hour, 0) + 1
