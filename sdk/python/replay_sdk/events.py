"""One failed request (or one still running long) as the event `POST /ingest/server` takes (replay's DESIGN, "Server-side evidence")."""
from __future__ import annotations

import linecache
import os
import time
import traceback
from typing import Optional

from replay_sdk.context import MAX_MESSAGE_CHARS, RequestState
from replay_sdk.privacy import mask_query

VERSION = 1
MAX_FRAMES = 64
MAX_URL_CHARS = 4096
MAX_CODE_CHARS = 500
_OWN_DIR = os.path.dirname(os.path.abspath(__file__))


def type_name(exc: BaseException) -> str:
    cls = type(exc)
    module = getattr(cls, "__module__", "") or ""
    return cls.__qualname__ if module in ("builtins", "__main__", "") else f"{module}.{cls.__qualname__}"


def stack_of(exc: BaseException) -> list:
    """Frames from the outermost to where it raised: file, line, function and the source line (linecache)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not os.path.abspath(f.filename).startswith(_OWN_DIR + os.sep)]
    return [{"file": f.filename, "line": f.lineno, "function": f.name,
             "code": (f.line or "")[:MAX_CODE_CHARS] or None} for f in frames[-MAX_FRAMES:]]


def frames_of(frame) -> list:
    """A live frame's stack, outermost first (the SDK's own frames left out), as stack_of gives an exception's."""
    chain = []
    while frame is not None and len(chain) < 4 * MAX_FRAMES:
        chain.append(frame)
        frame = frame.f_back
    return frame_list(chain[::-1])


def frame_list(frames: list) -> list:
    """Frame objects, outermost first, as the events carry them (the SDK's own left out, the innermost kept)."""
    out = []
    for frame in frames:
        code = frame.f_code
        if not os.path.abspath(code.co_filename).startswith(_OWN_DIR + os.sep):
            line = frame.f_lineno
            out.append({"file": code.co_filename, "line": line, "function": code.co_name,
                        "code": linecache.getline(code.co_filename, line).strip()[:MAX_CODE_CHARS] or None})
    return out[-MAX_FRAMES:]


def exception_of(exc: Optional[BaseException]) -> Optional[dict]:
    if exc is None:
        return None
    try:
        message = str(exc)
    except Exception:  # an exception whose __str__ fails still has a type and a stack
        message = ""
    return {"type": type_name(exc), "message": message[:MAX_MESSAGE_CHARS], "stack": stack_of(exc)}


def url_of(scheme: str, host: str, path: str, query: str) -> str:
    """The request's URL with secret-named query values masked, cut to what the collector takes."""
    url = f"{scheme}://{host}{path or '/'}" if host else (path or "/")
    if query:
        url += "?" + mask_query(query)
    return url[:MAX_URL_CHARS]


def build(state: RequestState, method: str, url: str, session: Optional[str], service: Optional[str],
          release: Optional[str]) -> dict:
    return {
        "v": VERSION, "type": "request", "request_id": state._request_id, "session": session or None,
        "time_ms": state.started_ms,
        "method": method, "url": url, "status": state.status or 500,
        "duration_ms": round((time.perf_counter() - state.started) * 1000, 3),
        "service": service, "release": release,
        "exception": exception_of(state.exception), "logs": list(state.logs),
    }


def build_in_flight(state: RequestState, stack: list, service: Optional[str], release: Optional[str]) -> dict:
    """The request as it stands while it still runs: how long so far, where it is, its WARNING+ records so far."""
    method, url, session = state.request
    return {
        "v": VERSION, "type": "in_flight", "request_id": state.request_id, "session": session or None,
        "time_ms": state.started_ms, "method": method, "url": url,
        "elapsed_ms": round((time.perf_counter() - state.started) * 1000, 3),
        "service": service, "release": release, "stack": stack, "logs": list(state.logs),
    }
