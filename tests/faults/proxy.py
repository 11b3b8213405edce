"""A TCP proxy in front of the S3 server whose behaviour the test switches at run time.

Modes: `pass` forwards both ways; `refuse` stops listening, so a connect is refused,
and resets the connections it had; `hang` accepts and reads but never answers. A
connection accepted while hanging is never answered, even after the mode changes
back (as a black hole would), unless `set_mode(..., drop_held=True)`: the client's
own timeouts must get it out. Every mode change closes the forwarded connections,
as a server that goes down or stalls would take them with it.
"""
from __future__ import annotations

import socket
import struct
import threading

MODES = ("pass", "refuse", "hang")
_CHUNK = 64 * 1024


def _reset(sock: socket.socket) -> None:
    """Drop a connection as a crashed server's kernel would (RST: SO_LINGER 0).

    shutdown() first: on Linux, close() alone neither wakes a thread blocked in recv() on the socket
    nor ends the connection, which would leave the client waiting on a silent one (a hang, not a reset).
    """
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class FaultyProxy:
    def __init__(self, upstream: tuple[str, int], port: int, host: str = "127.0.0.1"):
        self.upstream = upstream
        self.address = (host, port)
        self.mode = "pass"
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._forwarded: set[socket.socket] = set()
        self._held: set[socket.socket] = set()
        self._stopped = False
        self.accepted = {mode: 0 for mode in MODES}

    @property
    def endpoint(self) -> str:
        return f"{self.address[0]}:{self.address[1]}"

    def start(self) -> "FaultyProxy":
        self._listen()
        return self

    def set_mode(self, mode: str, drop_held: bool = False) -> None:
        if mode not in MODES:
            raise ValueError(mode)
        with self._lock:
            previous, self.mode = self.mode, mode
            forwarded, self._forwarded = self._forwarded, set()
            held = set()
            if drop_held:
                held, self._held = self._held, set()
        for sock in forwarded | held:
            _reset(sock)
        if mode == "refuse" and previous != "refuse":
            self._close_listener()
        elif mode != "refuse" and previous == "refuse":
            self._listen()

    def stop(self) -> None:
        self._stopped = True
        self._close_listener()
        with self._lock:
            socks, self._forwarded, self._held = self._forwarded | self._held, set(), set()
        for sock in socks:
            _reset(sock)

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(self.address)
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name="proxy-accept", daemon=True).start()

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed (refuse, stop)
            with self._lock:
                mode = self.mode
                self.accepted[mode] += 1
                if mode == "hang":
                    self._held.add(client)
            if mode == "hang":
                threading.Thread(target=self._swallow, args=(client,), daemon=True).start()
            elif mode == "pass":
                threading.Thread(target=self._forward, args=(client,), daemon=True).start()
            else:
                _reset(client)

    def _swallow(self, client: socket.socket) -> None:
        """Read whatever comes and never answer."""
        try:
            while client.recv(_CHUNK):
                pass
        except OSError:
            pass
        with self._lock:
            self._held.discard(client)
        client.close()

    def _forward(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=5)
            upstream.settimeout(None)
        except OSError:
            _reset(client)
            return
        with self._lock:
            if self.mode != "pass":
                # The mode changed while connecting: this connection belongs to the old one.
                _reset(client)
                upstream.close()
                return
            self._forwarded.update((client, upstream))
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()
        self._pump(client, upstream)

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(_CHUNK):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._forwarded.discard(src)
                self._forwarded.discard(dst)
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
