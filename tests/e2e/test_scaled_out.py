"""Past one machine: buffers, index and accounts on a real three-master Redis Cluster (the RQ queue on a plain
Redis of its own), two `replay serve` behind nginx round-robin, and one of them killed mid-session."""
from __future__ import annotations

import gzip
import json
import signal
import subprocess
import time

import pytest
from minio import Minio

from tests.conftest import free_port
from tests.e2e.conftest import ReplayProcesses, poll
from tests.e2e.test_capture_502 import place_order, wait_for_failure
from tests.nginx import running_nginx

# Both collectors in one upstream, taken in turn; websockets pass (HTTP/1.1 with the Upgrade handshake), and a
# dead one is skipped for the next connection.
LB_HTTP = "upstream collectors {{ server 127.0.0.1:{a} max_fails=1 fail_timeout=30s; " \
          "server 127.0.0.1:{b} max_fails=1 fail_timeout=30s; }}"
LB_LOCATIONS = """location / { proxy_pass http://collectors; proxy_http_version 1.1;
  proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; proxy_set_header Host $host;
  proxy_read_timeout 120s; proxy_next_upstream error timeout; }"""


@pytest.fixture(scope="module")
def replay_env(replay_env, redis_cluster):  # noqa: F811 - conftest's, with the cluster in place of the one Redis
    """The e2e environment with REPLAY_REDIS_URL on the cluster and the job queue on the plain test Redis."""
    return {**replay_env, "REPLAY_QUEUE_REDIS_URL": replay_env["REPLAY_REDIS_URL"], "REPLAY_REDIS_URL": redis_cluster,
            "REPLAY_KEY_PREFIX": f"scaled{time.time_ns()}:"}


@pytest.fixture(scope="module")
def replay_procs(replay_env, tmp_path_factory, process_logs):
    """Two collectors and one worker; `collectors` holds the two (each its own process group)."""
    first = ReplayProcesses(replay_env, tmp_path_factory.mktemp("serve-a"), process_logs)
    second = ReplayProcesses(replay_env, tmp_path_factory.mktemp("serve-b"), process_logs)
    port = free_port()
    try:
        first.start_worker()
        first.start_web()
        second.start_web()
        with running_nginx(tmp_path_factory.mktemp("lb"), port, LB_LOCATIONS,
                           http=LB_HTTP.format(a=first.port, b=second.port)):
            first.url = second.url = f"http://127.0.0.1:{port}"
            first.collectors = [first, second]
            yield first
    finally:
        first.stop()
        second.stop()


def test_a_502_is_captured_with_the_cluster_behind_two_collectors(browser, site, api, replay_env, replay_server):
    session_id = place_order(browser, site)
    detail = wait_for_failure(api, session_id)
    [failure] = [f for f in detail["network_failures"] if "/api/orders" in f["url"]]
    assert failure["status"] == 502 and failure["method"] == "POST"
    assert failure["url"] == site["origin"] + "/api/orders?cart=42"
    listed = api("/api/sessions", status="5xx").json()["sessions"]
    assert [s["session"] for s in listed] == [session_id]


def _holding_socket(collectors: list[ReplayProcesses]) -> ReplayProcesses:
    """The collector with an established connection from nginx: with no upstream keepalive, the websocket."""
    def established(port: int) -> int:
        out = subprocess.run(["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
                             capture_output=True, text=True, timeout=5).stdout
        return len(out.splitlines())

    return poll(lambda: next((c for c in collectors if established(c.port)), None), timeout_s=10)


def _wait(page, condition, timeout_s: float) -> None:
    """Until `condition()`; Playwright hears the page's frames only while it is called, hence no time.sleep."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"gave up after {timeout_s}s"
        page.wait_for_timeout(200)


def _stored_batches(env: dict, session_id: str) -> set[tuple[str, int]]:
    client = Minio(env["REPLAY_S3_ENDPOINT"], access_key=env["REPLAY_S3_ACCESS_KEY"],
                   secret_key=env["REPLAY_S3_SECRET_KEY"], secure=False, region="us-east-1")
    found = set()
    for obj in client.list_objects(env["REPLAY_S3_BUCKET"], prefix=f"sessions/{session_id}/segments/", recursive=True):
        data = json.loads(gzip.decompress(client.get_object(env["REPLAY_S3_BUCKET"], obj.object_name).read()))
        window = obj.object_name.split("/")[3]
        found |= {(window, int(batch["seq"])) for batch in data["batches"]}
    return found


def test_every_acked_batch_is_stored_when_a_collector_dies_mid_session(browser, site, replay_env, replay_procs):
    context = browser.new_context()
    page = context.new_page()
    acks: list[tuple[float, int]] = []

    def on_socket(ws):
        def on_frame(payload):
            message = json.loads(payload) if isinstance(payload, str) else {}
            if message.get("type") == "ack":
                acks.append((time.monotonic(), int(message["seq"])))
        ws.on("framereceived", on_frame)

    page.on("websocket", on_socket)
    page.goto(site["url"])
    session_url = page.wait_for_function("window.Replay && window.Replay.getSessionURL()").json_value()
    session_id = session_url.rsplit("/sessions/", 1)[1].split("?")[0]
    # A page that keeps changing: a batch every flush interval.
    page.evaluate("setInterval(() => { document.getElementById('result').textContent = 'tick ' + Date.now(); }, 50)")
    _wait(page, lambda: len(acks) >= 2, 20)

    victim = _holding_socket(replay_procs.collectors)
    killed_at = time.monotonic()
    ReplayProcesses.kill(victim.web, signal.SIGKILL)
    # The snippet reconnects through nginx to the other collector and goes on being acked there.
    _wait(page, lambda: sum(at > killed_at for at, _ in acks) >= 2, 30)
    context.close()

    acked = {seq for _, seq in acks}
    stored = poll(lambda: (lambda s: s if acked <= {seq for _, seq in s} else None)(_stored_batches(replay_env,
                                                                                                    session_id)),
                  timeout_s=30)
    assert len({window for window, _ in stored}) == 1
    assert acked <= {seq for _, seq in stored}
