"""The background sender: never blocks the app, drops and counts when the collector is away, flushes at exit."""
import os
import subprocess
import sys
import textwrap
import time

from replay.core import redact, wire
from replay_sdk import Client, privacy
from replay_sdk.context import RequestState
from tests.conftest import free_port
from tests.e2e.conftest import poll
from tests.sdk.conftest import SESSION


def report(client, session=SESSION, url="http://shop.example/x"):
    state = RequestState()
    state.status = 502
    client.report(state, "GET", url, session)


def test_the_secret_rules_are_replays_own():
    assert (privacy.SECRET_NAME_PARTS, privacy.MASK) == (wire.SECRET_NAME_PARTS, wire.MASK)
    names = ["token", "access_token", "apiKey", "X-Api-Key", "sig", "pin", "page", "sort", "spinner", "q", "userId",
             "sessionId", "code", "zipcode", "PIN", "authorization", "design", "keyboard"]
    assert [privacy.secret_name(n) for n in names] == [redact.secret_name(n) for n in names]
    query = "token=abc&page=2&apiKey=k&empty=&q=shoes"
    assert privacy.mask_query(query) == redact.mask_form(query)


def test_a_dead_collector_drops_and_counts_after_retrying(dead_client):
    started = time.perf_counter()
    report(dead_client)
    assert time.perf_counter() - started < 0.05  # queued, not sent, by the request's thread
    stats = poll(lambda: dead_client.stats()["dropped_unreachable"] == 1 and dead_client.stats())
    assert stats["failed_posts"] == 3 and stats["sent"] == 0 and stats["queued"] == 1


def test_a_full_queue_drops_instead_of_waiting():
    client = Client(endpoint=f"http://127.0.0.1:{free_port()}", server_key="sk_x", queue_size=2, backoff_s=5)
    started = time.perf_counter()
    for _ in range(10):
        report(client)
    assert time.perf_counter() - started < 0.1
    stats = client.stats()
    assert stats["dropped_queue_full"] >= 7 and stats["queued"] + stats["dropped_queue_full"] == 10
    client.close(0.5)


def test_a_refused_key_is_counted_not_retried(collector):
    client = Client(endpoint=collector["url"], server_key="sk_not_issued_0000", backoff_s=0.01)
    report(client)
    stats = poll(lambda: client.stats()["rejected"] == 1 and client.stats())
    assert stats["failed_posts"] == 0 and stats["sent"] == 0
    client.close(0.5)


def test_the_collector_back_after_an_outage(collector, sdk_client):
    report(sdk_client)
    poll(lambda: len(collector["filed"]()) == 1)
    assert sdk_client.stats()["sent"] == 1


def test_queued_events_are_sent_at_exit(collector, tmp_path):
    script = textwrap.dedent(f"""
        from replay_sdk import init
        from replay_sdk.context import RequestState
        client = init(endpoint={collector['url']!r}, server_key={collector['key']!r}, service="worker")
        for n in range(3):
            state = RequestState(); state.status = 500
            client.report(state, "GET", f"http://shop.example/exit/{{n}}", {SESSION!r})
        print("exiting", flush=True)
    """)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "REPLAY_ENDPOINT": "", "REPLAY_SERVER_KEY": ""})
    assert done.returncode == 0 and "exiting" in done.stdout, done.stderr
    assert time.monotonic() - started < 10
    assert [e["url"] for e in collector["filed"]()] == [f"http://shop.example/exit/{n}" for n in range(3)]


def test_exit_is_not_held_up_by_a_dead_collector():
    script = textwrap.dedent(f"""
        from replay_sdk import init
        from replay_sdk.context import RequestState
        client = init(endpoint="http://127.0.0.1:{free_port()}", server_key="sk_x")
        state = RequestState(); state.status = 500
        client.report(state, "GET", "http://shop.example/", None)
    """)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 5  # the interpreter's start, plus at most the 2 s exit flush


def test_without_endpoint_or_key_the_sdk_does_nothing(monkeypatch):
    monkeypatch.delenv("REPLAY_ENDPOINT", raising=False)
    monkeypatch.delenv("REPLAY_SERVER_KEY", raising=False)
    client = Client()
    assert not client.enabled and client.stats() == {}
    report(client)


def test_configuration_from_the_environment(monkeypatch, collector):
    monkeypatch.setenv("REPLAY_ENDPOINT", collector["url"] + "/")
    monkeypatch.setenv("REPLAY_SERVER_KEY", collector["key"])
    monkeypatch.setenv("REPLAY_SERVICE", "billing")
    monkeypatch.setenv("REPLAY_RELEASE", "abc123")
    client = Client()
    assert client.sender.url == collector["url"] + "/ingest/server"
    report(client)
    [event] = poll(collector["filed"])
    assert (event["service"], event["release"]) == ("billing", "abc123")
    client.close(1)
