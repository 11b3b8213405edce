"""The service's own health under real `replay serve` (2 gunicorn workers) and `replay worker`, JSON logs on."""
import json
import os
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import websocket
from prometheus_client import multiprocess
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import BIN, poll, replay_cli

ORIGIN = "https://metrics.example"
SECRET = "metrics_secret_0123456789"
BATCHES = 40


@pytest.fixture(scope="module")
def replay_env(replay_env, tmp_path_factory):
    metrics_dir = tmp_path_factory.mktemp("metrics")
    (metrics_dir / "counter_999999.db").write_bytes(b"a previous run's values")
    return {**replay_env, "REPLAY_WEB_WORKERS": "2", "REPLAY_LOG_FORMAT": "json",
            "REPLAY_METRICS_ALLOW": "127.0.0.1/32", "REPLAY_METRICS_DIR": str(metrics_dir)}


@pytest.fixture(scope="module")
def project_key(replay_env, replay_server):
    return replay_cli(replay_env, "project", "create", "metrics", "--origin", ORIGIN)


def scrape(base) -> dict:
    r = requests.get(base + "/metrics", timeout=10)  # from 127.0.0.1: on the allow-list, no token
    assert r.status_code == 200, r.text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(r.text) for s in f.samples}


def per_worker(metrics_dir: Path, kind: str, name: str, **labels) -> dict[int, float]:
    """One sample's value in each worker's own file: {pid: value}."""
    found = {}
    for path in metrics_dir.glob(f"{kind}_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        for metric in multiprocess.MultiProcessCollector.merge([str(path)], accumulate=True):
            for s in metric.samples:
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                    found[pid] = found.get(pid, 0.0) + s.value
    return found


def post(base, key, n):
    body = {"v": 1, "key": key, "secret": SECRET, "session": f"sess_metrics_{n:012d}", "window": "win_metrics_0123456789",
            "url": ORIGIN + "/", "batches": [{"seq": 1, "events": [{"type": 3, "timestamp": 1, "data": {}}] * 3}]}
    # A new connection each time, so that both workers take some.
    return requests.post(base + "/ingest/batch", data=json.dumps(body), timeout=10,
                         headers={"Origin": ORIGIN, "Connection": "close"}).status_code


def test_a_scrape_of_any_worker_sums_every_workers_counters(replay_env, replay_server, project_key):
    metrics_dir = Path(replay_env["REPLAY_METRICS_DIR"])
    assert not (metrics_dir / "counter_999999.db").exists()  # emptied at start
    half = BATCHES // 2
    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(lambda n: post(replay_server, project_key, n), range(half))) == {200}
        # gevent workers do not share connections out evenly (one often takes them all): the workers that acked
        # the first half die, and new ones (gunicorn's) ack the rest. Their values stay in the dead ones' files.
        first = {pid for pid, v in per_worker(metrics_dir, "counter", "replay_ingest_batches_total",
                                              outcome="acked").items() if v}
        for pid in first:
            os.kill(pid, signal.SIGKILL)
        poll(lambda: len(list(metrics_dir.glob("counter_*.db"))) >= 2 + len(first), timeout_s=20)
        assert set(pool.map(lambda n: post(replay_server, project_key, n), range(half, BATCHES))) == {200}
    shares = per_worker(metrics_dir, "counter", "replay_ingest_batches_total", outcome="acked")
    assert len([v for v in shares.values() if v]) >= 2, shares  # acked by more than one process
    assert sum(shares.values()) == BATCHES
    for _ in range(6):  # whichever worker answers, the same total
        samples = scrape(replay_server)
        assert samples[("replay_ingest_batches_total", (("outcome", "acked"),))] == BATCHES
        assert samples[("replay_ingest_events_total", (("outcome", "acked"),))] == 3 * BATCHES
        assert samples[("replay_ingest_ack_seconds_count", (("transport", "http"),))] == BATCHES
    # The worker's side, read from Redis: the sessions flushed and stored, one worker alive.
    done = lambda: scrape(replay_server).get(("replay_sessions_stored", ())) == BATCHES  # noqa: E731
    poll(done, timeout_s=30)
    samples = scrape(replay_server)
    assert samples[("replay_flushes_total", (("outcome", "ok"),))] >= BATCHES
    assert samples[("replay_workers", ())] == 1 and samples[("replay_redis_up", ())] == 1
    assert requests.get(replay_server + "/metrics", headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401


def test_a_dead_workers_open_sockets_stop_counting(replay_env, replay_server, project_key):
    metrics_dir = Path(replay_env["REPLAY_METRICS_DIR"])
    sockets = []
    for n in range(8):
        ws = websocket.create_connection(replay_server.replace("http", "ws") + "/ingest/ws", origin=ORIGIN, timeout=5)
        ws.send(json.dumps({"type": "hello", "v": 1, "key": project_key, "secret": SECRET, "url": ORIGIN + "/",
                            "session": f"sess_sockets_{n:012d}", "window": "win_sockets_0123456789", "ua": "pytest"}))
        assert json.loads(ws.recv())["type"] == "ready"
        sockets.append(ws)
    open_now = lambda: scrape(replay_server)[("replay_ingest_open_sockets", ())]  # noqa: E731
    assert open_now() == 8
    held = {pid: v for pid, v in per_worker(metrics_dir, "gauge_livesum", "replay_ingest_open_sockets").items() if v}
    victim, lost = max(held.items(), key=lambda item: item[1])
    os.kill(victim, signal.SIGKILL)  # gunicorn's child_exit hook marks it dead; a new worker takes its place
    poll(lambda: not (metrics_dir / f"gauge_livesum_{victim}.db").exists(), timeout_s=15)
    poll(lambda: open_now() == 8 - lost, timeout_s=15)
    for ws in sockets:
        ws.close()


def test_readyz_and_status_on_the_running_service(replay_env, replay_server):
    r = requests.get(replay_server + "/readyz", timeout=10)
    assert r.status_code == 200 and r.json()["ok"] is True
    assert requests.get(replay_server + "/healthz", timeout=10).json() == {"ok": True}
    out = subprocess.run([str(BIN / "replay"), "status"], env=replay_env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert ["workers", "alive", "1"] in [line.split() for line in out.stdout.splitlines()]


def test_every_log_line_is_json(replay_procs):
    for name in ("serve", "worker"):
        lines = [line for line in (replay_procs.logs / f"{name}.log").read_text().splitlines() if line.strip()]
        assert lines, name
        for line in lines:
            record = json.loads(line)
            assert {"time", "level", "logger", "message"} <= set(record), line
    serve = [json.loads(line) for line in (replay_procs.logs / "serve.log").read_text().splitlines() if line.strip()]
    assert any(r["logger"] == "gunicorn.error" and "Booting worker" in r["message"] for r in serve)
