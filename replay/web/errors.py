"""Every error leaves as JSON `{"error": {"code", "message"}}` with its status; never a stack trace."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from gunicorn.http.errors import ParseException
from werkzeug.exceptions import HTTPException

from replay.core import metrics
from replay.storage.store import StorageError

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def handle(exc: Exception):
    """The answer to any exception a view raises: ApiError and HTTP errors say their own, a request body gunicorn
    cannot parse is a 400, anything else a 500."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.code, exc.message)
    if isinstance(exc, HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name)
    if isinstance(exc, ParseException):
        # gunicorn parses a chunked body as the view reads it: a malformed one is the client's error.
        return error_response(400, "bad_request", f"the request body cannot be read: {str(exc)[:200]}")
    if isinstance(exc, StorageError):
        metrics.STORAGE_ERRORS.inc()
    log.exception("unhandled error")
    return error_response(500, "internal_error", "the server failed to handle this request")


def init_app(app: Flask) -> None:
    # Blueprints with a handler of their own (replay/ingest/routes.py) hand on what is not theirs to `handle`.
    app.register_error_handler(Exception, handle)
