"""Links to the viewer that API answers carry (absolute, from REPLAY_PUBLIC_URL or the request's host)."""
from __future__ import annotations

from flask import request

from replay.web.services import services


def base_url() -> str:
    return (services().settings.PUBLIC_URL or request.host_url).rstrip("/")


def replay_url(session_id: str, t_ms: int | None = None) -> str:
    suffix = f"?t={int(t_ms)}" if t_ms is not None else ""
    return f"{base_url()}/sessions/{session_id}{suffix}"


def group_session_url(group_id: str, session_id: str) -> str:
    """The replay page opened at the session's first failed call of one failure group (the viewer finds it)."""
    return f"{base_url()}/failures/{group_id}/sessions/{session_id}"
