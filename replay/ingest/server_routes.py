"""POST /ingest/server: the application's account of its failed requests (the SDK in sdk/python, or any language).

`Authorization: Bearer <server key>`; the body is newline-separated JSON events (DESIGN "Server-side
evidence"; README "Send the application's errors"), gzip allowed, at most MAX_SERVER_POST_BYTES as sent
and MAX_SERVER_POST_INFLATED_BYTES once inflated. The answer counts the events accepted and refused,
and names the first refused ones (line number, reason).
"""
from __future__ import annotations

import json
import logging

from flask import Blueprint, Response, current_app, request
from redis.exceptions import RedisError

from replay.ingest.line_posts import inflate, numbered_lines, project_of_request, read_body
from replay.ingest.server_events import ServerEvents
from replay.web.errors import ApiError, error_response

bp = Blueprint("ingest_server", __name__)
log = logging.getLogger(__name__)
EXTENSION = "replay.ingest.server_events"


def server_events() -> ServerEvents:
    return current_app.extensions[EXTENSION]


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return error_response(exc.status, exc.code, exc.message)


@bp.route("/ingest/server", methods=["POST"])
def ingest_server():
    events = server_events()
    s = events.settings
    try:
        project = project_of_request(events.project_of)
        request.max_content_length = s.MAX_SERVER_POST_BYTES  # this route's cap, not the batch endpoint's
        data = inflate(read_body(s.MAX_SERVER_POST_BYTES), s.MAX_SERVER_POST_INFLATED_BYTES)
        numbers, lines = numbered_lines(data)
        outcome = events.store(project, lines)
    except RedisError as exc:
        log.warning("application events refused: Redis unavailable (%s)", exc)
        return error_response(503, "unavailable", "the collector cannot store right now; retry")
    errors = [{"line": numbers[e["line"] - 1], "reason": e["reason"]} for e in outcome.errors]
    body = {"accepted": outcome.accepted, "rejected": outcome.rejected, "errors": errors}
    return Response(json.dumps(body), status=200, mimetype="application/json")
