"""A session's network calls and console entries, read from its recording for the replay page's panels."""
from __future__ import annotations

from replay.core import events as ev
from replay.storage import recording
from replay.core import route_folding
from replay.storage.store import ObjectStore

# A panel lists at most this many rows; the response says when it stopped.
MAX_ROWS = 20_000


def _offset(manifest: dict, ts: int | None) -> int:
    started = manifest.get("started_ms") or 0
    return max(0, (ts if ts is not None else started) - started)


def calls(store: ObjectStore, manifest: dict, max_body_chars: int) -> tuple[list[dict], bool]:
    """Every fetch/XHR call in time order; failed ones carry the manifest's call id ("window:seq:n")."""
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
            call["offset_ms"] = _offset(manifest, call["ts"])
            out.append(call)
    out.sort(key=lambda c: c["offset_ms"])
    return out[:MAX_ROWS], len(out) > MAX_ROWS


def console(store: ObjectStore, manifest: dict) -> tuple[list[dict], bool]:
    """Console calls of every level and uncaught errors, in time order."""
    out: list[dict] = []
    for _, batch in recording.iter_batches(store, manifest):
        for event in batch.get("events") or []:
            entry = ev.console_entry(event)
            if entry is None and (entry := ev.exception(event)) is not None:
                entry["level"] = "error"
            if entry is None:
                continue
            if entry["ts"] is None:
                entry["ts"] = batch.get("received_ms")
            entry["offset_ms"] = _offset(manifest, entry["ts"])
            out.append(entry)
    out.sort(key=lambda e: e["offset_ms"])
    return out[:MAX_ROWS], len(out) > MAX_ROWS
