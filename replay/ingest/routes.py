"""Thin transport around `Ingest`: the websocket loop and the HTTP batch endpoint.

Whatever happens, a socket ends with a close frame (a 4xxx code for bad input,
1013 over a cap, 1011 when a backend failed) and an HTTP request with a JSON
answer (503 when Redis is out of reach, 400 for a handshake the websocket
library refuses): never a raw HTTP response inside an upgraded socket (nothing
raised escapes `ingest_ws`), never a stack trace.
"""
from __future__ import annotations

import json
import logging
import time

from flask import Blueprint, Response, current_app, g, request
from redis.exceptions import RedisError
from simple_websocket import ConnectionClosed
from werkzeug.exceptions import HTTPException
from wsproto.utilities import LocalProtocolError

from replay.core import metrics, wire
from replay.ingest.protocol import ProtocolError
from replay.ingest.service import Connection, Ingest
from replay.ingest.sockets import SocketCaps
from replay.web import errors
from replay.web.extensions import sock

bp = Blueprint("ingest", __name__)
log = logging.getLogger(__name__)

# Where the factory keeps this process's Ingest and socket caps.
EXTENSION = "replay.ingest"
CAPS_EXTENSION = "replay.ingest.caps"


def ingest_service() -> Ingest:
    return current_app.extensions[EXTENSION]


def socket_caps() -> SocketCaps:
    return current_app.extensions[CAPS_EXTENSION]


@bp.errorhandler(Exception)
def _refused_handshake(exc: Exception):
    """A 400 for the handshake the websocket library refused; anything else as every route answers it.

    flask-sock accepts the upgrade before `ingest_ws` runs, so what it raises there (no Sec-WebSocket-Key,
    a version other than 13, an extension offer it cannot parse) is the client's malformed request.
    """
    if request.endpoint == "ingest.ingest_ws" and not g.get("ws_accepted") and not isinstance(exc, HTTPException):
        log.info("websocket handshake refused: %s: %s", type(exc).__name__, exc)
        return errors.error_response(400, "invalid_handshake",
                                     f"not a websocket handshake this server accepts: {str(exc)[:200]}")
    return errors.handle(exc)


@sock.route("/ingest/ws", bp=bp)
def ingest_ws(ws):
    g.ws_accepted = True
    ingest, caps = ingest_service(), socket_caps()
    ip = request.remote_addr or ""
    refused = caps.open(ip)
    if refused:
        metrics.refused("too_many_connections")
        return _close(ws, "too_many_connections", refused, wire.CLOSE_TRY_AGAIN)
    metrics.OPEN_SOCKETS.inc()
    conn = Connection(origin=request.headers.get("Origin"))
    project = None
    try:
        while True:
            waiting_for_hello = conn.hello is None
            data = ws.receive(timeout=ingest.settings.WS_HELLO_TIMEOUT_S if waiting_for_hello
                              else ingest.settings.WS_IDLE_TIMEOUT_S)
            if data is None:
                if not ws.connected:
                    return
                if waiting_for_hello:
                    return _close(ws, "hello_timeout", "no hello in time", wire.CLOSE_TIMEOUT)
                return _close(ws, "idle_timeout", "nothing sent for a while; reconnect when there is",
                              wire.CLOSE_TIMEOUT)
            arrived = time.perf_counter()
            reply = ingest.receive(conn, data)
            if project is None and conn.project is not None:
                refused = caps.join_project(conn.project.key)
                if refused:
                    metrics.refused("too_many_connections")
                    return _close(ws, "too_many_connections", refused, wire.CLOSE_TRY_AGAIN)
                project = conn.project.key
            ws.send(_text(reply))
            if reply["type"] == "ack":
                metrics.ACK_WS.observe(time.perf_counter() - arrived)
    except (ConnectionClosed, OSError):
        pass  # the client went away (a reset connection is an OSError from the socket)
    except ProtocolError as exc:
        metrics.refused(exc.code)
        _close(ws, exc.code, exc.message, exc.close_code)
    except RedisError as exc:
        metrics.refused("unavailable")
        log.warning("ingest socket closed: Redis unavailable (%s)", exc)
        _close(ws, "unavailable", "the collector cannot store right now; retry", wire.CLOSE_SERVER_ERROR)
    except Exception:
        log.exception("ingest socket failed")
        _close(ws, "internal_error", "the collector failed to handle this message", wire.CLOSE_SERVER_ERROR)
    finally:
        metrics.OPEN_SOCKETS.dec()
        caps.close(ip, project)
        _closed(ingest, conn)


def _text(reply: dict) -> str:
    """The reply as JSON; an ack (nearly every frame sent) without the encoder."""
    if reply["type"] == "ack" and len(reply) == 3:
        return '{"type":"ack","seq":%d,"acked":%d}' % (reply["seq"], reply["acked"])
    return json.dumps(reply, separators=(",", ":"))


def _close(ws, code: str, message: str, close_code: int) -> None:
    """Say why, then close; a socket already gone is left alone."""
    try:
        ws.send(json.dumps({"type": "error", "code": code, "message": message}))
        ws.close(reason=close_code, message=message[:120])
    except (ConnectionClosed, OSError, LocalProtocolError):
        pass  # the client went first (its socket may already be torn down: EBADF)


def _closed(ingest: Ingest, conn: Connection) -> None:
    try:
        ingest.closed(conn)
    except RedisError as exc:
        # Each stored batch already made its session due (the append script); this only hurries it.
        log.warning("could not hurry the flush after a socket closed: %s", exc)


def _cors(response: Response, origin: str | None) -> Response:
    # Only a page of a project's own origins may read the answer; nothing tells other sites which keys exist.
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response


@bp.route("/ingest/batch", methods=["OPTIONS"])
def ingest_batch_preflight():
    origin = request.headers.get("Origin")
    response = Response(status=204)
    if origin and ingest_service().accounts.origin_allowed_anywhere(origin):
        _cors(response, origin)
        response.headers["Access-Control-Allow-Methods"] = "POST"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


@bp.route("/ingest/batch", methods=["POST"])
def ingest_batch():
    return _answer(lambda svc, origin, body: svc.http_batch(origin, body))


@bp.route(wire.HEARTBEAT_PATH, methods=["POST"])
def ingest_heartbeat():
    """A page that records on failure loaded (docs/protocol.md, "Heartbeat"): counted; answered with `capture`."""
    return _answer(lambda svc, origin, body: svc.heartbeat(origin, body))


def _answer(handle) -> Response:
    """An HTTP ingest request as JSON; readable by the page (CORS) once its project took its origin."""
    origin = request.headers.get("Origin")
    readable = False
    arrived = time.perf_counter()
    try:
        result = handle(ingest_service(), origin, request.get_data(cache=False))
        body, status, readable = {"ok": True, **result}, 200, True
        metrics.ACK_HTTP.observe(time.perf_counter() - arrived)
    except ProtocolError as exc:
        metrics.refused(exc.code)
        body, status, readable = {"error": {"code": exc.code, "message": exc.message}}, exc.http_status, exc.admitted
    except RedisError as exc:
        metrics.refused("unavailable")
        log.warning("ingest %s refused: Redis unavailable (%s)", request.path, exc)
        body, status = {"error": {"code": "unavailable", "message": "the collector cannot store right now; retry"}}, 503
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    return _cors(response, origin) if readable else response
