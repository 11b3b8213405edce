"""Refused ingest is told to operators: one log line per project, origin and reason a minute, with the fix,
and per-project counts in Redis that stay bounded; an accepted batch costs no extra round trip."""
import json
import logging

import pytest

from replay.core.accounts import Accounts
from replay.core.refusals import Refusals
from replay.ingest.protocol import ProtocolError
from replay.ingest.refusals import RefusalLog
from tests.ingest.test_service import ORIGIN, SECRET, hello, ingest, project_key  # noqa: F401 (fixtures)

LOGGER = "replay.ingest.refused"


def envelope(key, session="sess_0123456789abcdef", seq=1):
    return json.dumps({"v": 1, "key": key, "secret": SECRET, "session": session, "window": "win_0123456789abcdef",
                       "url": ORIGIN + "/", "batches": [{"seq": seq, "events": [{"type": 3, "timestamp": 1, "data": {}}]}]}
                      ).encode()


def refuse(ingest, key, origin):
    with pytest.raises(ProtocolError) as info:
        ingest.http_batch(origin, envelope(key))
    return info.value


def refused_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


def test_a_refused_origin_is_logged_once_a_minute_with_the_command_that_allows_it(ingest, project_key, caplog):
    caplog.set_level(logging.WARNING, LOGGER)
    for _ in range(5):
        assert refuse(ingest, project_key, "http://localhost:8080").code == "origin_not_allowed"
    refuse(ingest, project_key, "http://localhost:3000")
    lines = refused_lines(caplog)
    assert lines == [
        f"ingest refused: origin http://localhost:8080 is not allowed for project {project_key} (shop); "
        f"allow it with: replay project origin add {project_key} http://localhost:8080",
        f"ingest refused: origin http://localhost:3000 is not allowed for project {project_key} (shop); "
        f"allow it with: replay project origin add {project_key} http://localhost:3000"]


def test_refusals_are_counted_per_project_and_origin_with_when_last(ingest, project_key, redis, keys):
    for origin in ["http://localhost:8080"] * 3 + ["https://staging.shop.example", None]:
        refuse(ingest, project_key, origin)
    found = {r.origin: r for r in Refusals(redis, keys).of_project(project_key)}
    assert {o: r.count for o, r in found.items()} == {"http://localhost:8080": 3, "https://staging.shop.example": 1,
                                                      "(none)": 1}
    assert all(r.reason == "origin_not_allowed" and r.last_seen_ms > 1_700_000_000_000 for r in found.values())
    assert 0 < redis.ttl(keys.refused_origins(project_key)[0]) <= 30 * 24 * 3600


def test_an_unknown_key_is_logged_but_makes_no_redis_key(ingest, project_key, redis, caplog):
    caplog.set_level(logging.WARNING, LOGGER)
    before = set(redis.keys("*"))
    assert refuse(ingest, "pk_doesnotexist0", ORIGIN).code == "unknown_project"
    assert set(redis.keys("*")) == before
    assert refused_lines(caplog) == [f"ingest refused: no project has the key pk_doesnotexist0 (origin {ORIGIN}); "
                                     "check the page's data-project-key (replay project list shows the keys)"]


def test_a_flood_of_random_origins_floods_neither_the_log_nor_memory_nor_redis(ingest, project_key, redis, keys,
                                                                                 caplog):
    caplog.set_level(logging.WARNING, LOGGER)
    for i in range(300):
        refuse(ingest, project_key, f"https://h{i}.evil.example")
    assert len(refused_lines(caplog)) == 20  # REFUSAL_LOG_LINES_PER_MIN
    assert len(ingest.refusals.memo) <= 20
    seen, info = keys.refused_origins(project_key)
    assert redis.zcard(seen) == 50 and redis.hlen(info) == 100  # REFUSED_ORIGINS_KEPT, count and reason each
    kept = [r.origin for r in Refusals(redis, keys).of_project(project_key)]
    assert kept[0] == "https://h299.evil.example" and "https://h0.evil.example" not in kept


def test_past_the_line_cap_a_minute_is_summed_up_in_one_line(caplog):
    caplog.set_level(logging.WARNING, LOGGER)
    now = [0.0]
    memo = RefusalLog(interval_s=60, lines_per_min=2, clock=lambda: now[0])
    logged = [memo.should_log(("pk", f"https://h{i}.example", "origin_not_allowed")) for i in range(10)]
    assert logged == [True, True] + [False] * 8
    assert not memo.should_log(("pk", "https://h0.example", "origin_not_allowed"))
    now[0] = 61.0
    assert memo.should_log(("pk", "https://h0.example", "origin_not_allowed"))  # a minute later: again
    assert refused_lines(caplog) == ["ingest refused 8 more times (other origins or keys) in the last minute; "
                                     "not logged one by one"]


def test_a_disabled_project_is_refused_with_its_own_code_and_counted(ingest, project_key, redis, keys, caplog):
    caplog.set_level(logging.WARNING, LOGGER)
    Accounts(redis, keys).project_store.set_enabled(project_key, False)
    ingest._projects.clear()  # the collector's 5 s project cache
    exc = refuse(ingest, project_key, ORIGIN)
    assert (exc.code, exc.http_status, exc.close_code) == ("project_disabled", 403, 4403)
    assert f"replay project enable {project_key}" in exc.message
    [r] = Refusals(redis, keys).of_project(project_key)
    assert (r.origin, r.reason, r.count) == (ORIGIN, "project_disabled", 1)
    assert refused_lines(caplog) == [f"ingest refused: project {project_key} (shop) is disabled (origin {ORIGIN}); "
                                     f"enable it with: replay project enable {project_key}"]
    Accounts(redis, keys).project_store.set_enabled(project_key, True)
    ingest._projects.clear()
    assert ingest.http_batch(ORIGIN, envelope(project_key))["stored"] == 1


def test_an_accepted_batch_costs_the_same_redis_round_trips_as_before(ingest, project_key, redis):
    ingest.http_batch(ORIGIN, envelope(project_key, seq=1))  # the project is cached from here on
    with redis.monitor() as monitor:
        ingest.http_batch(ORIGIN, envelope(project_key, seq=2))
        redis.echo("replay-test-done")
        sent = []
        for line in monitor.listen():
            if line["command"] == "ECHO replay-test-done":
                break
            if line["client_type"] != "lua":
                sent.append(line["command"].split()[0])
    # The admit script and the append script; nothing for refusals (a new pooled connection says HELLO/SELECT).
    sent = [c for c in sent if c not in ("HELLO", "SELECT", "CLIENT")]
    # (SCRIPT EXISTS: redis-py's pipeline checks its scripts are loaded before each execute.)
    assert sent == ["EVALSHA", "SCRIPT", "EVALSHA"]
