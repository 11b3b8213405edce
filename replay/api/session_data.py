"""A session's network calls and console entries, read from its recording for the replay page's panels."""
from __future__ import annotations

import json

from replay.core import events as ev
from replay.core import wire
from replay.storage import recording
from replay.core import route_folding
from replay.storage.store import ObjectStore

# A panel lists at most this many rows; the response says when it stopped.
MAX_ROWS = 20_000


def _offset(manifest: dict, ts: int | None) -> int:
    started = manifest.get("started_ms") or 0
    return max(0, (ts if ts is not None else started) - started)


def calls(store: ObjectStore, manifest: dict, max_body_chars: int) -> tuple[list[dict], bool]:
    """Every fetch/XHR call in the order they were sent; failed ones carry the manifest's call id ("window:seq:n").

    offset_ms is when the call was sent, end_offset_ms when it was answered or failed (both from the session start).
    """
    out: list[dict] = []
    for window, batch in recording.iter_batches(store, manifest):
        failed_in_batch = 0
        for event in batch.get("events") or []:
            call = ev.network_call(event, max_body_chars)
            if call is None:
                continue
            if call["ts"] is None:
                call["ts"] = batch.get("received_ms")
            call["id"] = None
            if call["failed"]:
                # Numbered as worker/manifest.py numbers them, so ?call= and the diagnosis cards match.
                call["id"] = route_folding.call_id(window, batch["seq"], failed_in_batch)
                failed_in_batch += 1
            # A call is placed when it was sent; its answer (or failure) came duration_ms later.
            sent = call["start_ms"] if call["start_ms"] is not None else call["ts"]
            answered = call["end_ms"] if call["end_ms"] is not None else call["ts"]
            call["offset_ms"] = _offset(manifest, sent)
            call["end_offset_ms"] = max(call["offset_ms"], _offset(manifest, answered))
            out.append(call)
    out.sort(key=lambda c: c["offset_ms"])
    return out[:MAX_ROWS], len(out) > MAX_ROWS


def _rows(store: ObjectStore, manifest: dict, entry_of) -> tuple[list[dict], bool]:
    """`entry_of(event)` for each event of the recording that has one, timed and in time order; capped."""
    out: list[dict] = []
    for _, batch in recording.iter_batches(store, manifest):
        for event in batch.get("events") or []:
            entry = entry_of(event)
            if entry is None:
                continue
            if entry["ts"] is None:
                entry["ts"] = batch.get("received_ms")
            entry["offset_ms"] = _offset(manifest, entry["ts"])
            out.append(entry)
    out.sort(key=lambda e: e["offset_ms"])
    return out[:MAX_ROWS], len(out) > MAX_ROWS


def _console_entry(event) -> dict | None:
    entry = ev.console_entry(event)
    if entry is None and (entry := ev.exception(event)) is not None:
        entry["level"] = "error"
    return entry


def console(store: ObjectStore, manifest: dict) -> tuple[list[dict], bool]:
    """Console calls of every level and uncaught errors, in time order."""
    return _rows(store, manifest, _console_entry)


# A tracked event's name and its props (as compact JSON) are cut at these lengths.
MAX_TRACK_NAME_CHARS = 256
MAX_TRACK_PROPS_CHARS = 4000


def _track_entry(event) -> dict | None:
    """A Replay.track(name, props) event as the Events panel lists it; props too long come as cut JSON text."""
    found = ev.custom(event, wire.TAG_TRACK)
    if found is None:
        return None
    ts, p = found
    name = p.get("name")
    if not isinstance(name, str) or not name:
        return None
    props = p.get("props") if isinstance(p.get("props"), dict) else {}
    text = json.dumps(props, separators=(",", ":"), ensure_ascii=False, default=str)
    cut = len(text) > MAX_TRACK_PROPS_CHARS
    return {"ts": ts, "name": name[:MAX_TRACK_NAME_CHARS], "props": text[:MAX_TRACK_PROPS_CHARS] if cut else props,
            "props_truncated": cut}


def tracked(store: ObjectStore, manifest: dict) -> tuple[list[dict], bool]:
    """The page's own events (Replay.track), in time order."""
    return _rows(store, manifest, _track_entry)
