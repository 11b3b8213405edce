"""A session's server-side evidence object: what the proxy logged and the app raised about each failed call,
kept beside its manifest.

{"v": 1, "session", "updated_ms", "calls": {call id: {"proxy": {"matched_by", access fields..., "error_log"},
"server": {"matched_by", "time_ms", "method", "url", "status", "duration_ms", "service", "release", "exception",
"logs", "logs_omitted"}}}} (either may be absent).
Written by the worker's join (worker/evidence.py); read with the manifest by the API and the viewer, so
`replay reindex` has nothing to rebuild: the evidence lives in object storage like the recording.
"""
from __future__ import annotations

import json

from replay.core.keys import ID_PATTERN, evidence_key
from replay.storage.store import NotFound, ObjectStore, StorageError

VERSION = 1


def load_evidence(store: ObjectStore, session: str) -> dict:
    """The session's evidence by call id ({} when none was joined)."""
    if not ID_PATTERN.match(session or ""):
        return {}
    key = evidence_key(session)
    try:
        data = json.loads(store.get(key))
    except NotFound:
        return {}
    except ValueError as exc:
        raise StorageError(f"{key} is not valid JSON") from exc
    calls = data.get("calls") if isinstance(data, dict) else None
    return calls if isinstance(calls, dict) else {}


def save_evidence(store: ObjectStore, session: str, calls: dict, updated_ms: int) -> None:
    """Replace the session's evidence object."""
    body = {"v": VERSION, "session": session, "updated_ms": updated_ms, "calls": calls}
    store.put(evidence_key(session), json.dumps(body, separators=(",", ":"), sort_keys=True).encode(),
              "application/json")
