"""Raw HTTP and websocket clients for the fuzz test: every byte on the wire is the test's to choose.

A websocket library would refuse to send a malformed frame and would mis-read a raw
HTTP response written into an upgraded socket; these read what the server really sent.
"""
from __future__ import annotations

import base64
import os
import socket
import struct
import zlib
from dataclasses import dataclass, field

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class Closed(Exception):
    """The peer closed the TCP connection."""


@dataclass
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: bytes


def frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0, masked: bool = True,
          length: int | None = None, mask: bytes | None = None) -> bytes:
    """One websocket frame as a client sends it (masked); `length` overrides the length field."""
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | (rsv & 7) << 4 | opcode & 0xF])
    mask_bit = 0x80 if masked else 0
    if n < 126:
        head += bytes([mask_bit | n])
    elif n < 1 << 16:
        head += bytes([mask_bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", n)
    if not masked:
        return head + payload
    key = mask or os.urandom(4)
    return head + key + _xor(payload, key)


def _xor(payload: bytes, key: bytes) -> bytes:
    repeated = (key * (len(payload) // 4 + 1))[:len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(payload), "big")


def close_payload(code: int | None, reason: bytes = b"") -> bytes:
    return b"" if code is None else struct.pack("!H", code) + reason


def _read_head(sock: socket.socket, buf: bytearray) -> bytes:
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise Closed(bytes(buf))
        buf += chunk
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    buf[:] = rest
    return head


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if not parts[0].startswith("HTTP/") or len(parts) < 2 or not parts[1].isdigit():
        raise ValueError(f"not an HTTP status line: {lines[0][:80]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


def http_request(host: str, port: int, method: str, path: str, headers: list[tuple[str, bytes | str]],
                 body: bytes | None, timeout_s: float, half_close: bool = False) -> HttpAnswer:
    """One request on its own connection (Connection: close), headers sent exactly as given.

    half_close: shut the sending side after the body, as a client that gave up mid-body does.
    """
    lines = [f"{method} {path} HTTP/1.1".encode(), f"Host: {host}:{port}".encode(), b"Connection: close"]
    for name, value in headers:
        lines.append(name.encode("latin-1") + b": " + (value if isinstance(value, bytes) else value.encode("latin-1")))
    if body is not None and not any(n.lower() in ("content-length", "transfer-encoding") for n, _ in headers):
        lines.append(f"Content-Length: {len(body)}".encode())
    data = b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered (and closed) before reading everything: its answer is still there
        if half_close:
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the server answered and closed already
        buf = bytearray()
        status, answer_headers = _parse_head(_read_head(sock, buf))
        while 100 <= status < 200:  # 100 Continue (Expect), then the answer
            status, answer_headers = _parse_head(_read_head(sock, buf))
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buf += chunk
        except ConnectionResetError:
            pass
    body_out = bytes(buf)
    if answer_headers.get("transfer-encoding", "").lower() == "chunked":
        body_out = _unchunk(body_out)
    return HttpAnswer(status, answer_headers, body_out)


def _unchunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2:]
    return bytes(out)


@dataclass
class WsResult:
    """What the server did on one websocket."""

    handshake_status: int | None = None
    handshake_body: bytes = b""  # the answer's body when the server refused the upgrade
    messages: list[tuple[int, bytes]] = field(default_factory=list)  # (opcode, payload) of data frames
    close_code: int | None = None  # from the server's close frame; None: no close frame
    close_reason: bytes = b""
    raw_http_after_upgrade: bytes | None = None  # an HTTP response written into the upgraded socket
    bad_frame: str | None = None  # the server sent something that is no websocket frame
    eof_without_close: bool = False
    timed_out: bool = False


class RawWebSocket:
    """A client websocket over a plain socket: any handshake headers, any frames."""

    def __init__(self, host: str, port: int, path: str, headers: list[tuple[str, bytes | str | None]],
                 timeout_s: float):
        self.sock = socket.create_connection((host, port), timeout=timeout_s)
        self.buf = bytearray()
        self.result = WsResult()
        self.inflater = None  # permessage-deflate, when the server accepted it
        self.last_compressed = False  # whether the last frame read came compressed (RSV1)
        key = base64.b64encode(os.urandom(16)).decode()
        default = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Key", key),
                   ("Sec-WebSocket-Version", "13")]
        names = {n.lower() for n, _ in headers}
        lines = [f"GET {path} HTTP/1.1".encode(), f"Host: {host}:{port}".encode()]
        for name, value in [(n, v) for n, v in default if n.lower() not in names] + headers:
            if value is None:
                continue
            lines.append(name.encode("latin-1") + b": " + (value if isinstance(value, bytes) else value.encode("latin-1")))
        self.sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n")
        status, answer = _parse_head(_read_head(self.sock, self.buf))
        self.result.handshake_status = status
        self.deflate = "permessage-deflate" in answer.get("sec-websocket-extensions", "")
        if self.deflate:
            self.inflater = zlib.decompressobj(-15)
        self.open = status == 101
        self.closed = not self.open
        if not self.open and answer.get("content-length", "").isdigit():
            self._need(int(answer["content-length"]))
            self.result.handshake_body = bytes(self.buf[:int(answer["content-length"])])

    def send_raw(self, data: bytes) -> bool:
        """Send bytes; False when the server has already gone."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError, OSError):
            return False

    def _need(self, n: int) -> None:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed()
            self.buf += chunk

    def read_frame(self) -> tuple[int, bytes]:
        """The next frame from the server (opcode, payload); the caller handles errors."""
        self._need(2)
        if self.buf[:5] == b"HTTP/":
            raise ValueError("raw HTTP")
        b0, b1 = self.buf[0], self.buf[1]
        if b1 & 0x80:
            raise ValueError("the server masked a frame")
        if b0 & (0x30 if self.deflate else 0x70):
            raise ValueError(f"reserved bits set in a server frame ({b0:#x})")
        opcode, n, at = b0 & 0xF, b1 & 0x7F, 2
        if opcode not in (OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG):
            raise ValueError(f"unknown opcode {opcode:#x} from the server")
        if n == 126:
            self._need(4)
            n, at = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, at = struct.unpack("!Q", self.buf[2:10])[0], 10
        self._need(at + n)
        payload = bytes(self.buf[at:at + n])
        del self.buf[:at + n]
        self.last_compressed = bool(b0 & 0x40)
        if b0 & 0x40:
            if not b0 & 0x80:
                raise ValueError("a fragmented compressed message from the server (this client reads whole ones)")
            payload = self.inflater.decompress(payload + b"\x00\x00\xff\xff")
        return opcode, payload

    def next_event(self) -> str:
        """Read one frame and file it: 'message', 'control' (ping/pong) or 'closed' (close frame, EOF or garbage)."""
        r = self.result
        try:
            opcode, payload = self.read_frame()
        except socket.timeout:
            r.timed_out = True
            return "closed"
        except (Closed, ConnectionResetError):
            r.eof_without_close = r.close_code is None
            return "closed"
        except (ValueError, zlib.error) as exc:
            if self.buf[:5] == b"HTTP/":
                try:
                    self.sock.settimeout(1.0)
                    while chunk := self.sock.recv(65536):
                        self.buf += chunk
                except OSError:
                    pass
                r.raw_http_after_upgrade = bytes(self.buf[:2000])
            else:
                r.bad_frame = f"{exc}: {bytes(self.buf[:40])!r}"
            return "closed"
        if opcode == OP_CLOSE:
            r.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            r.close_reason = payload[2:]
            return "closed"
        if opcode in (OP_PING, OP_PONG):
            if opcode == OP_PING:
                self.send_raw(frame(OP_PONG, payload))
            return "control"
        r.messages.append((opcode, payload))
        return "message"

    def reply(self) -> tuple[int, bytes] | None:
        """The server's next data message, or None once it has closed."""
        while not self.closed:
            kind = self.next_event()
            if kind == "closed":
                self.closed = True
            elif kind == "message":
                return self.result.messages[-1]
        return None

    def drain(self) -> None:
        """Read until the server closes (after our close frame, or its own)."""
        while not self.closed:
            if self.next_event() == "closed":
                self.closed = True

    def shutdown(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
