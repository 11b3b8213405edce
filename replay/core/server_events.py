"""The application's request events (POST /ingest/server, DESIGN "Server-side evidence"): one JSON line checked.

An event is refused for a wrong type, a missing field or a number that is not finite or out of range; strings,
stacks and log lists longer than their caps are cut (the innermost frames and the last log records kept), so
one long message never costs the exception. Only the contract's fields are kept: anything else sent (headers,
cookies, request bodies) is dropped unread. Secret-named query values and credentials in text are masked.
"""
from __future__ import annotations

import json
import math
import re
from urllib.parse import urlsplit

from replay.core import redact
from replay.core.keys import ID_PATTERN
from replay.core.proxy_logs.access_log import route_of
from replay.core.settings import Settings

VERSION = 1
# Epoch milliseconds from 2000-01-01 to 2100-01-01: anything else is seconds, microseconds or nonsense.
MIN_TIME_MS, MAX_TIME_MS = 946_684_800_000, 4_102_444_800_000
MAX_DURATION_MS = 24 * 3600 * 1000
MAX_NAME_CHARS = 200
MAX_FILE_CHARS = 500
MAX_CODE_CHARS = 500
MAX_LEVEL_CHARS = 20
METHOD = re.compile(r"\A[A-Za-z]{1,20}\Z")
REQUEST_ID = re.compile(r"\A[A-Za-z0-9_.:-]{1,64}\Z")
TYPES = ("request", "in_flight")
CUT = "…"


class EventError(ValueError):
    """Why one event was refused (said to the sender with its line number)."""


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise EventError(f"the number {text} is not finite")
    return value


def _no_constant(name: str):
    raise EventError(f"{name} is not a JSON number we take (numbers must be finite)")


def _cut(text: str, cap: int) -> str:
    return text if len(text) <= cap else text[:cap - 1] + CUT


def _text(obj: dict, name: str, cap: int, required: bool = True, where: str = "") -> str | None:
    value = obj.get(name)
    if value is None:
        if required:
            raise EventError(f"no {where}{name}")
        return None
    if not isinstance(value, str):
        raise EventError(f"{where}{name} must be a string, not {type(value).__name__}")
    return _cut(value, cap)


def _number(obj: dict, name: str, low: float, high: float, where: str = "", integer: bool = False):
    value = obj.get(name)
    if value is None:
        raise EventError(f"no {where}{name}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        raise EventError(f"{where}{name} must be {'an integer' if integer else 'a number'}")
    if not low <= value <= high:
        raise EventError(f"{where}{name} {value} is outside {low:g}..{high:g}")
    return value


def _url(value) -> tuple[str, str | None, str]:
    """(url as stored, host, path and query) of an absolute http(s) URL or a path; secrets masked."""
    if not isinstance(value, str):
        raise EventError("url must be a string")
    if not value:
        raise EventError("no url")
    if not (value.startswith("/") or value.lower().startswith(("http://", "https://"))):
        raise EventError("url must be absolute (http:// or https://) or a path starting with /")
    parts = urlsplit(value)
    host, rest = parts.netloc or None, value
    if host:
        if "@" in host:  # user:password@host: never stored
            host = host.rpartition("@")[2]
            rest = value.replace(parts.netloc, f"{redact.MASK}@{host}", 1)
        rest_path = value[len(f"{parts.scheme}://{parts.netloc}"):] or "/"
    else:
        rest_path = value
    return redact.scrub_text(redact.mask_query(rest)), host, rest_path


def _frame(frame, index: int, field: str = "exception.stack") -> dict:
    where = f"{field}[{index}]."
    if not isinstance(frame, dict):
        raise EventError(f"{field}[{index}] must be an object")
    line = frame.get("line")
    if line is not None and (isinstance(line, bool) or not isinstance(line, int) or line < 0):
        raise EventError(f"{where}line must be a non-negative integer or null")
    return {"file": _text(frame, "file", MAX_FILE_CHARS, where=where), "line": line,
            "function": _text(frame, "function", MAX_NAME_CHARS, where=where),
            "code": _text(frame, "code", MAX_CODE_CHARS, required=False, where=where)}


def _stack(stack, s: Settings, field: str) -> tuple[list[dict], int]:
    """The frames kept (the innermost: where it raised, or where it is) and how many were not."""
    if not isinstance(stack, list):
        raise EventError(f"{field} must be a list")
    omitted = max(0, len(stack) - s.MAX_SERVER_STACK_FRAMES)
    return [_frame(f, omitted + i, field) for i, f in enumerate(stack[omitted:])], omitted


def _exception(value, s: Settings) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise EventError("exception must be an object or null")
    stack, omitted = _stack(value.get("stack", []), s, "exception.stack")
    message = _text(value, "message", s.MAX_SERVER_MESSAGE_CHARS, required=False, where="exception.") or ""
    return {"type": _text(value, "type", MAX_NAME_CHARS, where="exception."),
            "message": redact.scrub_text(message), "stack": stack, "frames_omitted": omitted}


def _request_id(value) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not REQUEST_ID.match(value):
        raise EventError("request_id must be 1..64 letters, digits, '_', '.', ':' or '-'")
    return value


def _logs(value, s: Settings) -> tuple[list[dict], int]:
    if value is None:
        return [], 0
    if not isinstance(value, list):
        raise EventError("logs must be a list")
    omitted = max(0, len(value) - s.MAX_SERVER_LOG_RECORDS)
    out = []
    for i, record in enumerate(value[omitted:], omitted):
        where = f"logs[{i}]."
        if not isinstance(record, dict):
            raise EventError(f"logs[{i}] must be an object")
        out.append({"time_ms": int(_number(record, "time_ms", MIN_TIME_MS, MAX_TIME_MS, where)),
                    "level": _text(record, "level", MAX_LEVEL_CHARS, where=where).upper(),
                    "logger": _text(record, "logger", MAX_NAME_CHARS, required=False, where=where) or "",
                    "message": redact.scrub_text(_text(record, "message", s.MAX_SERVER_MESSAGE_CHARS, where=where))})
    return out, omitted


def _session(value) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise EventError("session must be a string or null")
    # A header that is no session id of ours (someone else's value) joins nothing: as if absent.
    return value if ID_PATTERN.match(value) else None


def parse_event(line: str, s: Settings) -> dict:
    """One event line as stored (docs/server-events.md), or EventError saying why not."""
    if len(line) > s.MAX_SERVER_EVENT_CHARS:
        raise EventError(f"the event is {len(line)} characters; the limit is {s.MAX_SERVER_EVENT_CHARS}")
    try:
        obj = json.loads(line, parse_float=_finite, parse_constant=_no_constant)
    except EventError:
        raise
    except (ValueError, RecursionError) as exc:
        raise EventError(f"not JSON: {str(exc)[:120]}") from None
    if not isinstance(obj, dict):
        raise EventError("an event must be a JSON object")
    if obj.get("v") != VERSION or isinstance(obj.get("v"), bool):
        raise EventError(f"v must be {VERSION} (the version of this contract)")
    kind = obj.get("type")
    if kind not in TYPES:
        raise EventError('type must be "request" or "in_flight"')
    method = obj.get("method")
    if not isinstance(method, str) or not METHOD.match(method):
        raise EventError("method must be an HTTP method (letters only)")
    if isinstance(obj.get("url"), str) and len(obj["url"]) > s.MAX_SERVER_URL_CHARS:
        raise EventError(f"url is {len(obj['url'])} characters; the limit is {s.MAX_SERVER_URL_CHARS}")
    url, host, path = _url(obj.get("url"))
    logs, logs_omitted = _logs(obj.get("logs"), s)
    event = {
        "v": VERSION, "type": kind, "request_id": _request_id(obj.get("request_id")),
        "session": _session(obj.get("session")),
        "time_ms": int(_number(obj, "time_ms", MIN_TIME_MS, MAX_TIME_MS)),
        "method": method.upper(), "url": url, "host": host.lower() if host else None,
        "route": route_of(method, host, path),
        "service": _text(obj, "service", MAX_NAME_CHARS, required=False) or None,
        "release": _text(obj, "release", MAX_NAME_CHARS, required=False) or None,
    }
    if kind == "in_flight":
        # The request as it stood while it still ran: no status, how long so far, where it was.
        if event["request_id"] is None:
            raise EventError("an in_flight event needs its request_id (its final event carries the same)")
        stack, omitted = _stack(obj.get("stack", []), s, "stack")
        event.update(status=None, elapsed_ms=round(float(_number(obj, "elapsed_ms", 0, MAX_DURATION_MS)), 3),
                     stack=stack, frames_omitted=omitted)
    else:
        event.update(status=_number(obj, "status", 100, 599, integer=True),
                     duration_ms=round(float(_number(obj, "duration_ms", 0, MAX_DURATION_MS)), 3),
                     exception=_exception(obj.get("exception"), s))
    event.update(logs=logs, logs_omitted=logs_omitted)
    return event
