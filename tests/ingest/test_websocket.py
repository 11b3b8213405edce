"""The real websocket path: frames in, acks and close codes out."""
import gzip
import io
import json
import tracemalloc
import zlib

import pytest
import websocket
from gunicorn.http.errors import ChunkMissingTerminator, InvalidChunkSize

from replay.ingest import routes
from tests.ingest.fuzz_cases import deflate_bomb
from tests.ingest.rawclient import OP_TEXT, RawWebSocket, frame
from tests.web_fixtures import ORIGIN, SECRET

SESSION, WINDOW = "sess_0123456789abcdef", "win_0123456789abcdef"


def connect(live_server, origin=ORIGIN):
    return websocket.create_connection(f"ws://{live_server}/ingest/ws", origin=origin, timeout=5)


def hello(key):
    return json.dumps({"type": "hello", "v": 1, "key": key, "secret": SECRET, "session": SESSION, "window": WINDOW,
                       "url": ORIGIN + "/", "ua": "pytest"})


def closed_with(ws):
    """Read until the close frame; return (close code, error message seen before it)."""
    error = None
    while True:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return int.from_bytes(data[:2], "big"), error
        if opcode == websocket.ABNF.OPCODE_TEXT:
            error = json.loads(data)


def test_hello_batch_ack_over_text_and_gzip_frames(live_server, project_key, app):
    ws = connect(live_server)
    ws.send(hello(project_key))
    assert json.loads(ws.recv()) == {"type": "ready", "acked": 0}
    ws.send(json.dumps({"type": "batch", "seq": 1, "events": [{"type": 4, "timestamp": 1, "data": {"href": ORIGIN}}]}))
    assert json.loads(ws.recv()) == {"type": "ack", "seq": 1, "acked": 1}
    frame = gzip.compress(json.dumps({"type": "batch", "seq": 2, "events": [{"type": 3, "timestamp": 2, "data": {}}]}).encode())
    ws.send_binary(frame)
    assert json.loads(ws.recv()) == {"type": "ack", "seq": 2, "acked": 2}
    ws.close()
    svc = app.extensions["replay"]
    assert svc.redis.llen(svc.keys.buffer(SESSION)) == 2


def test_bad_json_closes_with_4400(live_server, project_key):
    ws = connect(live_server)
    ws.send("{not json")
    code, error = closed_with(ws)
    assert code == 4400 and error["code"] == "invalid_message"


def test_foreign_origin_closes_with_4403(live_server, project_key):
    ws = connect(live_server, origin="https://evil.example")
    ws.send(hello(project_key))
    code, error = closed_with(ws)
    assert code == 4403 and error["code"] == "origin_not_allowed"


def test_oversized_frame_closes_with_1009_and_the_server_keeps_serving(live_server, project_key):
    ws = connect(live_server)
    ws.send(hello(project_key))
    ws.recv()
    ws.send("x" * (128 * 1024))
    code, _ = closed_with(ws)
    assert code == 1009
    ws2 = connect(live_server)
    ws2.send(hello(project_key))
    assert json.loads(ws2.recv())["type"] == "ready"
    ws2.close()


def test_http_batch_answers_json_with_cors_and_errors(live_server, project_key):
    import requests

    url = f"http://{live_server}/ingest/batch"
    body = {"v": 1, "key": project_key, "secret": SECRET, "session": SESSION, "window": WINDOW, "url": ORIGIN,
            "batches": [{"seq": 1, "events": [{"type": 3, "timestamp": 1, "data": {}}]}]}
    # sendBeacon posts text/plain (no preflight), possibly gzipped.
    r = requests.post(url, data=gzip.compress(json.dumps(body).encode()), headers={"Origin": ORIGIN, "Content-Type": "text/plain"})
    assert r.status_code == 200 and r.json()["stored"] == 1
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    r = requests.post(url, data=json.dumps({**body, "key": "pk_unknownkey"}), headers={"Origin": ORIGIN})
    assert r.status_code == 403 and r.json()["error"]["code"] == "unknown_project"
    r = requests.post(url, data="nope", headers={"Origin": ORIGIN})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_message"
    r = requests.post(url, data=json.dumps({**body, "batches": "x"}), headers={"Origin": ORIGIN})
    assert r.status_code == 400 and "batches" in r.json()["error"]["message"]


@pytest.mark.parametrize("header", [("Sec-WebSocket-Key", None), ("Sec-WebSocket-Version", "12"),
                                    ("Sec-WebSocket-Protocol", "\u00e9".encode("latin-1"))])
def test_a_handshake_the_websocket_library_refuses_is_a_400(live_server, project_key, header):
    # flask-sock accepts the upgrade before the route runs; what it raised there was answered with a 500.
    host, port = live_server.split(":")
    ws = RawWebSocket(host, int(port), "/ingest/ws", [("Origin", ORIGIN), header], 5)
    ws.shutdown()
    assert ws.result.handshake_status == 400
    assert json.loads(ws.result.handshake_body)["error"]["code"] == "invalid_handshake"


def deflated(text: str, compressor) -> bytes:
    """One permessage-deflate message body (RFC 7692: a sync flush, its last four bytes dropped)."""
    return (compressor.compress(text.encode()) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]


def test_compressed_messages_are_taken_and_a_deflate_bomb_is_refused_at_the_cap(live_server, project_key, app):
    # wsproto inflated a compressed frame whole before the size cap saw it: 64 KB on the wire, 64 MB here.
    host, port = live_server.split(":")
    ws = RawWebSocket(host, int(port), "/ingest/ws", [("Origin", ORIGIN),
                                                      ("Sec-WebSocket-Extensions", "permessage-deflate")], 5)
    assert ws.result.handshake_status == 101 and ws.deflate
    c = zlib.compressobj(wbits=-15)  # context kept across messages, as browsers do
    ws.send_raw(frame(OP_TEXT, deflated(hello(project_key), c), rsv=4))
    opcode, payload = ws.read_frame()
    assert json.loads(payload) == {"type": "ready", "acked": 0}
    assert not ws.last_compressed  # our own messages go uncompressed: no compressor per socket
    batch = {"type": "batch", "seq": 1, "events": [{"type": 3, "timestamp": 1, "data": {"text": "x" * 5000}}]}
    ws.send_raw(frame(OP_TEXT, deflated(json.dumps(batch), c), rsv=4))
    assert json.loads(ws.read_frame()[1]) == {"type": "ack", "seq": 1, "acked": 1}
    bomb = frame(OP_TEXT, deflate_bomb(), rsv=4)
    tracemalloc.start()
    try:
        ws.send_raw(bomb)
        ws.drain()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    ws.shutdown()
    assert ws.result.close_code == 1009  # too large, as a plain frame over the cap
    assert peak < 2 * 1024 * 1024, f"the server inflated {peak} bytes for a frame of {len(bomb)}"
    again = connect(live_server)
    again.send(hello(project_key))
    assert json.loads(again.recv())["type"] == "ready"
    again.close()


@pytest.mark.parametrize("error", [BrokenPipeError, ConnectionResetError])
def test_closing_a_socket_whose_client_is_gone_raises_nothing(error):
    # Raised out of the route, it became an HTTP 500 written into the upgraded socket (and a Traceback).
    class Gone:
        def send(self, data):
            raise error()

        def close(self, reason=None, message=None):
            raise error()

    routes._close(Gone(), "invalid_message", "bye", 4400)


@pytest.mark.parametrize("error", [InvalidChunkSize(b"zz"), ChunkMissingTerminator(b"XX")])
def test_a_body_the_server_cannot_read_is_a_400(client, error):
    # gunicorn reads a chunked body as the view asks for it; a malformed one raised through the view: a 500.
    class Malformed(io.BytesIO):
        def read(self, *args):
            raise error

        readinto = readline = read

    r = client.post("/ingest/batch", input_stream=Malformed(b"5\r\nhello"), headers={"Origin": ORIGIN})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_request"


def test_a_heartbeat_is_a_simple_post_the_page_can_read(live_server, project_key):
    import requests

    url = f"http://{live_server}/ingest/heartbeat"
    r = requests.post(url, data=json.dumps({"v": 1, "key": project_key}),
                      headers={"Origin": ORIGIN, "Content-Type": "text/plain;charset=UTF-8"})
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    r = requests.post(url, data=json.dumps({"v": 1, "key": project_key}), headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "Access-Control-Allow-Origin" not in r.headers
