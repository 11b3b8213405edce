"""POST /ingest/logs: proxy log lines from log shippers (Vector, Fluent Bit, `curl --data-binary @access.log`).

`Authorization: Bearer <server key>`; the body is newline-separated lines, gzip allowed
(`Content-Encoding: gzip`), at most MAX_LOG_POST_BYTES as sent and MAX_LOG_POST_INFLATED_BYTES
once inflated (413 past either). The answer counts the lines accepted and refused, and names the
first refused ones with why.
"""
from __future__ import annotations

import json
import logging

from flask import Blueprint, Response, current_app, request
from redis.exceptions import RedisError

from replay.ingest.line_posts import inflate, numbered_lines, project_of_request, read_body
from replay.ingest.proxy_logs import ProxyLogs
from replay.web.errors import ApiError, error_response

bp = Blueprint("ingest_logs", __name__)
log = logging.getLogger(__name__)
EXTENSION = "replay.ingest.proxy_logs"


def proxy_logs() -> ProxyLogs:
    return current_app.extensions[EXTENSION]


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return error_response(exc.status, exc.code, exc.message)


@bp.route("/ingest/logs", methods=["POST"])
def ingest_logs():
    logs = proxy_logs()
    s = logs.settings
    project = project_of_request(logs.project_of)
    request.max_content_length = s.MAX_LOG_POST_BYTES  # this route's cap, not the batch endpoint's
    data = inflate(read_body(s.MAX_LOG_POST_BYTES), s.MAX_LOG_POST_INFLATED_BYTES)
    numbers, lines = numbered_lines(data)
    try:
        outcome = logs.store_lines(project, lines, "http")
    except RedisError as exc:
        log.warning("proxy log lines refused: Redis unavailable (%s)", exc)
        return error_response(503, "unavailable", "the collector cannot store right now; retry")
    errors = [{"line": numbers[e["line"] - 1], "reason": e["reason"]} for e in outcome.errors]
    body = {"accepted": outcome.accepted, "rejected": outcome.rejected, "errors": errors}
    return Response(json.dumps(body), status=200, mimetype="application/json")
