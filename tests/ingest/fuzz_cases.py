"""The ingest fuzz's cases: valid hellos, batches and HTTP envelopes, then mutated (tests/ingest/fuzz_mutate.py).

A case is built from `random.Random(f"{seed}:{transport}:{index}")` alone, so a seed and an index name
one case exactly, whatever order the cases run in. On top of the message mutations:
- websocket: Origin and handshake headers, frames (text vs binary, fragments, pings, permessage-deflate,
  oversized frames, RFC 6455 violations) and the conversation (batch before hello, two hellos, another
  project's session, a wrong secret, seq games, a flood, silence);
- HTTP: Origin headers, content types and encodings, bodies (empty, huge, cut short, chunked), methods, paths.
"""
from __future__ import annotations

import json
import random
import zlib
from dataclasses import dataclass, field

from replay.core import wire
from tests.ingest import fuzz_values as fv
from tests.ingest.fuzz_mutate import encode, mutate, render, unicode_everywhere
from tests.ingest.rawclient import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, close_payload, frame

# Close codes a client may send (RFC 6455 7.4.1): the server echoes them.
CLIENT_CLOSE_CODES = [1000, 1000, 1000, 1001, 1003, 1008, 1011, 3000, 4000, 4400, 4999]
# Close frames no client may send: the websocket layer answers 1002 (1007 for a reason that is no UTF-8).
BAD_CLOSES = [close_payload(code) for code in (0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535)] + [
    b"\x03", close_payload(1000, b"\xff\xfe"), close_payload(1000, b"x" * 124)]
DEFLATE_OFFER = "permessage-deflate; client_max_window_bits"
BAD_HANDSHAKES = [("Sec-WebSocket-Key", None), ("Sec-WebSocket-Version", "12"), ("Sec-WebSocket-Version", "abc"),
                  ("Sec-WebSocket-Version", None), ("Sec-WebSocket-Key", "short"),
                  ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits=x"),
                  ("Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=99"),
                  ("Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits"),
                  ("Sec-WebSocket-Extensions", "permessage-deflate; client_no_context_takeover=1"),
                  ("Sec-WebSocket-Extensions", "x-webkit-deflate-frame, ,;;=permessage-deflate"),
                  ("Sec-WebSocket-Protocol", "a, b,, \u00e9".encode("latin-1")), ("Upgrade", "WebSocket"),
                  ("Connection", "keep-alive, Upgrade")]
# Headers the client chooses that no browser would send (header injection rides in values gunicorn lets through).
HOSTILE_HEADERS = [("Host", "[::1"), ("Host", "a:b:c"), ("Host", ""), ("Host", "evil.example\u00e9".encode("latin-1")),
                   ("X-Forwarded-For", "1.2.3.4, <script>"), ("X-Replay-Session", "\u00ff" * 100),
                   ("Cookie", "session=" + "x" * 4000), ("Referer", "javascript:alert(1)"),
                   ("User-Agent", "Mozilla/5.0 \u00e9\u00ff".encode("latin-1")), ("Accept", "*/*;q=NaN"),
                   ("Authorization", "Bearer \u00e9"), ("Content-Length", "0"), ("Content-Length", "+5"),
                   ("Transfer-Encoding", "identity"), ("Origin", "http://fuzz.example\r\nX-Injected: 1")]
CONTENT_TYPES = ["text/plain;charset=UTF-8", "text/plain;charset=UTF-8", "application/json", None,
                 "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/octet-stream",
                 "application/json; charset=utf-16", "text/html", "*/*", "garbage", "", "application/json; charset=\u00e9"]


@dataclass(frozen=True)
class Target:
    """Who the fuzz sends as: the project keys, their origins, and sessions bound before the fuzz starts."""

    key: str
    origin: str
    other_key: str
    other_origin: str
    pool: list[tuple[str, str]]  # (session, secret) of the main project
    other_pool: list[tuple[str, str]]  # (session, secret) of the other project
    max_message_bytes: int
    max_inflated_bytes: int
    now_ms: int


@dataclass
class Step:
    """Bytes to send on a websocket; `message` is what the server reassembles, `reply` whether an answer is due."""

    wire: bytes
    reply: bool
    message: bytes | None = None


@dataclass
class WsCase:
    index: int
    headers: list
    steps: list[Step]
    ending: str  # close | abort | wait
    close: bytes = close_payload(1000)  # our close frame's payload, when ending == close
    violation: bool = False  # breaks RFC 6455 itself: the websocket layer may close with 1002 or 1007
    labels: list[str] = field(default_factory=list)
    path: str = "/ingest/ws"


@dataclass
class HttpCase:
    index: int
    method: str
    path: str
    headers: list
    body: bytes | None
    half_close: bool = False
    message: bytes | None = None  # the JSON before it was encoded (gzip...): what an accepted body said
    labels: list[str] = field(default_factory=list)


def pick(rng: random.Random, weighted: dict[str, float]) -> str:
    return rng.choices(list(weighted), list(weighted.values()))[0]


def window_for(rng: random.Random, session: str) -> tuple[str, int]:
    """A fresh window (seq from 1), or one of the session's few shared ones (any seq: gaps, duplicates)."""
    if rng.random() < 0.75:
        return fv.ident(rng, 10, 30), 1
    return f"w{rng.randint(0, 2)}_{session}"[:64], rng.randint(1, 40)


def origin_headers(rng: random.Random, target: Target, labels: list[str], good: float = 0.8) -> list:
    if rng.random() < good:
        return [("Origin", target.origin)]
    variant = rng.choice([None, "null", "", f"{target.origin}, http://b.example", "dup", f"{target.origin}:abc",
                          f"{target.origin}:99999", "http://[::1", "fuzz.example", f"{target.origin}/path?q#f",
                          target.other_origin, target.origin.upper(), f"{target.origin}:80", f"{target.origin}\t",
                          (target.origin + "\u00e9").encode("latin-1"), target.origin + "/" + "a" * 6000,
                          "http://fuzz.\texample", "https://fuzz.example", "http://fuzz.example:8080"])
    labels.append(f"origin:{variant!r}"[:60])
    if variant is None:
        return []
    if variant == "dup":
        return [("Origin", target.origin), ("Origin", "http://b.example")]
    return [("Origin", variant)]


def prepare(rng: random.Random, msg, labels: list[str], p_mutate: float) -> bytes:
    """A message's JSON bytes: times maybe moved to hostile years, maybe mutated, maybe mangled."""
    raws: list[bytes] = []
    if isinstance(msg, dict) and rng.random() < 0.2:
        for b in [msg] if "events" in msg else msg.get("batches") or []:
            hostile_times(rng, b, labels)
    if rng.random() < 0.15:
        unicode_everywhere(rng, msg)
        labels.append("unicode")
    while rng.random() < p_mutate:
        mutate(rng, msg, raws, labels)
        p_mutate *= 0.5
    return render(rng, msg, raws, labels, mangle=0.06)


def hostile_times(rng: random.Random, batch: dict, labels: list[str]) -> None:
    """Event and call times in year 0, 9999 and 33658, negative, fractional, past 2^63."""
    labels.append("hostile-times")
    for event in batch.get("events") or []:
        if rng.random() < 0.5:
            event["timestamp"] = rng.choice([fv.T_YEAR_0, fv.T_YEAR_9999, fv.T_YEAR_33658, -1, -fv.T_YEAR_33658, 0,
                                             0.5, 1e15 + 0.25, 2 ** 53 + 1, 2 ** 63, 1e308])
        payload = event["data"].get("payload") if isinstance(event.get("data"), dict) else None
        if isinstance(payload, dict) and "startTime" in payload and rng.random() < 0.5:
            payload["startTime"] = rng.choice([fv.T_YEAR_0, fv.T_YEAR_9999, fv.T_YEAR_33658, -1, 1e308, 2 ** 64])
            payload["duration"] = rng.choice([1e308, -1, fv.T_YEAR_9999, 0.5])


class WsBuilder:
    """Steps of one websocket conversation; frames compressed when the case offered permessage-deflate."""

    def __init__(self, rng: random.Random, target: Target, labels: list[str], deflate: bool):
        self.rng, self.target, self.labels = rng, target, labels
        self.deflater = zlib.compressobj(6, zlib.DEFLATED, -15) if deflate else None
        self.steps: list[Step] = []
        self.violation = False

    def _mask(self) -> bytes:
        return self.rng.randbytes(4)

    def send(self, msg, p_mutate: float = 0.0, encoded: bool = True) -> None:
        """One message: dict (mutated with p_mutate) or bytes, encoded (gzip...) and framed."""
        rng = self.rng
        plain = prepare(rng, msg, self.labels, p_mutate) if isinstance(msg, dict) else msg
        data, binary = encode(rng, plain, self.labels, self.target.max_inflated_bytes) if encoded else (plain, False)
        self.frames(data, binary, plain)

    def frames(self, data: bytes, binary: bool, plain: bytes) -> None:
        rng, opcode = self.rng, OP_BINARY if binary else OP_TEXT
        if not binary:
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                self.violation = True  # a text frame must hold UTF-8
                self.labels.append("text-frame-not-utf8")
        payload, rsv = data, 0
        if self.deflater is not None and rng.random() < 0.7:
            payload = (self.deflater.compress(data) + self.deflater.flush(zlib.Z_SYNC_FLUSH))[:-4]
            rsv = 4  # RSV1: this message is compressed
        if rng.random() < 0.15 and len(payload) > 1:
            cuts = sorted(rng.sample(range(1, len(payload)), min(len(payload) - 1, rng.randint(1, 4))))
            parts = [payload[a:b] for a, b in zip([0] + cuts, cuts + [len(payload)])]
            self.labels.append(f"fragments:{len(parts)}")
            out = b""
            for i, part in enumerate(parts):
                out += frame(opcode if i == 0 else OP_CONT, part, fin=i == len(parts) - 1, rsv=rsv if i == 0 else 0,
                             mask=self._mask())
                # Not inside a compressed message: wsproto 1.3 then inflates no more of it (1007).
                if rng.random() < 0.2 and i < len(parts) - 1 and not rsv:
                    out += frame(OP_PING, b"between fragments", mask=self._mask())
            self.steps.append(Step(out, True, plain))
            return
        self.steps.append(Step(frame(opcode, payload, rsv=rsv, mask=self._mask()), True, plain))

    def control(self, wire_bytes: bytes, violation: bool = False, label: str = "") -> None:
        self.steps.append(Step(wire_bytes, reply=False))
        self.violation |= violation
        if label:
            self.labels.append(label)

    def frame_game(self) -> None:
        """A frame a browser never sends: oversized, a violation of RFC 6455, or one that stalls."""
        rng, mask = self.rng, self._mask()
        game = rng.choice(["oversized", "deflate-bomb", "unmasked", "rsv", "opcode", "cont-first", "big-ping",
                           "frag-ping", "interrupted", "bad-deflate", "pong", "ping", "empty-text", "empty-binary"])
        self.labels.append(f"frame:{game}")
        if game == "oversized":
            self.steps.append(Step(frame(OP_BINARY, b" " * (self.target.max_message_bytes + 1), mask=mask), True))
        elif game == "deflate-bomb":
            self.steps.append(Step(frame(OP_TEXT, deflate_bomb(), rsv=4, mask=mask), True))
            self.violation |= self.deflater is None  # RSV1 on a socket that did not negotiate compression
        elif game in ("unmasked", "rsv", "opcode", "cont-first", "big-ping", "frag-ping", "interrupted", "bad-deflate"):
            raw = {"unmasked": lambda: frame(OP_TEXT, b"{}", masked=False),
                   "rsv": lambda: frame(OP_TEXT, b"{}", rsv=rng.choice([1, 2, 3, 6]), mask=mask),
                   "opcode": lambda: frame(rng.choice([3, 4, 5, 6, 7, 0xB, 0xC, 0xF]), b"{}", mask=mask),
                   "cont-first": lambda: frame(OP_CONT, b"{}", mask=mask),
                   "big-ping": lambda: frame(OP_PING, b"p" * 126, mask=mask),
                   "frag-ping": lambda: frame(OP_PING, b"p", fin=False, mask=mask),
                   "interrupted": lambda: frame(OP_TEXT, b'{"ty', fin=False, mask=mask) + frame(OP_TEXT, b"{}", mask=mask),
                   "bad-deflate": lambda: frame(OP_TEXT, rng.randbytes(rng.randint(1, 64)), rsv=4, mask=mask)}[game]()
            self.steps.append(Step(raw, True))
            self.violation = True
        elif game == "pong":
            self.control(frame(OP_PONG, b"unsolicited", mask=mask))
        elif game == "ping":
            self.control(frame(OP_PING, rng.randbytes(rng.randint(0, 125)), mask=mask))
        else:
            self.steps.append(Step(frame(OP_TEXT if game == "empty-text" else OP_BINARY, b"", mask=mask), True, b""))


_BOMB: list[bytes] = []


def deflate_bomb() -> bytes:
    """64 MB of spaces as one permessage-deflate payload (about 64 KB)."""
    if not _BOMB:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        chunk = b" " * (1 << 20)
        _BOMB.append(b"".join(c.compress(chunk) for _ in range(64)) + c.flush(zlib.Z_SYNC_FLUSH)[:-4])
    return _BOMB[0]


WS_SCENARIOS = {"normal": 46, "seq": 8, "frames": 9, "batch-first": 4, "two-hellos": 5, "foreign": 4,
                "wrong-secret": 3, "unknown-type": 3, "garbage": 4, "fresh": 0.8, "flood": 0.6, "silent": 0.25,
                "idle": 0.25, "handshake": 3}


def ws_case(seed: str, index: int, target: Target) -> WsCase:
    rng = random.Random(f"{seed}:ws:{index}")
    labels: list[str] = []
    scenario = pick(rng, WS_SCENARIOS)
    labels.append(scenario)
    headers = origin_headers(rng, target, labels, good=0.9 if scenario in ("normal", "fresh", "seq") else 0.75)
    # Frames are compressed here, before the server answers the offer: only with the plain offer it accepts as made.
    deflate = rng.random() < 0.3 and scenario != "handshake"
    if deflate:
        headers.append(("Sec-WebSocket-Extensions", DEFLATE_OFFER))
        labels.append("deflate")
    if scenario == "handshake":
        headers.append(rng.choice(BAD_HANDSHAKES))
        labels.append(f"handshake:{headers[-1]!r}"[:80])
    if rng.random() < 0.05:
        headers.append(("User-Agent", rng.choice(["", "\u00e9\u00ff", "x" * 4000, "() { :; }; echo"]).encode("latin-1")))
    b = WsBuilder(rng, target, labels, deflate)
    session, secret = rng.choice(target.pool)
    if scenario == "fresh":
        session, secret = fv.ident(rng, 8, 64), fv.ident(rng, 16, 64)
    window, seq = window_for(rng, session)
    ending = "close" if rng.random() < 0.75 else "abort"
    close = close_payload(rng.choice(CLIENT_CLOSE_CODES), rng.choice([b"", b"bye", "\u00e9t\u00e9".encode()]))

    if scenario in ("normal", "fresh", "frames", "seq", "handshake"):
        b.send(hello(target, session, secret, window, rng), p_mutate=0.25 if scenario == "normal" else 0.05)
        for _ in range(rng.choice([0, 1, 1, 2, 3, 5])):
            if scenario == "frames" and rng.random() < 0.5:
                b.frame_game()
            msg = batch(target, rng, seq_value(rng, seq, 0.5 if scenario == "seq" else 0.1))
            if rng.random() < 0.01:
                msg["events"] = [{"type": 3, "timestamp": target.now_ms, "data": {}}] * rng.choice([1000, 1001, 5001])
                labels.append(f"events:{len(msg['events'])}")
            b.send(msg, p_mutate=0.35 if scenario == "normal" else 0.05)
            seq += 1
    elif scenario == "batch-first":
        b.send(batch(target, rng, seq), p_mutate=0.1)
        b.send(hello(target, session, secret, window, rng))
    elif scenario == "two-hellos":
        b.send(hello(target, session, secret, window, rng))
        b.send(batch(target, rng, seq))
        other = rng.choice(["pool", "same", "other-project", "other-window"])
        labels.append(f"second:{other}")
        s2, secret2 = rng.choice(target.pool) if other == "pool" else (session, secret)
        second = hello(target, s2, secret2, window if other == "same" else fv.ident(rng, 10, 20), rng)
        if other == "other-project":
            second["key"], (second["session"], second["secret"]) = target.other_key, rng.choice(target.other_pool)
        b.send(second, p_mutate=0.1)
        b.send(batch(target, rng, 1 if other != "same" else seq + 1))
    elif scenario == "foreign":
        how = rng.choice(["their-session", "their-key-our-origin"])
        labels.append(how)
        msg = hello(target, session, secret, window, rng)
        msg["key"] = target.other_key
        if how == "their-session":
            headers[:] = [h for h in headers if h[0] != "Origin"] + [("Origin", target.other_origin)]
        b.send(msg)
        b.send(batch(target, rng, 1))
    elif scenario == "wrong-secret":
        b.send(hello(target, session, fv.ident(rng, 16, 64), window, rng))
        b.send(batch(target, rng, 1))
    elif scenario == "unknown-type":
        msg = batch(target, rng, 1)
        msg["type"] = rng.choice(["ping", "HELLO", "", None, 1, ["hello"], {"t": "batch"}, "batch\u0000", "hello "])
        if rng.random() < 0.3:
            del msg["type"]
        if rng.random() < 0.5:
            b.send(hello(target, session, secret, window, rng))
        b.send(msg)
    elif scenario == "garbage":
        b.send(hello(target, session, secret, window, rng), p_mutate=0.2)
        for _ in range(rng.randint(1, 3)):
            junk = rng.choice([rng.randbytes(rng.randint(0, 300)), json.dumps(fv.weird_value(rng)).encode(),
                               b"", b"{", b"\xff\xfe{}", b"{}" * 1000])
            b.send(junk)
    elif scenario == "flood":
        b.send(hello(target, session, secret, fv.ident(rng, 12, 12), rng))
        for i in range(1, 61):  # as bytes: prepare() would mangle one of sixty before the limit is reached
            b.send(json.dumps({"type": "batch", "seq": i, "events": []}).encode(), encoded=False)
    elif scenario == "idle":
        b.send(hello(target, session, secret, window, rng))
    if scenario in ("silent", "idle"):
        ending = "wait"
    elif rng.random() < 0.04:
        b.control(frame(OP_CLOSE, rng.choice(BAD_CLOSES), mask=b._mask()), violation=True, label="bad-close")
        ending = "wait"
    path = "/ingest/ws"
    if rng.random() < 0.02:
        path = rng.choice(["/ingest/ws?x=1", "/ingest/ws/", "//ingest/ws", "/ingest/ws?" + "a" * 3000, "/ingest/%77s"])
        labels.append(f"path:{path[:30]}")
    return WsCase(index, headers, b.steps, ending, close, b.violation, labels, path)


def hello(target: Target, session: str, secret: str, window: str, rng: random.Random) -> dict:
    msg = {"type": "hello", "v": wire.PROTOCOL_VERSION, "key": target.key, "session": session, "window": window,
           "url": fv.url(rng, target.origin), "ua": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", "secret": secret,
           "ts": target.now_ms}
    if rng.random() < 0.15:
        msg["ua"] = rng.choice(fv.WEIRD_STRINGS)
    return msg


def batch(target: Target, rng: random.Random, seq) -> dict:
    return {"type": "batch", "seq": seq, "events": fv.events(rng, target.origin, target.now_ms)}


def seq_value(rng: random.Random, usual: int, p_odd: float):
    if rng.random() >= p_odd:
        return usual
    return rng.choice([0, -1, 1, usual + 5, 2 ** 31, 2 ** 31 - 1, 2 ** 40, 2 ** 53 + 1, wire.MAX_SEQ,
                       wire.MAX_SEQ + 1, 1.0, 1.5, True, False, "1", None, [1], -0.0, 1e308])


HTTP_SCENARIOS = {"normal": 55, "seq": 6, "foreign": 4, "wrong-secret": 3, "fresh": 0.8, "preflight": 7,
                  "method": 3, "garbage": 5, "empty": 3, "chunked": 5, "cut-short": 1.5, "huge": 1, "many-batches": 1.5}


def http_case(seed: str, index: int, target: Target) -> HttpCase:
    rng = random.Random(f"{seed}:http:{index}")
    labels: list[str] = []
    scenario = pick(rng, HTTP_SCENARIOS)
    labels.append(scenario)
    headers = origin_headers(rng, target, labels, good=0.9 if scenario in ("normal", "fresh", "seq") else 0.7)
    session, secret = rng.choice(target.pool)
    if scenario == "fresh":
        session, secret = fv.ident(rng, 8, 64), fv.ident(rng, 16, 64)
    window, seq = window_for(rng, session)
    env = hello(target, session, secret, window, rng)
    del env["type"]
    env["batches"] = []
    count = rng.choice([41, 45, 201]) if scenario == "many-batches" else rng.choice([1, 1, 2, 3, 5])
    for i in range(count):
        b = batch(target, rng, seq_value(rng, seq + i, {"seq": 0.5, "many-batches": 0}.get(scenario, 0.05)))
        if scenario == "many-batches":
            b["events"] = b["events"][:1]
        del b["type"]
        env["batches"].append(b)
    if scenario == "foreign":
        env["key"] = target.other_key
        if rng.random() < 0.6:
            headers = [("Origin", target.other_origin)]
    elif scenario == "wrong-secret":
        env["secret"] = fv.ident(rng, 16, 64)
    method, path = "POST", "/ingest/batch"
    if scenario == "preflight":
        method = "OPTIONS"
        headers += [("Access-Control-Request-Method", rng.choice(["POST", "GET", "DELETE"])),
                    ("Access-Control-Request-Headers", rng.choice(["content-type", "x-evil", ""]))]
    elif scenario == "method":
        method, path = rng.choice([("GET", "/ingest/batch"), ("PUT", "/ingest/batch"), ("DELETE", "/ingest/batch"),
                                   ("HEAD", "/ingest/batch"), ("POST", "/ingest/batch/"), ("POST", "/ingest/batch?x=1"),
                                   ("POST", "/ingest//batch"), ("POST", "/ingest/ws"), ("POST", "/ingest/batch%00"),
                                   ("PATCH", "/ingest/batch"), ("POST", "http://fuzz.example/ingest/batch"),
                                   ("OPTIONS", "*"), ("POST", "/ingest/batch?" + "x" * 5000),
                                   ("POST", "/ingest/batch#frag"), ("POST", "/%69ngest/batch"),
                                   ("GET", "/ingest/ws"), ("OPTIONS", "/ingest/ws"), ("HEAD", "/ingest/ws")])
        labels.append(f"{method} {path}")
    data = prepare(rng, env, labels, p_mutate=0.45 if scenario == "normal" else 0.05)
    body: bytes | None = data
    half_close = False
    if scenario == "garbage":
        body = rng.choice([rng.randbytes(rng.randint(1, 500)), json.dumps(fv.weird_value(rng)).encode(), b"{"])
    elif scenario == "empty":
        body = rng.choice([b"", None, b" ", b"\x1f\x8b"])
    elif scenario == "huge":
        body = b'{"v":1,"pad":"' + b"x" * (target.max_message_bytes * 2) + b'"}'
    elif scenario == "cut-short":
        headers.append(("Content-Length", str(len(data) + rng.randint(1, 1000))))
        half_close = True
    elif scenario == "chunked":
        headers.append(("Transfer-Encoding", "chunked"))
        body = chunked(rng, data, labels)
        half_close = True  # a chunk announced longer than sent waits for more, as it should
    else:
        body, _ = encode(rng, data, labels, target.max_inflated_bytes)
    if scenario != "chunked" and rng.random() < 0.95:
        content_type = rng.choice(CONTENT_TYPES)
        if content_type is not None:
            headers.append(("Content-Type", content_type.encode("latin-1")))
    if rng.random() < 0.05:
        headers.append(("Content-Encoding", rng.choice(["gzip", "br", "identity", "x"])))
    if rng.random() < 0.03:
        headers.append(rng.choice(HOSTILE_HEADERS))
        labels.append(f"header:{headers[-1]!r}"[:60])
    if rng.random() < 0.03:
        headers.append(("Expect", "100-continue"))
    return HttpCase(index, method, path, headers, body, half_close, data, labels)


def chunked(rng: random.Random, data: bytes, labels: list[str]) -> bytes:
    """Chunked transfer encoding, well formed or not."""
    how = rng.choice(["ok", "ok", "ok", "bad-size", "no-terminator", "extension", "huge-size", "negative"])
    labels.append(f"chunked:{how}")
    half = len(data) // 2
    ok = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (half, data[:half], len(data) - half, data[half:])
    return {"ok": ok, "bad-size": b"zz\r\n" + data + b"\r\n0\r\n\r\n",
            "no-terminator": b"%x\r\n%sXX0\r\n\r\n" % (len(data), data),
            "extension": b"%x;name=\"v\"\r\n%s\r\n0\r\n\r\n" % (len(data), data),
            "huge-size": b"ffffffffffffffffffff\r\n" + data + b"\r\n0\r\n\r\n",
            "negative": b"-1\r\n" + data + b"\r\n0\r\n\r\n"}[how]
