"""Pure functions that pull the facts we index out of rrweb events, trusting nothing.

Events come from browsers: any field may be missing, of the wrong type or huge.
Each extractor returns a clean dict, or None for an event it cannot use.
"""
from __future__ import annotations

import math
from enum import IntEnum
from typing import Any
from urllib.parse import urlsplit

from replay.core import body_capture, redact, wire


class EventType(IntEnum):
    """rrweb's EventType (@rrweb/types); the only place its numbers appear on the Python side."""

    DomContentLoaded = 0
    Load = 1
    FullSnapshot = 2
    IncrementalSnapshot = 3
    Meta = 4
    Custom = 5
    Plugin = 6


# Tags of the snippet's custom events (docs/protocol.md).
TAG_NETWORK = wire.TAG_NETWORK
TAG_CONSOLE = wire.TAG_CONSOLE
TAG_ERROR = wire.TAG_ERROR
TAG_IDENTIFY = wire.TAG_IDENTIFY

# Caps on what one extracted field may hold in a manifest.
MAX_URL_CHARS = wire.MAX_URL_CHARS
MAX_TEXT_CHARS = 2000
MAX_STACK_CHARS = 16 * 1024
MAX_HEADERS = 100
MAX_HEADER_CHARS = 1000
MAX_TRAITS = 50
MAX_USER_ID_CHARS = 256
MAX_NORMALISED_URL_CHARS = 1024
# Times past this (2100-01-01) are no time a page can show: a broken clock or a hostile client.
LATEST_MS = 4_102_444_800_000

# The privacy floor, again on the server: a modified snippet must not put these in a manifest.
_DENIED_HEADERS = {"authorization", "cookie", "set-cookie", "proxy-authorization"}
_DENIED_HEADER_PARTS = ("api-key", "apikey", "token", "secret", "session")
_ALLOWED_HEADERS = {"x-replay-session"}
_NO_USER_IDS = {"", "null", "undefined", "none", "nan"}


def _text(value: Any, cap: int) -> str | None:
    return value[:cap] if isinstance(value, str) else None


def _number(value: Any) -> float | None:
    # bool is an int to Python, and json.loads accepts NaN and Infinity.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return value


def _int(value: Any) -> int | None:
    n = _number(value)
    return int(n) if n is not None else None


def epoch_ms(value: Any) -> int | None:
    """A time in epoch ms that a calendar can show (1970 to 2100), or None."""
    ms = _int(value)
    return ms if ms is not None and 0 <= ms < LATEST_MS else None


def timestamp(event: Any) -> int | None:
    """The event's epoch-ms timestamp, or None when it has no usable one."""
    return epoch_ms(event.get("timestamp")) if isinstance(event, dict) else None


def custom(event: Any, tag: str) -> tuple[int | None, dict] | None:
    """(timestamp, payload) of a custom event with this tag."""
    if not isinstance(event, dict) or event.get("type") != EventType.Custom:
        return None
    data = event.get("data")
    if not isinstance(data, dict) or data.get("tag") != tag or not isinstance(data.get("payload"), dict):
        return None
    return timestamp(event), data["payload"]


def _header_allowed(name: str) -> bool:
    if name in _ALLOWED_HEADERS:
        return True
    return name not in _DENIED_HEADERS and not any(part in name for part in _DENIED_HEADER_PARTS)


def headers(value: Any) -> dict[str, str]:
    """String headers only, lower-case names, capped, never a credential header."""
    if not isinstance(value, dict):
        return {}
    out: dict[str, str] = {}
    for name, val in value.items():
        if len(out) >= MAX_HEADERS:
            break
        if isinstance(name, str) and isinstance(val, str) and _header_allowed(name.lower()):
            out[name.lower()[:MAX_HEADER_CHARS]] = val[:MAX_HEADER_CHARS]
    return out


REQUEST_BODY_FIELDS = ("requestBody", "requestBodyTruncated", "requestBodyScrubbed")


def scrub(event: Any, bodies: Any = (), max_body_chars: int = 16 * 1024) -> Any:
    """The event as stored: a page load (Meta) loses the secret query values of its URL; a network call loses
    any credential header a modified snippet sent, its secret query values, and its request body unless the call failed and its URL is one the project captures bodies
    of (`bodies`: the project's patterns, replay.core.body_capture); a body kept is scrubbed again."""
    if isinstance(event, dict) and event.get("type") == EventType.Meta and isinstance(event.get("data"), dict) \
            and isinstance(event["data"].get("href"), str):
        # A page's own URL may carry secrets too (a reset link's token).
        return {**event, "data": {**event["data"], "href": redact.mask_query(event["data"]["href"])}}
    found = custom(event, TAG_NETWORK)
    if found is None:
        return event
    payload = dict(found[1])
    for field in ("requestHeaders", "responseHeaders"):
        value = payload.get(field)
        if isinstance(value, dict):
            payload[field] = {k: v for k, v in value.items() if not isinstance(k, str) or _header_allowed(k.lower())}
    if isinstance(payload.get("url"), str):
        payload["url"] = redact.mask_query(payload["url"])
    body = payload.get("requestBody")
    if isinstance(body, str) and payload.get("failed") is True and body_capture.matches(bodies, payload.get("url")):
        text, cut, changed = redact.scrub_body(body, max_body_chars)
        payload.update(requestBody=text, requestBodyTruncated=cut or payload.get("requestBodyTruncated") is True,
                       requestBodyScrubbed=changed or payload.get("requestBodyScrubbed") is True)
    else:
        for field in REQUEST_BODY_FIELDS:
            payload.pop(field, None)
    return {**event, "data": {**event["data"], "payload": payload}}


TIMING_PHASES = ("dns", "connect", "tls", "ttfb", "download")


def timing(value: Any) -> dict | None:
    """A call's time broken down (resource timing, ms): the phases the browser gave, or None."""
    if not isinstance(value, dict):
        return None
    out = {}
    for phase in TIMING_PHASES:
        n = _number(value.get(phase))
        if n is not None and 0 <= n < LATEST_MS:
            out[phase] = round(n, 1)
    return out or None


def request_body(p: dict, max_body_chars: int) -> dict:
    """The request body fields of a failed call's payload, scrubbed again (the worker dropped any not opted in)."""
    body = p.get("requestBody")
    if not isinstance(body, str):
        return {"request_body": None, "request_body_truncated": False, "request_body_scrubbed": False}
    text, cut, changed = redact.scrub_body(body, max_body_chars)
    return {"request_body": text, "request_body_truncated": cut or p.get("requestBodyTruncated") is True,
            "request_body_scrubbed": changed or p.get("requestBodyScrubbed") is True}


def network_call(event: Any, max_body_chars: int) -> dict | None:
    """One finished fetch/XHR call, with `failed` decided by its status too."""
    found = custom(event, TAG_NETWORK)
    if found is None:
        return None
    ts, p = found
    url = _text(p.get("url"), MAX_URL_CHARS)
    if not url:
        return None
    url = redact.mask_query(url)
    # A call recovered from resource timing has no known method: shown as unknown, never guessed.
    recovered = p.get("recovered") is True
    method = _text(p.get("method"), 16)
    status = _int(p.get("status"))
    status = status if status is not None and 0 <= status <= 999 else 0
    failed = p.get("failed") is True or status >= 400
    start = epoch_ms(p.get("startTime"))
    duration = _number(p.get("duration"))
    duration = duration if duration is not None and 0 <= duration < LATEST_MS else None
    body = _text(p.get("responseBody"), max_body_chars) if failed else None
    raw_body = p.get("responseBody")
    return {
        "ts": ts if ts is not None else (int(start) if start is not None else None),
        "failed": failed,
        "method": method.upper() if method else None if recovered else "GET",
        "url": url,
        "status": status,
        "status_text": _text(p.get("statusText"), 200) or "",
        "duration_ms": duration,
        "start_ms": int(start) if start is not None else None,
        "end_ms": epoch_ms(start + duration) if start is not None and duration is not None else None,
        "initiator": _text(p.get("initiator"), 16),
        "error": _text(p.get("error"), 32),
        "request_headers": headers(p.get("requestHeaders")) if failed else {},
        "response_headers": headers(p.get("responseHeaders")) if failed else {},
        "response_body": body,
        "response_body_truncated": bool(p.get("responseBodyTruncated") is True
                                        or (isinstance(raw_body, str) and len(raw_body) > max_body_chars)),
        "response_size": _int(p.get("responseSize")),
        "recovered": recovered,
        "timing": timing(p.get("timing")),
        "query": redact.query_params(url),
        **(request_body(p, max_body_chars) if failed else request_body({}, 0)),
    }


def console_error(event: Any) -> dict | None:
    """A console.error call as an error entry."""
    found = custom(event, TAG_CONSOLE)
    if found is None:
        return None
    ts, p = found
    if p.get("level") != "error":
        return None
    args = p.get("args")
    parts = [a for a in args[:20] if isinstance(a, str)] if isinstance(args, list) else []
    return {
        "kind": "console_error", "ts": ts, "message": " ".join(parts)[:MAX_TEXT_CHARS],
        "source": None, "line": None, "column": None, "stack": _text(p.get("trace"), MAX_STACK_CHARS),
    }


CONSOLE_LEVELS = ("log", "info", "warn", "error", "debug")


def console_entry(event: Any) -> dict | None:
    """Any console call (every level), for the replay page's console panel."""
    found = custom(event, TAG_CONSOLE)
    if found is None:
        return None
    ts, p = found
    level = p.get("level") if p.get("level") in CONSOLE_LEVELS else "log"
    args = p.get("args")
    parts = [a[:MAX_TEXT_CHARS] for a in args[:20] if isinstance(a, str)] if isinstance(args, list) else []
    return {"kind": "console", "ts": ts, "level": level, "message": " ".join(parts)[:MAX_TEXT_CHARS],
            "args": parts, "stack": _text(p.get("trace"), MAX_STACK_CHARS)}


def exception(event: Any) -> dict | None:
    """An uncaught error or unhandled rejection as an error entry."""
    found = custom(event, TAG_ERROR)
    if found is None:
        return None
    ts, p = found
    return {
        "kind": "exception", "ts": ts, "message": _text(p.get("message"), MAX_TEXT_CHARS) or "",
        "source": _text(p.get("source"), MAX_URL_CHARS), "line": _int(p.get("line")),
        "column": _int(p.get("column")), "stack": _text(p.get("stack"), MAX_STACK_CHARS),
    }


def _traits(value: Any) -> dict:
    if not isinstance(value, dict):
        return {}
    out = {}
    for name, val in value.items():
        if len(out) >= MAX_TRAITS:
            break
        if not isinstance(name, str):
            continue
        if isinstance(val, str):
            out[name[:100]] = val[:500]
        elif val is None or isinstance(val, bool) or _number(val) is not None:
            out[name[:100]] = val
    return out


def identify(event: Any) -> dict | None:
    """{"id", "traits", "ts"} from Replay.identify()."""
    found = custom(event, TAG_IDENTIFY)
    if found is None:
        return None
    ts, p = found
    user_id = p.get("userId")
    if isinstance(user_id, (int, float)) and _number(user_id) is not None:
        user_id = str(user_id)
    # An id a page built from a missing value (String(null)) names no user; an older snippet sent these.
    if not isinstance(user_id, str) or user_id.strip().lower() in _NO_USER_IDS:
        return None
    return {"id": user_id.strip()[:MAX_USER_ID_CHARS], "traits": _traits(p.get("traits")), "ts": ts}


def page_url(event: Any) -> str | None:
    """The page URL of a Meta event (a page load or a new full snapshot)."""
    if not isinstance(event, dict) or event.get("type") != EventType.Meta:
        return None
    data = event.get("data")
    return _text(data.get("href"), MAX_URL_CHARS) or None if isinstance(data, dict) else None


def normalise_url(url: str) -> str:
    """scheme://host[:port]/path: what failed calls are indexed by (no query, fragment or credentials)."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        # Not a URL we can parse: keep what precedes any query.
        return url.split("?", 1)[0].split("#", 1)[0][:MAX_NORMALISED_URL_CHARS]
    netloc = f"{host}:{port}" if port else host
    prefix = f"{parts.scheme.lower()}://{netloc}" if parts.scheme and netloc else ""
    return (prefix + (parts.path or ("/" if prefix else "")))[:MAX_NORMALISED_URL_CHARS]
