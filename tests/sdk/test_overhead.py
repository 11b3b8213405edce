"""With the collector down (a dead port), a failing request takes no longer than without the SDK, and the drop counter
goes up: measured through a real HTTP server, the two apps taking turns so that machine load hits both alike."""
import logging
import statistics
import threading
import time

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from replay_sdk import ReplayMiddleware
from tests.e2e.conftest import poll

ROUNDS = 40
ALLOWED_MS = 5.0


def failing_app():
    app = Flask("overhead")
    app.logger.disabled = True  # the same in both apps; the SDK still sees the exception of a 500 via its status

    @app.get("/fail")
    def fail():
        logging.getLogger("shop").warning("about to fail")
        raise KeyError("sku")

    return app


def serve(wsgi):
    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def timed(session, url):
    started = time.perf_counter()
    assert session.get(url, headers={"X-Replay-Session": "sess_overhead_0001"}, timeout=10).status_code == 500
    return (time.perf_counter() - started) * 1000


def test_a_dead_collector_does_not_slow_requests(dead_client):
    bare = failing_app()
    wrapped = failing_app()
    wrapped.wsgi_app = ReplayMiddleware(wrapped.wsgi_app, client=dead_client)
    servers = [serve(bare), serve(wrapped)]
    try:
        urls = [f"http://127.0.0.1:{s.server_port}/fail" for s in servers]
        with requests.Session() as session:
            for url in urls:
                timed(session, url)  # warm up both
            times = {0: [], 1: []}
            for i in range(ROUNDS):
                for which in ((0, 1) if i % 2 else (1, 0)):
                    times[which].append(timed(session, urls[which]))
        base, with_sdk = statistics.median(times[0]), statistics.median(times[1])
        print(f"median request: {base:.2f} ms bare, {with_sdk:.2f} ms with the SDK and a dead collector")
        assert with_sdk - base < ALLOWED_MS
        stats = poll(lambda: dead_client.stats()["dropped_unreachable"] > 0 and dead_client.stats())
        assert stats["queued"] == ROUNDS + 1 and stats["sent"] == 0 and stats["failed_posts"] >= 3
    finally:
        for s in servers:
            s.shutdown()
