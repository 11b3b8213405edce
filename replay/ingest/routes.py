"""Thin transport around `Ingest`: the websocket loop and the HTTP batch endpoint."""
from __future__ import annotations

import json
import logging

from flask import Blueprint, Response, current_app, request
from simple_websocket import ConnectionClosed

from replay.ingest.protocol import ProtocolError
from replay.ingest.service import Connection, Ingest
from replay.web.extensions import sock

bp = Blueprint("ingest", __name__)
log = logging.getLogger(__name__)

# Where the factory keeps this process's Ingest.
EXTENSION = "replay.ingest"


def ingest_service() -> Ingest:
    return current_app.extensions[EXTENSION]


@sock.route("/ingest/ws", bp=bp)
def ingest_ws(ws):
    ingest = ingest_service()
    conn = Connection(origin=request.headers.get("Origin"))
    try:
        while True:
            data = ws.receive()
            if data is None:
                continue
            try:
                reply = ingest.receive(conn, data)
            except ProtocolError as exc:
                ws.send(json.dumps(exc.as_message()))
                ws.close(reason=exc.close_code, message=exc.message[:120])
                return
            ws.send(json.dumps(reply, separators=(",", ":")))
    except ConnectionClosed:
        pass
    finally:
        ingest.closed(conn)


def _cors(response: Response, origin: str | None) -> Response:
    # Only the origin's own page can read the answer; the project check decides what is stored.
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response


@bp.route("/ingest/batch", methods=["OPTIONS"])
def ingest_batch_preflight():
    response = _cors(Response(status=204), request.headers.get("Origin"))
    response.headers["Access-Control-Allow-Methods"] = "POST"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


@bp.route("/ingest/batch", methods=["POST"])
def ingest_batch():
    origin = request.headers.get("Origin")
    try:
        result = ingest_service().http_batch(origin, request.get_data(cache=False))
        body, status = {"ok": True, **result}, 200
    except ProtocolError as exc:
        body, status = {"error": {"code": exc.code, "message": exc.message}}, exc.http_status
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    return _cors(response, origin)
