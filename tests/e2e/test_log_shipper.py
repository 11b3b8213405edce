"""`replay logs ship` follows nginx's log files into a running `replay serve` (real Redis): every line written
arrives once, across rotation by rename and by copytruncate, a restart of the shipper and the collector's outage."""
from __future__ import annotations

import json
import os
import signal
import time

import pytest
from redis import Redis

from replay.core.keys import RedisKeys
from tests.e2e.conftest import poll, replay_cli
from tests.e2e.shipper import ERROR_LINE, LogFile, ShipperProcess, access_line

KEYS = RedisKeys("replay:")


@pytest.fixture
def project(replay_env, replay_server, request):
    key = replay_cli(replay_env, "project", "create", request.node.name[:40], "--origin", "http://127.0.0.1")
    return {"key": key, "server_key": replay_cli(replay_env, "project", "server-key", key),
            "redis": Redis.from_url(replay_env["REPLAY_REDIS_URL"])}


@pytest.fixture
def logs(tmp_path, replay_env, replay_server, project, process_logs):
    """The access and error logs (not created yet) and a shipper for them; stopped after the test."""
    access, errors = tmp_path / "nginx" / "replay-access.log", tmp_path / "nginx" / "error.log"
    access.parent.mkdir()
    log = process_logs.watch(tmp_path / "ship.log", "replay logs ship")
    shipper = ShipperProcess(replay_env, replay_server, project["server_key"], tmp_path / "state.json", log,
                             "--access-log", str(access), "--error-log", str(errors))
    yield {"access": LogFile(access), "errors": LogFile(errors), "shipper": shipper, "tmp": tmp_path}
    if shipper.proc is not None:
        shipper.stop()


def request_ids(project, session="sess_shipped_0001"):
    """The access lines the collector filed for the session, by request id (a line sent twice shows twice)."""
    raw = project["redis"].lrange(KEYS.proxy_session(project["key"], session), 0, -1)
    return sorted(json.loads(r)["request_id"] for r in raw)


def expected(numbers) -> list[str]:
    return sorted(f"rid{n:08d}" for n in numbers)


def arrived(project, numbers, timeout_s=30.0):
    """All these lines arrived, none twice: waits for the count, then checks that it stays."""
    want = expected(numbers)
    try:
        poll(lambda: len(request_ids(project)) >= len(want), timeout_s)
    except AssertionError:
        got = set(request_ids(project))
        raise AssertionError(f"{len(got)} of {len(want)} lines arrived; missing "
                             f"{sorted(set(want) - got)[:10]}...") from None
    time.sleep(1.0)  # a duplicate would be a later post: give it the time to come
    assert request_ids(project) == want


def write_lines(log: LogFile, numbers, pause_s=0.002):
    for n in numbers:
        log.write(access_line("sess_shipped_0001", n) + "\n")
        time.sleep(pause_s)


def stats(project):
    return {k.decode(): int(v) for k, v in project["redis"].hgetall(KEYS.proxy_stats(project["key"])).items()}


def test_lines_of_both_logs_arrive_counted_and_a_partial_line_waits(logs, project):
    ship = logs["shipper"].start()
    ship.wait_for_log("does not exist yet")  # both files: they are read from their start once they appear
    write_lines(logs["access"], range(200))
    for n in range(30):
        logs["errors"].write(ERROR_LINE.format(n=n) + "\n")
    logs["access"].write(access_line("sess_shipped_0001", 200)[:60])  # nginx in the middle of a write
    arrived(project, range(200))
    poll(lambda: stats(project).get("accepted_http") == 230)
    time.sleep(1.0)
    assert len(request_ids(project)) == 200, "a line without its newline was sent"
    logs["access"].write(access_line("sess_shipped_0001", 200)[60:] + "\n")
    arrived(project, range(201))
    assert stats(project) == {"accepted_http": 231}
    errors = project["redis"].lrange(KEYS.proxy_connection(project["key"], 7), 0, -1)
    assert [json.loads(e)["cause"] for e in errors] == ["upstream_refused"]
    assert ship.stop() == 0
    assert "stopped: 231 lines sent (231 accepted, 0 rejected" in ship.text()


def test_rotation_by_rename_mid_stream_loses_and_repeats_nothing(logs, project):
    ship = logs["shipper"].start()
    access = logs["access"]
    write_lines(access, range(100))
    ship.wait_for_log("appeared: reading it from its start")  # the shipper holds the file before it is renamed
    os.rename(access.path, str(access.path) + ".1")  # logrotate: rename, create
    access.path.touch()
    time.sleep(0.6)  # the shipper sees the new file (rotate wait 3 s: room for a slow machine)...
    write_lines(access, range(100, 150))  # ...and nginx writes on to the renamed one until it reopens
    access.reopen()
    write_lines(access, range(150, 250))
    arrived(project, range(250))
    assert "was rotated (a new file under its name)" in ship.text()
    # A second rotation, logrotate's delaycompress style: .1 becomes .2, the live file .1.
    os.rename(str(access.path) + ".1", str(access.path) + ".2")
    os.rename(access.path, str(access.path) + ".1")
    access.reopen()
    write_lines(access, range(250, 300))
    arrived(project, range(300))


def test_copytruncate_is_followed(logs, project):
    logs["shipper"].start()
    access = logs["access"]
    write_lines(access, range(100))
    arrived(project, range(100))
    (access.path.parent / "replay-access.log.1").write_bytes(access.path.read_bytes())  # logrotate copytruncate
    os.truncate(access.path, 0)
    write_lines(access, range(100, 150))  # O_APPEND: nginx's next line lands at the new end
    arrived(project, range(150))
    assert "was truncated (copytruncate)" in logs["shipper"].text()


def test_a_restart_resumes_where_it_stopped_even_across_a_rotation(logs, project):
    ship = logs["shipper"].start()
    access = logs["access"]
    write_lines(access, range(100))
    arrived(project, range(100))
    assert ship.stop() == 0
    write_lines(access, range(100, 150))  # while the shipper is stopped: appended, then rotated away
    os.rename(access.path, str(access.path) + ".1")
    access.reopen()
    write_lines(access, range(150, 200))
    ship.start()
    arrived(project, range(200))
    assert "rotated while stopped: finishing" in ship.text()
    assert ship.stop() == 0
    ship.start()  # nothing new: nothing sent again
    write_lines(access, range(200, 210))
    arrived(project, range(210))


def test_the_collector_away_holds_every_line_and_sends_each_once(logs, project, replay_procs):
    ship = logs["shipper"].start()
    access = logs["access"]
    write_lines(access, range(50))
    arrived(project, range(50))
    replay_procs.kill(replay_procs.web)  # the collector stops
    try:
        write_lines(access, range(50, 150))
        ship.wait_for_log("unavailable")
        time.sleep(3)  # several retries meanwhile
    finally:
        replay_procs.start_web()
    arrived(project, range(150))
    text = ship.text()
    assert text.count("unavailable (") == 1 and text.count("takes lines again") == 1, text


def test_a_wrong_server_key_stops_the_shipper_with_the_reason(logs, project):
    ship = logs["shipper"]
    ship.env["REPLAY_SERVER_KEY"] = "sk_not_a_key_of_this_server_00000"
    ship.start()
    write_lines(logs["access"], range(3))
    assert ship.proc.wait(20) == 2
    assert "refused the server key (HTTP 401" in ship.text()
    assert request_ids(project) == []


def test_sigterm_during_the_outage_keeps_the_position(logs, project, replay_procs):
    ship = logs["shipper"].start()
    write_lines(logs["access"], range(20))
    arrived(project, range(20))
    replay_procs.kill(replay_procs.web)
    try:
        write_lines(logs["access"], range(20, 60))
        ship.wait_for_log("unavailable")
        assert ship.stop(signal.SIGTERM) == 0
    finally:
        replay_procs.start_web()
    ship.start()
    arrived(project, range(60))
