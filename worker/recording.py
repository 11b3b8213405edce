"""Reading a stored session back: its manifest, its events in time order, the list of sessions."""
from __future__ import annotations

import gzip
import json
from typing import Iterator

from worker import events as ev
from worker.keys import ID_PATTERN, manifest_key, segments_prefix, sessions_prefix
from worker.storage import NotFound, ObjectStore, StorageError


def _json(data: bytes, key: str):
    try:
        return json.loads(data)
    except ValueError as exc:
        raise StorageError(f"{key} is not valid JSON") from exc


def load_manifest(store: ObjectStore, session: str) -> dict | None:
    """The session's manifest, or None if it has none (or the id is not a session id)."""
    if not ID_PATTERN.match(session or ""):
        return None
    key = manifest_key(session)
    try:
        return _json(store.get(key), key)
    except NotFound:
        return None


def save_manifest(store: ObjectStore, manifest: dict) -> None:
    """Write the manifest (one object, replaced whole)."""
    data = json.dumps(manifest, separators=(",", ":"), sort_keys=True).encode()
    store.put(manifest_key(manifest["session"]), data, "application/json")


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


def iter_events(store: ObjectStore, session: str) -> Iterator[dict]:
    """Every event of the session, each batch once, in time order (stable for equal timestamps)."""
    if not ID_PATTERN.match(session or ""):
        return
    seen: set[tuple[str, int]] = set()
    timed: list[tuple[int, int, dict]] = []
    # A retried flush may have written an overlapping segment: a (window, seq) batch counts once.
    for key in store.list(segments_prefix(session)):
        segment = read_segment(store, key)
        window = segment.get("window")
        for batch in segment.get("batches") or []:
            mark = (window, batch.get("seq"))
            if mark in seen:
                continue
            seen.add(mark)
            fallback = batch.get("received_ms") or 0
            for event in batch.get("events") or []:
                ts = ev.timestamp(event)
                timed.append((ts if ts is not None else fallback, len(timed), event))
    timed.sort(key=lambda item: (item[0], item[1]))
    for _, _, event in timed:
        yield event


def list_sessions(store: ObjectStore) -> Iterator[str]:
    """Ids of every session with anything in storage."""
    root = sessions_prefix()
    for prefix in store.list(root, delimiter="/"):
        if prefix.endswith("/"):
            session = prefix[len(root):-1]
            if ID_PATTERN.match(session):
                yield session
