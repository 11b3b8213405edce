"""Links to the viewer that API answers carry (absolute, from REPLAY_PUBLIC_URL or the request's host)."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import request

from replay.web.services import services


def base_url() -> str:
    return (services().settings.PUBLIC_URL or request.host_url).rstrip("/")


def replay_url(session_id: str, t_ms: int | None = None) -> str:
    suffix = f"?t={int(t_ms)}" if t_ms is not None else ""
    return f"{base_url()}/sessions/{session_id}{suffix}"


def call_url(session_id: str, call: str | None) -> str:
    """The replay page opened just before one failed call (or at the start when the call is unknown)."""
    if not call:
        return replay_url(session_id)
    return f"{base_url()}/sessions/{session_id}?{urlencode({'call': call})}"
