"""Requests still running past the threshold, sent while they run (replay_sdk/inflight.py), to a real collector: the
in-flight record has where the request is (its thread's or task's stack) and its WARNING+ records so far; the final
event, same request id, follows when it ends; a process ending on SIGTERM sends the requests it was on."""
import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from flask import Flask

from replay_sdk import Client, ReplayASGIMiddleware, ReplayMiddleware
from tests.conftest import free_port, wait_for_port
from tests.e2e.conftest import poll
from tests.sdk.conftest import SESSION
from tests.sdk.test_asgi import SCOPE, call

ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger("shop.reports")


def watching_client(collector, **options):
    options = {"in_flight_after_ms": 300, "in_flight_interval_ms": 50, **options}
    return Client(endpoint=collector["url"], server_key=collector["key"], service="shop", release="1.2.3",
                  backoff_s=0.01, handle_sigterm=False, **options)


def of_type(collector, kind):
    return [e for e in collector["filed"]() if e["type"] == kind]


def test_a_slow_request_is_sent_in_flight_with_its_stack_then_replaced_by_its_end(collector):
    client = watching_client(collector)
    release = threading.Event()
    app = Flask("shop")

    @app.get("/api/report")
    def build_report():
        log.warning("report query over budget")
        release.wait(20)  # the line it waits on
        return "done"

    app.wsgi_app = ReplayMiddleware(app.wsgi_app, client=client)
    answers = []
    worker = threading.Thread(target=lambda: answers.append(app.test_client().get(
        "/api/report?token=s3cr3t", headers={"X-Replay-Session": SESSION}).status_code))
    started = time.time()
    worker.start()
    try:
        [running] = poll(lambda: of_type(collector, "in_flight"), timeout_s=10)
        assert time.time() - started >= 0.3 and not answers  # sent while the request still ran
        assert (running["method"], running["session"], running["service"]) == ("GET", SESSION, "shop")
        assert running["url"] == "http://localhost/api/report?token=[masked]" and running["status"] is None
        assert 300 <= running["elapsed_ms"] < 10_000 and running["request_id"]
        where = running["stack"][-1]
        # Where the request is: the view, on the line it waits on (the SDK's own frames are not sent).
        assert any(f["function"] == "build_report" and f["code"] == "release.wait(20)  # the line it waits on"
                   for f in running["stack"]) and where["function"] == "wait"
        assert not any("replay_sdk" in f["file"] for f in running["stack"])
        assert [r["message"] for r in running["logs"]] == ["report query over budget"]
    finally:
        release.set()
        worker.join(10)
    assert answers == [200]
    [final] = poll(lambda: of_type(collector, "request"))
    assert (final["request_id"], final["status"]) == (running["request_id"], 200)
    time.sleep(0.3)
    assert len(of_type(collector, "in_flight")) == 1  # the stack did not move, and the request is over
    client.close(1)


def test_a_fast_request_and_a_disabled_watchdog_send_nothing(collector):
    for client, pause in ((watching_client(collector), 0.0), (watching_client(collector, in_flight_after_ms=0), 0.6)):
        assert client.watchdog is None if pause else client.watchdog is not None
        app = Flask("shop")
        app.get("/ok")(lambda: time.sleep(pause) or "ok")
        app.wsgi_app = ReplayMiddleware(app.wsgi_app, client=client)
        assert app.test_client().get("/ok", headers={"X-Replay-Session": SESSION}).status_code == 200
        client.flush(2)
        client.close(1)
    time.sleep(0.3)
    assert collector["filed"]() == []


def test_an_async_request_is_sent_with_its_await_stack(collector):
    client = watching_client(collector)

    async def query_inventory():
        await asyncio.sleep(0.8)

    async def app(scope, receive, send):
        logging.getLogger("carts").warning("inventory is slow")
        await query_inventory()
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": b"busy"})

    call(ReplayASGIMiddleware(app, client=client))
    events = poll(lambda: (lambda e: e if len(e) == 2 else None)(collector["filed"]()))
    running, final = sorted(events, key=lambda e: e["type"])
    assert (running["type"], final["type"], final["status"]) == ("in_flight", "request", 503)
    assert running["request_id"] == final["request_id"]
    functions = [f["function"] for f in running["stack"]]
    assert functions[-3:] == ["app", "query_inventory", "sleep"], functions
    assert [r["message"] for r in running["logs"]] == ["inventory is slow"]
    client.close(1)


def test_on_sigterm_the_process_sends_the_request_it_was_on(collector):
    port = free_port()
    env = {**os.environ, "REPLAY_ENDPOINT": collector["url"], "REPLAY_SERVER_KEY": collector["key"],
           "REPLAY_IN_FLIGHT_AFTER_MS": "600000"}  # never by time: only the SIGTERM can send it
    app = subprocess.Popen([sys.executable, "-m", "tests.e2e.sdk_app", str(port)], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        def slow():
            try:
                requests.get(f"http://127.0.0.1:{port}/api/slow", timeout=30, headers={"X-Replay-Session": SESSION})
            except requests.ConnectionError:
                pass  # the process ended on it: no answer

        threading.Thread(target=slow, daemon=True).start()
        time.sleep(0.5)
        app.send_signal(signal.SIGTERM)
        assert app.wait(10) == -signal.SIGTERM  # it still ends as SIGTERM ends a process
        [running] = poll(lambda: of_type(collector, "in_flight"), timeout_s=10)
        assert running["url"].endswith("/api/slow") and 400 <= running["elapsed_ms"] < 10_000
        assert any(f["function"] == "slow" for f in running["stack"]), running["stack"]
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(5)
