"""Misbehaving upstreams for a real nginx, one per failure its logs name, and a DNS server answering NXDOMAIN.

Each upstream is a plain TCP server on a free loopback port doing one wrong thing; `failure_config` gives
the nginx `http` directives and `location` blocks that send `/fail/<kind>` to it.
"""
from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time

from tests.conftest import free_port

BIG_HEADER = b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 8000 + b"\r\nContent-Length: 2\r\n\r\nok"
BEHAVIOURS = {
    # Accept, read the request, close without a word.
    "closed": lambda conn: None,
    # Accept, read, answer with a TCP reset.
    "reset": lambda conn: conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)),
    # Slower than the location's proxy_read_timeout (1s).
    "slow": lambda conn: (time.sleep(2.5), conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")),
    "big_header": lambda conn: conn.sendall(BIG_HEADER),
    "no_http": lambda conn: conn.sendall(b"hello, this is not HTTP\r\n\r\n"),
    "bad_header": lambda conn: conn.sendall(b"HTTP/1.1 200 OK\r\nBad\x01Header: x\r\nContent-Length: 2\r\n\r\nok"),
    "ok": lambda conn: conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"),
}


class Upstream:
    """One TCP server on a free port that handles each connection with `behaviour`, in a thread."""

    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        with conn:
            try:
                conn.settimeout(5)
                conn.recv(65536)
                self.behaviour(conn)
            except OSError:
                pass

    def close(self):
        self.sock.close()


class Backlogged:
    """A listening socket that never accepts, its accept queue filled: a connect to it times out."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.held = []
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                c.connect(("127.0.0.1", self.port))
            self.held.append(c)

    def close(self):
        for c in self.held:
            c.close()
        self.sock.close()


class NxdomainDns:
    """A DNS server on loopback UDP that answers every question NXDOMAIN (RCODE 3)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                query, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            if len(query) < 12:
                continue
            # Same id and question; QR=1, opcode and RD copied, RA=1, RCODE=3; no answers.
            flags = 0x8000 | (query[2] << 8 & 0x7900) | 0x0080 | 3
            self.sock.sendto(query[:2] + struct.pack(">HHHHH", flags, 1, 0, 0, 0) + query[12:], peer)

    def close(self):
        self.sock.close()


@contextlib.contextmanager
def failure_config():
    """(http directives, location blocks) routing /fail/<kind> to a failing upstream, and /ok/ to a sound one."""
    upstreams = {kind: Upstream(fn) for kind, fn in BEHAVIOURS.items()}
    dns, backlogged = NxdomainDns(), Backlogged()
    dead, dead2 = free_port(), free_port()
    http = f"""
      limit_req_zone $binary_remote_addr zone=tight:1m rate=1r/m;
      upstream all_down {{ server 127.0.0.1:{dead} max_fails=1 fail_timeout=60s;
                                server 127.0.0.1:{dead2} max_fails=1 fail_timeout=60s; }}
      proxy_read_timeout 1s;
      proxy_buffer_size 1k;
    """
    locations = [f"location /fail/refused {{ proxy_pass http://127.0.0.1:{dead}; }}",
                 f"location /fail/connect_timeout {{ proxy_connect_timeout 1s; "
                 f"proxy_pass http://127.0.0.1:{backlogged.port}; }}",
                 "location /fail/no_live { proxy_pass http://all_down; }",
                 f"location /fail/tls {{ proxy_pass https://127.0.0.1:{upstreams['no_http'].port}; }}",
                 f"location /fail/dns {{ resolver 127.0.0.1:{dns.port}; resolver_timeout 2s; set $up nowhere.invalid; "
                 "proxy_pass http://$up:80; }",
                 f"location /fail/limited {{ limit_req zone=tight; proxy_pass http://127.0.0.1:{upstreams['ok'].port}; }}"]
    locations += [f"location /fail/{kind} {{ proxy_pass http://127.0.0.1:{u.port}; }}"
                  for kind, u in upstreams.items() if kind != "ok"]
    locations.append(f"location /ok/ {{ proxy_pass http://127.0.0.1:{upstreams['ok'].port}; }}")
    try:
        yield http, " ".join(locations)
    finally:
        for u in upstreams.values():
            u.close()
        dns.close()
        backlogged.close()


# Requests that make nginx log each failure: (method, path, how many times).
FAILING_REQUESTS = [("GET", "/fail/refused", 1), ("GET", "/fail/closed", 1), ("POST", "/fail/reset", 1),
                    ("GET", "/fail/slow", 1), ("GET", "/fail/big_header", 1), ("GET", "/fail/no_http", 1),
                    ("GET", "/fail/bad_header", 1), ("GET", "/fail/tls", 1), ("GET", "/fail/dns", 1),
                    ("GET", "/fail/connect_timeout", 1), ("GET", "/fail/no_live", 2), ("GET", "/fail/limited", 2), ("GET", "/ok/", 1)]
