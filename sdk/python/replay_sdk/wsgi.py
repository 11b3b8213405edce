"""WSGI middleware (Flask, Django, any WSGI app): reports each request that fails to replay.

A request fails when the app answers 5xx or raises; the exception is re-raised unchanged. The report is
queued for the background sender, so the app's answer is never delayed by it. A request still running past
the client's in_flight_after_ms is sent as in flight meanwhile (replay_sdk/inflight.py).
"""
from __future__ import annotations

import sys
from typing import Optional

from replay_sdk.client import Client, default_client
from replay_sdk.context import CURRENT, RequestState
from replay_sdk.events import url_of

SESSION_HEADER = "HTTP_X_REPLAY_SESSION"


def _url(environ: dict) -> str:
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    if not environ.get("HTTP_HOST") and environ.get("SERVER_PORT") not in (None, "80", "443"):
        host = f"{host}:{environ['SERVER_PORT']}"
    path = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1", "replace") \
        .decode("utf-8", "replace")
    return url_of(environ.get("wsgi.url_scheme", "http"), host, path, environ.get("QUERY_STRING", ""))


class ReplayMiddleware:
    """app.wsgi_app = ReplayMiddleware(app.wsgi_app) (Flask); application = ReplayMiddleware(application)."""

    def __init__(self, app, client: Optional[Client] = None, **options):
        self.app = app
        self.client = client or (Client(**options) if options else default_client())

    def __call__(self, environ, start_response):
        if not self.client.enabled:
            return self.app(environ, start_response)
        state = RequestState()
        token = CURRENT.set(state)
        self.client.watch(state, environ.get("REQUEST_METHOD", "GET"), _url(environ), environ.get(SESSION_HEADER))

        def start(status, headers, exc_info=None):
            try:
                state.status = int(str(status)[:3])
            except ValueError:
                pass
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        try:
            result = self.app(environ, start)
        except Exception as exc:
            state.exception = state.exception or exc
            self.client.done(state)
            raise
        except BaseException as exc:  # SystemExit, KeyboardInterrupt: the process ends on this request
            self.client.interrupted(state, exc)
            raise
        finally:
            CURRENT.reset(token)
        if state.status is not None:
            self.client.done(state, ending=False)  # most apps have answered: report a failure before the body
        return _Body(result, lambda exc: self._body_done(state, exc))

    def _body_done(self, state: RequestState, exc: Optional[BaseException]) -> None:
        if exc is not None:
            state.exception = state.exception or exc
            state.status = state.status if (state.status or 0) >= 500 else 500
        self.client.done(state)


class _Body:
    """The app's response iterable, watched: an exception while it streams is reported too; close() passes on."""

    def __init__(self, result, done):
        self.result, self.done, self.finished = result, done, False

    def __iter__(self):
        try:
            for chunk in self.result:
                yield chunk
        except Exception:
            self._end(sys.exc_info()[1])
            raise

    def _end(self, exc) -> None:
        if not self.finished:
            self.finished = True
            self.done(exc)

    def close(self):
        try:
            close = getattr(self.result, "close", None)
            if close is not None:
                close()
        finally:
            self._end(None)
