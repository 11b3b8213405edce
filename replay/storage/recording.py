"""Reading a stored session back: its manifest, its events in time order, the list of sessions."""
from __future__ import annotations

import gzip
import json
import math
import re
from typing import Iterator

from replay.core import events as ev
from replay.core.keys import ID_PATTERN, manifest_key, segment_key, segments_prefix, sessions_prefix
from replay.core.mutations import unpack
from replay.storage.store import NotFound, ObjectStore, StorageError


def _json(data: bytes, key: str):
    try:
        # Stored before ingest refused them, NaN and Infinity would make the JSON we serve unreadable.
        return json.loads(data, parse_constant=_no_number, parse_float=_finite_or_none)
    except ValueError as exc:
        raise StorageError(f"{key} is not valid JSON") from exc


def _no_number(_name: str) -> None:
    return None


def _finite_or_none(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


def load_manifest(store: ObjectStore, session: str) -> dict | None:
    """The session's manifest, or None if it has none (or the id is not a session id)."""
    if not ID_PATTERN.match(session or ""):
        return None
    key = manifest_key(session)
    try:
        return _json(store.get(key), key)
    except NotFound:
        return None


def save_manifest(store: ObjectStore, manifest: dict, new: bool = False) -> bool:
    """Write the manifest (one object, replaced whole). `new`: only if the session has none yet (False if it has)."""
    data = json.dumps(manifest, separators=(",", ":"), sort_keys=True).encode()
    if new:
        return store.put_new(manifest_key(manifest["session"]), data, "application/json")
    store.put(manifest_key(manifest["session"]), data, "application/json")
    return True


def encode_segment(session: str, window: str, batches: list[dict]) -> bytes:
    """gzip JSON; mtime 0 so that the same batches always give the same bytes."""
    body = json.dumps({"session": session, "window": window, "batches": batches}, separators=(",", ":"))
    return gzip.compress(body.encode(), mtime=0)


def read_segment(store: ObjectStore, key: str) -> dict:
    """One segment object, decoded."""
    data = store.get(key)
    try:
        data = gzip.decompress(data)
    except (OSError, EOFError) as exc:
        raise StorageError(f"{key} is not gzip") from exc
    return _json(data, key)


def _in_time_order(batches) -> list[dict]:
    """The batches' events sorted by time (stable), packed mutations unpacked (replay/core/mutations.py); an event
    without a time takes its batch's arrival."""
    timed: list[tuple[int, int, dict]] = []
    for batch in batches:
        fallback = batch.get("received_ms") or 0
        for event in batch.get("events") or []:
            ts = ev.timestamp(event)
            timed.append((ts if ts is not None else fallback, len(timed), event))
    timed.sort(key=lambda item: (item[0], item[1]))
    return [unpack(event) for _, _, event in timed]


def iter_events(store: ObjectStore, session: str) -> Iterator[dict]:
    """Every event of the session, each batch once, in time order (stable for equal timestamps)."""
    if not ID_PATTERN.match(session or ""):
        return
    seen: set[tuple[str, int]] = set()
    kept: list[dict] = []
    # A retried flush may have written an overlapping segment: a (window, seq) batch counts once.
    for key in store.list(segments_prefix(session)):
        segment = read_segment(store, key)
        window = segment.get("window")
        for batch in segment.get("batches") or []:
            mark = (window, batch.get("seq"))
            if mark not in seen:
                seen.add(mark)
                kept.append(batch)
    yield from _in_time_order(kept)


def segment_span(batches: list[dict]) -> list[int]:
    """[first, last] event time of a segment's batches (epoch ms; arrival time for events without one)."""
    times = [ts if (ts := ev.timestamp(e)) is not None else (b.get("received_ms") or 0)
             for b in batches for e in (b.get("events") or [])]
    times = times or [b.get("received_ms") or 0 for b in batches] or [0]
    return [min(times), max(times)]


_SEGMENT_KEY = re.compile(r"segments/([A-Za-z0-9_-]{8,64})/(\d{10})-(\d{10})\.json\.gz\Z")
SEGMENT_ID = re.compile(r"\A([A-Za-z0-9_-]{8,64})\.(\d{1,10})-(\d{1,10})\Z")


def list_segments(store: ObjectStore, manifest: dict, timed: bool = True) -> list[dict]:
    """The session's segments in time order, each batch in exactly one of them.

    Each: id ("window.first-last"), window, first_seq, last_seq, start_ms, end_ms, and
    from_seq (a segment overlapping an earlier one of its window, from a retried flush,
    gives only its batches from there on). Windows of several tabs may overlap in time:
    a reader feeding a player merges them by event time (the replay page does).
    timed=False: in key order and without times (never opens a segment).
    """
    parsed = []
    for key in manifest.get("segments") or []:
        found = _SEGMENT_KEY.search(key)
        if found and key == segment_key(manifest["session"], found[1], int(found[2]), int(found[3])):
            parsed.append((found[1], int(found[2]), int(found[3]), key))
    spans = manifest.get("segment_spans") or {}
    out, covered = [], {}
    for window, first, last, key in sorted(parsed, key=lambda p: (p[0], p[1], -p[2])):
        done = covered.get(window, 0)
        if last <= done:
            continue
        covered[window] = last
        entry = {"id": f"{window}.{first}-{last}", "window": window, "first_seq": first, "last_seq": last,
                 "from_seq": max(first, done + 1), "key": key}
        out.append(entry)
        if not timed:
            continue
        span = spans.get(key)
        if not span or entry["from_seq"] != first:
            # Manifests written before spans were kept, or a partly covered segment: open it.
            span = segment_span(_batches(store, entry))
        entry["start_ms"], entry["end_ms"] = span
    if timed:
        out.sort(key=lambda e: (e["start_ms"], e["end_ms"], e["window"], e["first_seq"]))
    return out


def _batches(store: ObjectStore, entry: dict) -> list[dict]:
    segment = read_segment(store, entry["key"])
    return [b for b in segment.get("batches") or []
            if isinstance(b.get("seq"), int) and entry["from_seq"] <= b["seq"] <= entry["last_seq"]]


def segment_events(store: ObjectStore, entry: dict) -> list[dict]:
    """One listed segment's events in time order."""
    return _in_time_order(_batches(store, entry))


def iter_batches(store: ObjectStore, manifest: dict) -> Iterator[tuple[str, dict]]:
    """(window, batch) of every batch once, segment by segment in time order; events as recorded."""
    for entry in list_segments(store, manifest):
        for batch in _batches(store, entry):
            yield entry["window"], batch


def list_sessions(store: ObjectStore) -> Iterator[str]:
    """Ids of every session with anything in storage."""
    root = sessions_prefix()
    for prefix in store.list(root, delimiter="/"):
        if prefix.endswith("/"):
            session = prefix[len(root):-1]
            if ID_PATTERN.match(session):
                yield session
