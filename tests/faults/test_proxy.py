"""The fault proxy itself: each mode does to a client what the fault tests say it does."""
from __future__ import annotations

import socket
import threading

import pytest

from tests.conftest import free_port
from tests.faults.proxy import FaultyProxy


@pytest.fixture
def proxy():
    """A proxy in front of an upstream that echoes the first line it reads, then keeps the connection open."""
    upstream = socket.socket()
    upstream.bind(("127.0.0.1", 0))
    upstream.listen(8)

    def serve():
        while True:
            try:
                conn, _ = upstream.accept()
            except OSError:
                return
            threading.Thread(target=lambda c=conn: (c.sendall(c.recv(100)), c.recv(100)), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    p = FaultyProxy(upstream.getsockname(), free_port()).start()
    yield p
    p.stop()
    upstream.close()


def _ended(c: socket.socket) -> bool:
    """The connection was closed or reset (not left silent)."""
    try:
        return c.recv(10) == b""
    except ConnectionResetError:
        return True


def _client(p: FaultyProxy) -> socket.socket:
    c = socket.create_connection(p.address, timeout=2)
    c.settimeout(1)
    return c


def test_pass_forwards_and_a_mode_change_drops_what_was_in_flight(proxy):
    c = _client(proxy)
    c.sendall(b"ping")
    assert c.recv(10) == b"ping"
    proxy.set_mode("refuse")
    # The client learns at once (a crashed server's kernel resets), rather than waiting on a silent socket.
    assert _ended(c)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(proxy.address, timeout=2)


def test_hang_never_answers_even_after_the_server_is_back(proxy):
    proxy.set_mode("hang")
    held = _client(proxy)
    held.sendall(b"ping")
    with pytest.raises(socket.timeout):
        held.recv(10)
    proxy.set_mode("pass")
    with pytest.raises(socket.timeout):
        held.recv(10)
    fresh = _client(proxy)
    fresh.sendall(b"pong")
    assert fresh.recv(10) == b"pong"
    proxy.set_mode("pass", drop_held=True)
    assert _ended(held)
