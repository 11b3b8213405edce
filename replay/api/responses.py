"""A session's data as JSON answers, shared by the API (login or token) and share links (their token)."""
from __future__ import annotations

import json
import threading
import time

from flask import Response, jsonify, stream_with_context

from replay.api import session_data
from replay.core.keys import ID_PATTERN
from replay.storage import recording
from replay.storage.evidence import load_evidence
from replay.web.errors import ApiError
from replay.web.services import services


def load_manifest(session_id: str) -> dict:
    """The session's manifest, or a 404 ApiError."""
    if not ID_PATTERN.match(session_id):
        raise ApiError(404, "not_found", "no such session")
    manifest = recording.load_manifest(services().store, session_id)
    if manifest is None:
        raise ApiError(404, "not_found", "no such session (a new one appears within seconds of its first events)")
    return manifest


def events_response(session_id: str) -> Response:
    """The recording as one JSON array, streamed segment by segment (also used by share links)."""
    store = services().store

    def generate():
        yield "["
        first = True
        for event in recording.iter_events(store, session_id):
            yield ("" if first else ",") + json.dumps(event, separators=(",", ":"))
            first = False
        yield "]"

    return Response(stream_with_context(generate()), mimetype="application/json")


def calls_response(manifest: dict) -> Response:
    """Every call; failed ones carry `proxy` (what the proxy logged, or null), `server` (what the app raised, or
    null) and `diagnosis` (DESIGN)."""
    svc = services()
    found, truncated = session_data.calls(svc.store, manifest, svc.settings.MAX_BODY_CHARS)
    evidence = load_evidence(svc.store, manifest["session"])
    kept = {f.get("id"): f for f in manifest.get("network_failures") or []}
    for call in found:
        if call["failed"] and call["id"]:
            call["proxy"] = (evidence.get(call["id"]) or {}).get("proxy")
            call["server"] = (evidence.get(call["id"]) or {}).get("server")
            # The manifest's record of the call where it has one: the viewer's cards are made from it too.
            failure = kept.get(call["id"]) or call
            call["diagnosis"] = (svc.diagnose(manifest, failure, call["proxy"], call["server"])
                                 if svc.diagnose else None)
    return jsonify({"session": manifest["session"], "calls": found, "count": len(found), "truncated": truncated})


def console_response(manifest: dict) -> Response:
    found, truncated = session_data.console(services().store, manifest)
    return jsonify({"session": manifest["session"], "entries": found, "count": len(found), "truncated": truncated})


def tracked_response(manifest: dict) -> Response:
    found, truncated = session_data.tracked(services().store, manifest)
    return jsonify({"session": manifest["session"], "events": found, "count": len(found), "truncated": truncated})


def segments_response(manifest: dict) -> Response:
    """The segments in time order: what to fetch first to start playing."""
    listed = recording.list_segments(services().store, manifest)
    return jsonify({"session": manifest["session"], "started_ms": manifest.get("started_ms"),
                    "ended_ms": manifest.get("ended_ms"),
                    "segments": [{k: v for k, v in e.items() if k != "key"} for e in listed]})


# A long session's page asks for hundreds of segments; the listing each one is checked
# against comes from the manifest, which is read once per session here, not per segment.
SEGMENT_LISTING_TTL_S = 30.0
SEGMENT_LISTING_CACHE_SESSIONS = 256
_segment_listings: dict[tuple[int, str], tuple[float, list[dict]]] = {}
_segment_listings_lock = threading.Lock()


def _segment_listing(session_id: str, fresh: bool) -> list[dict]:
    store = services().store
    key, now = (id(store), session_id), time.monotonic()
    with _segment_listings_lock:
        hit = _segment_listings.get(key)
    if hit and not fresh and now - hit[0] < SEGMENT_LISTING_TTL_S:
        return hit[1]
    listing = recording.list_segments(store, load_manifest(session_id), timed=False)
    with _segment_listings_lock:
        if len(_segment_listings) >= SEGMENT_LISTING_CACHE_SESSIONS:
            _segment_listings.clear()
        _segment_listings[key] = (now, listing)
    return listing


def segment_response(session_id: str, segment_id: str) -> Response:
    """One segment's events in time order (ids come from the listing: "window.first-last")."""
    if recording.SEGMENT_ID.match(segment_id):
        # A segment flushed after the listing was cached: look once more, in the manifest itself.
        for fresh in (False, True):
            for entry in _segment_listing(session_id, fresh):
                if entry["id"] == segment_id:
                    body = json.dumps(recording.segment_events(services().store, entry), separators=(",", ":"))
                    return Response(body, mimetype="application/json")
    raise ApiError(404, "not_found", "no such segment in this session")
