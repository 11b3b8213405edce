"""ASGI middleware (FastAPI, Starlette, Django's ASGI handler): reports each request that fails to replay.

A request fails when the app answers 5xx or raises; the exception is re-raised unchanged. The report is
queued for the background sender, so the app's answer is never delayed by it. A request still running past
the client's in_flight_after_ms is sent as in flight meanwhile, with its task's await stack.
"""
from __future__ import annotations

from typing import Optional

from replay_sdk.client import Client, default_client
from replay_sdk.context import CURRENT, RequestState
from replay_sdk.events import url_of
from replay_sdk.inflight import current_task

SESSION_HEADER = b"x-replay-session"


def _header(scope, name: bytes) -> Optional[str]:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _url(scope) -> str:
    host = _header(scope, b"host")
    if not host and scope.get("server"):
        server_host, port = scope["server"][0], scope["server"][1]
        host = server_host if port in (None, 80, 443) else f"{server_host}:{port}"
    path = scope.get("root_path", "") + scope.get("path", "")
    query = (scope.get("query_string") or b"").decode("latin-1")
    return url_of(scope.get("scheme", "http"), host or "", path, query)


class ReplayASGIMiddleware:
    """app.add_middleware(ReplayASGIMiddleware) (FastAPI/Starlette), or app = ReplayASGIMiddleware(app)."""

    def __init__(self, app, client: Optional[Client] = None, **options):
        self.app = app
        self.client = client or (Client(**options) if options else default_client())

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http" or not self.client.enabled:
            return await self.app(scope, receive, send)
        state = RequestState()
        token = CURRENT.set(state)
        self.client.watch(state, scope.get("method", "GET"), _url(scope), _header(scope, SESSION_HEADER),
                          current_task())

        async def watched_send(message):
            if message.get("type") == "http.response.start":
                state.status = int(message.get("status", 0)) or None
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception as exc:
            state.exception = state.exception or exc
            state.status = state.status if (state.status or 0) >= 500 else 500
            self.client.done(state)
            raise
        except (SystemExit, KeyboardInterrupt) as exc:  # the process ends on this request
            self.client.interrupted(state, exc)
            raise
        except BaseException:  # cancelled (the client went away): no longer watched, nothing more sent
            self.client.forget(state)
            raise
        finally:
            CURRENT.reset(token)
        self.client.done(state)
