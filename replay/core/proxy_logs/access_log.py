"""Access-log lines written by DESIGN's `log_format replay escape=json '{"v":1,"msec":"$msec",...}'`.

nginx writes every variable as a string, "-" or "" where it has no value, and lists of upstream
values when it tried more than one server: ", " between the servers of one group and " : " between
groups after an internal redirect (`upstream_addr` "10.0.0.1:80, 10.0.0.2:80").
"""
from __future__ import annotations

import json
import re

from replay.core.keys import ID_PATTERN
from replay.core.route_folding import fold_path

MAX_FIELD_CHARS = 8192
UPSTREAM_SPLIT = re.compile(r", | : ")
UPSTREAM_FIELDS = (("addr", "upstream_addr", str), ("status", "upstream_status", int),
                   ("connect_ms", "upstream_connect_time", "ms"), ("header_ms", "upstream_header_time", "ms"),
                   ("response_ms", "upstream_response_time", "ms"))
METHOD = re.compile(r"\A[A-Z][A-Z_-]{0,31}\Z")
COUNTER = re.compile(r"\A[0-9]{1,18}\Z")


class AccessLineError(ValueError):
    """The line is no access-log object of the `replay` format."""


def looks_like(line: str) -> bool:
    return line.startswith("{")


def _value(raw) -> str | None:
    """nginx's "-" and "" are no value."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raw = str(raw)
    return None if raw in ("", "-") else raw


def _number(raw: str | None, kind) -> int | str | None:
    if raw is None:
        return None
    try:
        return int(raw) if kind is int else round(float(raw) * 1000) if kind == "ms" else raw
    except (ValueError, OverflowError):
        return None


def _upstreams(obj: dict) -> list[dict]:
    columns = {}
    for name, field, kind in UPSTREAM_FIELDS:
        raw = _value(obj.get(field))
        columns[name] = [_number(_value(v), kind) for v in UPSTREAM_SPLIT.split(raw)] if raw else []
    count = max(len(c) for c in columns.values())
    return [{name: (c[i] if i < len(c) else None) for name, c in columns.items()} for i in range(count)]


def parse(line: str) -> dict:
    """The line as a record (kind "access"), times in ms; raises AccessLineError."""
    try:
        obj = json.loads(line)
    except ValueError as exc:
        raise AccessLineError(f"not JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(obj, dict):
        raise AccessLineError("not a JSON object")
    if str(obj.get("v")) != "1":
        raise AccessLineError('no "v":1 (use the log_format of the README)')
    for field, raw in obj.items():
        if isinstance(raw, str) and len(raw) > MAX_FIELD_CHARS:
            raise AccessLineError(f"{field} is longer than {MAX_FIELD_CHARS} characters")
    missing = [f for f in ("msec", "method", "uri", "status") if _value(obj.get(f)) is None]
    if missing:
        raise AccessLineError(f"no {', '.join(missing)}")
    try:
        time_ms = round(float(obj["msec"]) * 1000)
        status = int(obj["status"])
    except (TypeError, ValueError, OverflowError):
        raise AccessLineError("msec and status must be numbers") from None
    if not 0 <= status <= 999:
        raise AccessLineError("status is not an HTTP status")
    method = str(obj["method"])
    if not METHOD.match(method):
        raise AccessLineError("method is not an HTTP method")
    session = _value(obj.get("session"))
    connection = _value(obj.get("connection"))
    request_time = _value(obj.get("request_time"))
    return {
        "kind": "access",
        "time_ms": time_ms,
        # A header that is no session id of ours (someone else's value) joins nothing: as if absent.
        "session": session if session and ID_PATTERN.match(session) else None,
        "connection": int(connection) if connection and COUNTER.match(connection) else None,
        "request_id": _value(obj.get("request_id")),
        "method": method,
        "uri": str(obj["uri"]),
        "host": (_value(obj.get("host")) or "").lower() or None,
        "status": status,
        "request_time_ms": _number(request_time, "ms"),
        "upstreams": _upstreams(obj),
        "client": _value(obj.get("client")),
    }


def route_of(method: str, host: str | None, uri: str) -> str:
    """'GET shop.example/api/orders/:id' for GET shop.example:8080 /api/orders/123?x=1: what lines without a
    session are filed under, and what the join computes from a recorded call's method and URL."""
    hostname = (host or "").lower().rsplit(":", 1)[0] if not (host or "").startswith("[") else host.lower()
    return f"{method.upper()} {hostname}{fold_path(uri.split('?', 1)[0].split('#', 1)[0])}"
