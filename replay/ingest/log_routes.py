"""POST /ingest/logs: proxy log lines from log shippers (Vector, Fluent Bit, `curl --data-binary @access.log`).

`Authorization: Bearer <server key>`; the body is newline-separated lines, gzip allowed
(`Content-Encoding: gzip`), at most MAX_LOG_POST_BYTES as sent and MAX_LOG_POST_INFLATED_BYTES
once inflated (413 past either). The answer counts the lines accepted and refused, and names the
first refused ones with why.
"""
from __future__ import annotations

import json
import logging
import zlib

from flask import Blueprint, Response, current_app, request
from redis.exceptions import RedisError

from replay.ingest.proxy_logs import ProxyLogs
from replay.web.errors import ApiError, error_response

bp = Blueprint("ingest_logs", __name__)
log = logging.getLogger(__name__)
EXTENSION = "replay.ingest.proxy_logs"
READ_CHUNK_BYTES = 64 * 1024


def proxy_logs() -> ProxyLogs:
    return current_app.extensions[EXTENSION]


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return error_response(exc.status, exc.code, exc.message)


def _project(logs: ProxyLogs) -> str:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <server key> (replay project server-key PROJECT)")
    project = logs.project_of(key.strip())
    if project is None:
        raise ApiError(401, "unauthorized", "the server key is not valid (rotated, or never issued)")
    return project


def _body(cap: int) -> bytes:
    """The request body as sent, refused past `cap` bytes whether or not a Content-Length announced it."""
    if request.content_length is not None and request.content_length > cap:
        raise ApiError(413, "too_large", f"the body is {request.content_length} bytes; the limit is {cap}")
    chunks, size = [], 0
    while True:
        chunk = request.stream.read(READ_CHUNK_BYTES)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > cap:
            raise ApiError(413, "too_large", f"the body is more than {cap} bytes; the limit is {cap}")
        chunks.append(chunk)


def _inflate(body: bytes, cap: int) -> bytes:
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip"):
        raise ApiError(415, "unsupported_encoding", f"Content-Encoding {encoding!r}: send gzip or nothing")
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(body, cap + 1)
    except zlib.error as exc:
        raise ApiError(400, "bad_gzip", f"the body is not valid gzip: {exc}") from None
    if len(out) > cap:
        raise ApiError(413, "too_large", f"the body inflates to more than {cap} bytes; the limit is {cap}")
    if not inflater.eof:
        raise ApiError(400, "bad_gzip", "the gzip body is cut short")
    return out


def _numbered(data: bytes) -> tuple[list[int], list[str]]:
    """Non-blank lines and their numbers in the body (as an editor shows them). Bytes that are not UTF-8 become
    replacement characters: one bad byte costs at most its line, never the post."""
    numbers, lines = [], []
    for number, line in enumerate(data.decode("utf-8", "replace").split("\n"), 1):
        if line.strip():
            numbers.append(number)
            lines.append(line)
    return numbers, lines


@bp.route("/ingest/logs", methods=["POST"])
def ingest_logs():
    logs = proxy_logs()
    s = logs.settings
    project = _project(logs)
    request.max_content_length = s.MAX_LOG_POST_BYTES  # this route's cap, not the batch endpoint's
    data = _inflate(_body(s.MAX_LOG_POST_BYTES), s.MAX_LOG_POST_INFLATED_BYTES)
    numbers, lines = _numbered(data)
    try:
        outcome = logs.store_lines(project, lines, "http")
    except RedisError as exc:
        log.warning("proxy log lines refused: Redis unavailable (%s)", exc)
        return error_response(503, "unavailable", "the collector cannot store right now; retry")
    errors = [{"line": numbers[e["line"] - 1], "reason": e["reason"]} for e in outcome.errors]
    body = {"accepted": outcome.accepted, "rejected": outcome.rejected, "errors": errors}
    return Response(json.dumps(body), status=200, mimetype="application/json")
