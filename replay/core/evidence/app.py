"""The application's events (POST /ingest/server, replay/core/server_events.py) joined to a session's failed calls.

An event is the app's account of one request: method, URL (path and query, secret values masked as the
recorded call's are), status, its start (`time_ms`, the server's clock) and duration. It joins a call the way an
access line does (replay/core/evidence/join.py): same method and URL, the call's start moved by its window's clock
offset within the tolerance, and the same status when the browser got one. A browser that got 502 or 504 got the
proxy's answer, not the app's, so the app's status may differ there: that is the proxy failing on a request the
app was still on (or had answered), and both accounts are shown.
"""
from __future__ import annotations

from replay.core.evidence.join import join_access

# Statuses a proxy makes itself when the upstream failed: the app's own status never reached the browser.
PROXY_MADE = {502, 504}
# Frames in these paths are the libraries the app runs on; the frame to fix is the app's own innermost one.
LIBRARY_PATHS = ("site-packages", "dist-packages", "/lib/python", "<frozen ", "node_modules")
EVENT_FIELDS = ("time_ms", "method", "url", "status", "duration_ms", "service", "release", "exception", "logs",
                "logs_omitted")


def _as_record(event: dict, call_status: int | None) -> dict:
    """The event in the access record's shape join_access reads: the URI, the end time, the time it took."""
    start, took = event.get("time_ms"), int(round(event.get("duration_ms") or 0))
    status = event.get("status")
    if call_status in PROXY_MADE and status != call_status:
        status = call_status  # the proxy answered the browser: the app's status is its own story
    return {"method": event.get("method"), "uri": event.get("url"), "host": event.get("host"), "status": status,
            "time_ms": None if start is None else start + took, "request_time_ms": took, "event": event}


def join_events(calls: list[dict], offsets: dict[str, int | None], events: list[dict], tolerance_ms: int,
                by_host: bool = False) -> dict[str, dict]:
    """{call id: app event}: each event joins at most one call, each call at most one event (in time order)."""
    out: dict[str, dict] = {}
    # A proxy-made status lets an event of another status join: those calls are aligned on their own, per status.
    groups = [(None, [c for c in calls if c.get("status") not in PROXY_MADE])]
    groups += [(status, [c for c in calls if c.get("status") == status]) for status in sorted(PROXY_MADE)]
    for status, group in groups:
        if not group:
            continue
        taken = {id(e) for e in out.values()}
        records = [_as_record(e, status) for e in events if id(e) not in taken]
        for cid, record in join_access(group, offsets, records, tolerance_ms, by_host).items():
            out[cid] = record["event"]
    return out


def server_entry(event: dict, matched_by: str) -> dict:
    """The stored evidence of what the app raised about a call: the event's fields and how it was matched."""
    return {"matched_by": matched_by, **{k: event.get(k) for k in EVENT_FIELDS}}


def raising_frame(exception: dict | None) -> dict | None:
    """The frame to fix: the innermost frame of the app's own code, else the innermost frame."""
    stack = (exception or {}).get("stack") or []
    own = [f for f in stack if not any(p in (f.get("file") or "") for p in LIBRARY_PATHS)]
    return (own or stack or [None])[-1]
