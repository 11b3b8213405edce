"""The application's events (POST /ingest/server, replay/core/server_events.py) joined to a session's failed calls.

An event is the app's account of one request: method, URL (path and query, secret values masked as the
recorded call's are), status, its start (`time_ms`, the server's clock) and duration. It joins a call the way an
access line does (replay/core/evidence/join.py): same method and URL, the call's start moved by its window's clock
offset within the tolerance, and the same status when the browser got one. A browser that got 502 or 504 got the
proxy's answer, not the app's, so the app's status may differ there: that is the proxy failing on a request the
app was still on (or had answered), and both accounts are shown.

An `in_flight` event is the app's record of a request it was still on (sent while it ran past a threshold):
its final event (same `request_id`) replaces it, whatever its status. One left without a final event is a
request the app never finished: it joins only a call the proxy answered 502 (the app's process ended on it).
"""
from __future__ import annotations

from replay.core.evidence.join import join_access

# Statuses a proxy makes itself when the upstream failed: the app's own status never reached the browser.
PROXY_MADE = {502, 504}
# The proxy's answer when the app's connection ended without an answer: where an unfinished request can join.
IN_FLIGHT_JOINS = 502
# Frames in these paths are the libraries the app runs on; the frame to fix is the app's own innermost one.
LIBRARY_PATHS = ("site-packages", "dist-packages", "/lib/python", "<frozen ", "node_modules")
EVENT_FIELDS = ("time_ms", "method", "url", "status", "duration_ms", "service", "release", "exception", "logs",
                "logs_omitted")
IN_FLIGHT_FIELDS = ("request_id", "elapsed_ms", "stack", "frames_omitted")  # and at_frame (server_entry)


def in_flight(event: dict | None) -> bool:
    return (event or {}).get("type") == "in_flight"


def current_events(events: list[dict]) -> list[dict]:
    """The events that still stand: an in_flight record goes when its request's final event came (same
    request_id); of several in_flight records of one request, the latest (the longest elapsed) stays."""
    finished = {e.get("request_id") for e in events if not in_flight(e) and e.get("request_id")}
    latest: dict[str, dict] = {}
    for e in events:
        if in_flight(e) and e.get("request_id") not in finished:
            seen = latest.get(e.get("request_id"))
            if seen is None or (e.get("elapsed_ms") or 0) >= (seen.get("elapsed_ms") or 0):
                latest[e.get("request_id")] = e
    kept = {id(e) for e in latest.values()}
    return [e for e in events if not in_flight(e) or id(e) in kept]


def _as_record(event: dict, call_status: int | None) -> dict:
    """The event in the access record's shape join_access reads: the URI, the end time, the time it took."""
    start = event.get("time_ms")
    took = int(round(event.get("elapsed_ms" if in_flight(event) else "duration_ms") or 0))
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
        records = [_as_record(e, status) for e in current_events(events)
                   if id(e) not in taken and (status == IN_FLIGHT_JOINS or not in_flight(e))]
        for cid, record in join_access(group, offsets, records, tolerance_ms, by_host).items():
            out[cid] = record["event"]
    return out


def server_entry(event: dict, matched_by: str) -> dict:
    """The stored evidence of what the app raised about a call: the event's fields and how it was matched."""
    entry = {"matched_by": matched_by, "type": event.get("type") or "request",
             **{k: event.get(k) for k in EVENT_FIELDS}}
    if in_flight(event):
        entry.update({k: event.get(k) for k in IN_FLIGHT_FIELDS})
        at = raising_frame({"stack": entry.get("stack")})
        entry["at_frame"] = None if at is None else entry["stack"].index(at)  # where it was: the app's own frame
    return entry


def raising_frame(exception: dict | None) -> dict | None:
    """The frame to fix: the innermost frame of the app's own code, else the innermost frame."""
    stack = (exception or {}).get("stack") or []
    own = [f for f in stack if not any(p in (f.get("file") or "") for p in LIBRARY_PATHS)]
    return (own or stack or [None])[-1]
