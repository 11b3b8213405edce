"""What the proxy logged about one call, as stored with the session and served: an access record and its errors."""
from __future__ import annotations

import re

from replay.core.redact import mask_form, mask_query

# nginx logs the raw request line, upstream URL and referrer: secret query values are masked as recorded calls'.
_QUERY = re.compile(r'\?([^\s"#]*)')
ERROR_FIELDS = ("time", "level", "cause", "errno", "phase", "upstream", "line")


def mask_line(text: str | None) -> str | None:
    """The line with the values of secret-named query parameters masked, wherever a query appears in it."""
    return _QUERY.sub(lambda m: "?" + mask_form(m.group(1)), text) if text else text


def proxy_entry(access: dict, errors: list[dict], matched_by: str, max_errors: int) -> dict:
    """The stored evidence of a call: the access record's fields (no client address) and its error lines."""
    return {
        "matched_by": matched_by,
        "status": access.get("status"),
        "time_ms": access.get("time_ms"),
        "request_time_ms": access.get("request_time_ms"),
        "request_id": access.get("request_id"),
        "connection": access.get("connection"),
        "method": access.get("method"),
        "host": access.get("host"),
        "uri": mask_query(access.get("uri") or ""),
        "upstreams": list(access.get("upstreams") or []),
        "via": access.get("via"),
        "error_log": [{**{k: e.get(k) for k in ERROR_FIELDS}, "upstream": mask_line(e.get("upstream")),
                       "line": mask_line(e.get("line"))} for e in errors[-max_errors:]],
    }
