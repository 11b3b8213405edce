"""A batch over the collector's size cap (413) is split until each piece fits: every line still arrives once.
The app on a real port and Redis, with a 4 KB cap on POST /ingest/logs; the shipper as a process."""
from __future__ import annotations

import json
import os
import threading

import pytest
from werkzeug.serving import make_server

from tests.e2e.conftest import poll
from tests.e2e.shipper import LogFile, ShipperProcess, access_line


@pytest.fixture
def small_cap_server(make_app):
    app = make_app(MAX_LOG_POST_BYTES=4096)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_a_batch_over_the_cap_is_split_and_nothing_is_lost(small_cap_server, accounts, tmp_path, process_logs):
    app, url = small_cap_server
    svc = app.extensions["replay"]
    project = accounts.create_project("split", ["https://shop.example"])
    from replay.core import server_keys

    key = server_keys.issue(svc.redis, svc.keys, project.key)
    access = LogFile(tmp_path / "access.log")
    for n in range(600):  # about 300 KB, over 100 KB gzipped: many times the cap
        line = json.loads(access_line("sess_shipped_0001", n))
        line["uri"] += "?q=" + os.urandom(64).hex()  # does not gzip away
        access.write(json.dumps(line) + "\n")
    log = process_logs.watch(tmp_path / "ship.log", "replay logs ship")
    ship = ShipperProcess(dict(os.environ), url, key, tmp_path / "state.json", log, "--access-log",
                          str(access.path)).start("--from-start")
    try:
        stored = lambda: svc.redis.lrange(svc.keys.proxy_session(project.key, "sess_shipped_0001"), 0, -1)
        poll(lambda: len(stored()) >= 600)
        assert sorted(json.loads(r)["request_id"] for r in stored()) == sorted(f"rid{n:08d}" for n in range(600))
    finally:
        assert ship.stop() == 0
    assert "stopped: 600 lines sent (600 accepted" in ship.text()
