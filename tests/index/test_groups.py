"""Failed-call groups: counts, filters, the sessions behind a group, idempotent indexing, rebuilding."""
from __future__ import annotations

import pytest

from tests import samples
from tests.samples import T0
from tests.index.test_indexing import dump
from worker import jobs
from replay.index import groups
from replay.index import sessions as index
from replay.storage import manifest as mf
from replay.core.records import Record
from replay.storage.recording import load_manifest, save_manifest
from worker.cause_index import index_session_causes
from worker.reindex import reindex
from replay.core.route_folding import HOUR_MS as H

API = "https://api.shop.example"
B = T0 - T0 % H  # an hour boundary
M = 60_000
W = "win_grp_0123456789"
ORDERS = "api.shop.example/api/orders/:id"


def sid(name: str) -> str:
    return f"sess_grp_{name}_000000"


def record(seq: int, calls, *, user=None, window=W, at=None) -> Record:
    """A batch of calls (method, status, path, t) and an optional identify."""
    events = [samples.network(status, API + path, t, method=method) for method, status, path, t in calls]
    if user:
        events.append(samples.identify(user, at if at is not None else calls[-1][3]))
    return Record(window, seq, B, API + "/", events)


def merge(m: dict, *records: Record, project="p1") -> dict:
    return mf.merge(m, records, project=project, user_agent="ua", segment_keys=[], max_body_chars=100)


def base_manifests() -> dict:
    return {
        "S1": merge(mf.new(sid("S1")),
                    record(1, [("POST", 502, "/api/orders/1", B + 10 * M),
                               ("POST", 502, "/api/orders/2?x=1", B + 20 * M)], user="alice"),
                    record(2, [("GET", 0, "/api/cart", B + 30 * M)])),
        "S2": merge(mf.new(sid("S2")),
                    record(1, [("POST", 502, "/api/orders/77", B + 2 * H + 5 * M),
                               ("GET", 404, "/api/items/507f1f77bcf86cd799439011", B + 2 * H + 6 * M)], user="bob")),
        "S3": merge(mf.new(sid("S3")), record(1, [("POST", 502, "/api/orders/5", B + 5 * H)], user="alice")),
        "S4": merge(mf.new(sid("S4")), record(1, [("POST", 502, "/api/orders/9", B + 6 * H)]), project="p2"),
        "S5": merge(mf.new(sid("S5")), record(1, [("GET", 503, "/api/users/550e8400-e29b-41d4-a716-446655440000/cart",
                                                   B + 30 * H)])),
    }


@pytest.fixture
def indexed(make_ctx):
    ctx = make_ctx("local")
    manifests = base_manifests()
    for m in manifests.values():
        save_manifest(ctx.store, m)
        # As the flush job indexes a session: its groups, then (after the join) their causes.
        index.index_manifest(ctx.redis, ctx.keys, m)
        index_session_causes(ctx, m)
    return ctx, manifests


def q(ctx, **filters) -> list[dict]:
    return groups.query_groups(ctx.redis, ctx.keys, now_ms=B + 6 * H + 1, **filters)


def names(found: list[dict]) -> list[str]:
    return [f"{g['project']} {g['method']} {g['status']} {g['host']}{g['route']}" for g in found]


ALL = ["p1 GET 503 api.shop.example/api/users/:id/cart", f"p2 POST 502 {ORDERS}", f"p1 POST 502 {ORDERS}",
       "p1 GET 404 api.shop.example/api/items/:id", "p1 GET 0 api.shop.example/api/cart"]


def orders_p1(ctx, **filters) -> dict:
    [found] = [g for g in q(ctx, project="p1", **filters) if g["route"] == "/api/orders/:id"]
    return found


def test_groups_count_calls_sessions_and_users(indexed):
    ctx, _ = indexed
    found = q(ctx)
    assert names(found) == ALL  # the most recently failing first
    g = orders_p1(ctx)
    assert g["id"] == groups.group_id("p1", "POST", "api.shop.example", "/api/orders/:id", 502, "quick")
    assert g["sign"] == "quick" and "refused or dropped" in g["sign_label"]
    assert {k: g[k] for k in ("method", "host", "route", "status", "count", "sessions", "users")} == {
        "method": "POST", "host": "api.shop.example", "route": "/api/orders/:id", "status": 502,
        "count": 4, "sessions": 3, "users": 2}
    assert (g["first_seen_ms"], g["last_seen_ms"]) == (B + 10 * M, B + 5 * H)
    # The last 48 hours up to now, one bucket an hour.
    assert len(g["buckets"]) == groups.CHART_HOURS and g["buckets"][-1][0] == B + 6 * H
    assert [b for b in g["buckets"] if b[1]] == [[B, 2], [B + 2 * H, 1], [B + 5 * H, 1]]
    assert groups.get_group(ctx.redis, ctx.keys, g["id"], now_ms=B + 6 * H + 1) == g
    [other] = q(ctx, project="p2")
    assert (other["count"], other["sessions"], other["users"]) == (1, 1, 0)  # no identify, no user


@pytest.mark.parametrize("filters,expected", [
    ({"status": "502"}, [1, 2]),
    ({"status": 502}, [1, 2]),
    ({"status": "5xx"}, [0, 1, 2]),
    ({"status": "4xx"}, [3]),
    ({"status": "404"}, [3]),
    ({"status": "error"}, [4]),
    ({"status": "500"}, []),
    ({"project": "p2"}, [1]),
    ({"project": "p1", "status": "5xx"}, [0, 2]),
    ({"project": "nope"}, []),
    ({"url": "orders"}, [1, 2]),
    ({"url": "API.SHOP.example/API/orders"}, [1, 2]),
    ({"url": API + "/api/orders/12345?x=1"}, [1, 2]),  # a concrete URL finds its route
    ({"url": "/users/550e8400-e29b-41d4-a716-446655440000"}, [0]),
    ({"url": "/api/cart"}, [4]),
    ({"url": "123"}, []),
    ({"url": "orders", "project": "p2"}, [1]),
    ({"since_ms": B + 4 * H}, [0, 1, 2]),
    ({"until_ms": B + H}, [2, 4]),
    ({"since_ms": B + 2 * H, "until_ms": B + 3 * H}, [2, 3]),
    # Neither the first nor the last call of the orders group is in this window, but a call is.
    ({"since_ms": B + 2 * H, "until_ms": B + 2 * H + 5 * M}, [2]),
    ({"since_ms": B + 3 * H, "until_ms": B + 4 * H}, []),
    ({"since_ms": B + 4 * H, "until_ms": B + 3 * H}, []),
    ({"since_ms": B + 5 * H, "status": "502", "url": "orders", "project": "p1"}, [2]),
    ({"limit": 2}, [0, 1]),
    ({"status": "5xx", "limit": 1}, [0]),
])
def test_filters(indexed, filters, expected):
    ctx, _ = indexed
    assert names(q(ctx, **filters)) == [ALL[i] for i in expected]


@pytest.mark.parametrize("bad", [{"status": "teapot"}, {"limit": 0}, {"since_ms": "today"}, {"until_ms": 1.5}])
def test_invalid_filters_are_refused(indexed, bad):
    ctx, _ = indexed
    with pytest.raises(ValueError):
        q(ctx, **bad)


def test_buckets_cover_the_window_asked_for(indexed):
    ctx, _ = indexed
    g = orders_p1(ctx, since_ms=B + 30 * M, until_ms=B + 5 * H + 1)
    assert g["buckets"] == [[B, 2], [B + H, 0], [B + 2 * H, 1], [B + 3 * H, 0], [B + 4 * H, 0], [B + 5 * H, 1]]
    assert g["count"] == 4  # totals, whatever the window
    long = orders_p1(ctx, since_ms=B - 90 * 24 * H, until_ms=B + 5 * H)
    assert len(long["buckets"]) == groups.MAX_CHART_HOURS and long["buckets"][-1] == [B + 5 * H, 1]


def test_group_sessions_open_at_the_latest_failing_call(indexed):
    ctx, manifests = indexed
    gid = orders_p1(ctx)["id"]
    found = groups.group_sessions(ctx.redis, ctx.keys, gid)
    assert [(s["session"], s["ts"]) for s in found] == [
        (sid("S3"), B + 5 * H), (sid("S2"), B + 2 * H + 5 * M), (sid("S1"), B + 20 * M)]
    assert found[2]["call"] == f"{W}:1:1"
    for s in found:
        [call] = [c for c in manifests[s["session"].split("_")[2]]["network_failures"] if c["id"] == s["call"]]
        assert (call["ts"], call["status"]) == (s["ts"], 502)
    assert [s["session"] for s in groups.group_sessions(ctx.redis, ctx.keys, gid, limit=1)] == [sid("S3")]
    assert groups.group_sessions(ctx.redis, ctx.keys, "0" * 16) == []
    assert groups.group_sessions(ctx.redis, ctx.keys, "../not-an-id") == []
    assert groups.get_group(ctx.redis, ctx.keys, "0" * 16) is None


def test_call_ids_name_the_failed_call_in_its_batch(indexed):
    _, manifests = indexed
    assert [c["id"] for c in manifests["S1"]["network_failures"]] == [f"{W}:1:0", f"{W}:1:1", f"{W}:2:0"]
    assert manifests["S1"]["network_failures"][0]["url"] == API + "/api/orders/1"  # existing fields kept


def test_indexing_again_changes_nothing(indexed):
    ctx, manifests = indexed
    before = dump(ctx.redis)
    for m in manifests.values():
        index.index_manifest(ctx.redis, ctx.keys, m)
    assert dump(ctx.redis) == before


def test_a_retried_flush_and_a_later_flush_count_each_call_once(indexed):
    ctx, manifests = indexed
    first = record(1, [("POST", 502, "/api/orders/1", B + 10 * M), ("POST", 502, "/api/orders/2", B + 20 * M)],
                   user="alice")
    later = record(3, [("POST", 502, "/api/orders/3", B + 40 * M)])
    m = merge(manifests["S1"], first, later)  # seq 1 again (retried) and seq 3 (new)
    index.index_manifest(ctx.redis, ctx.keys, m)
    index.index_manifest(ctx.redis, ctx.keys, m)
    g = orders_p1(ctx)
    assert (g["count"], g["sessions"], g["users"]) == (5, 3, 2)
    assert [b for b in g["buckets"] if b[1]] == [[B, 3], [B + 2 * H, 1], [B + 5 * H, 1]]
    [s1] = [s for s in groups.group_sessions(ctx.redis, ctx.keys, g["id"]) if s["session"] == sid("S1")]
    assert s1 == {"session": sid("S1"), "ts": B + 40 * M, "call": f"{W}:3:0"}


def test_users_follow_a_later_identify(indexed):
    ctx, manifests = indexed
    s3 = merge(manifests["S3"], Record(W, 2, B, API, [samples.identify("dave", B + 6 * H)]))
    index.index_manifest(ctx.redis, ctx.keys, s3)
    assert orders_p1(ctx)["users"] == 3  # alice (S1), bob, dave
    s1 = merge(manifests["S1"], Record(W, 9, B, API, [samples.identify("dave", B + 6 * H)]))
    index.index_manifest(ctx.redis, ctx.keys, s1)
    assert orders_p1(ctx)["users"] == 2  # bob, dave
    assert sorted(ctx.redis.hgetall(ctx.keys.group_users(orders_p1(ctx)["id"]))) == [b"bob", b"dave"]


def test_a_session_that_gains_its_project_moves_to_that_projects_groups(make_ctx):
    ctx = make_ctx("local")
    m = merge(mf.new(sid("P")), record(1, [("GET", 500, "/x/1", B)]), project=None)
    index.index_manifest(ctx.redis, ctx.keys, m)
    assert [(g["project"], g["count"]) for g in q(ctx)] == [(None, 1)]
    m = merge(m, record(2, [("GET", 500, "/x/2", B + 1)]), project="p9")
    index.index_manifest(ctx.redis, ctx.keys, m)
    assert [(g["project"], g["count"], g["sessions"]) for g in q(ctx)] == [("p9", 2, 1)]
    assert names(q(ctx, project="p9")) == ["p9 GET 500 api.shop.example/x/:id"]
    gone = groups.group_id(None, "GET", "api.shop.example", "/x/:id", 500)
    assert not ctx.redis.keys(f"*{gone}*")


def test_counts_go_past_the_manifests_cap_on_listed_calls(make_ctx):
    ctx = make_ctx("local")
    calls = [("GET", 502, f"/api/poll/{i}", B + i) for i in range(mf.MAX_FAILURES + 100)]
    m = merge(mf.new(sid("CAP")), record(1, calls))
    assert len(m["network_failures"]) == mf.MAX_FAILURES
    index.index_manifest(ctx.redis, ctx.keys, m)
    [g] = q(ctx)
    assert g["count"] == mf.MAX_FAILURES + 100 and g["last_seen_ms"] == B + mf.MAX_FAILURES + 99


def test_a_manifest_from_before_groups_is_indexed_from_its_listed_calls(make_ctx):
    ctx = make_ctx("local")
    old = base_manifests()["S1"]
    del old["failure_groups"]
    for call in old["network_failures"]:
        del call["id"]
    index.index_manifest(ctx.redis, ctx.keys, old)
    g = orders_p1(ctx)
    assert (g["count"], g["sessions"], g["users"], g["first_seen_ms"]) == (2, 1, 1, B + 10 * M)
    assert groups.group_sessions(ctx.redis, ctx.keys, g["id"]) == [
        {"session": sid("S1"), "ts": B + 20 * M, "call": None}]
    assert "failure_groups" in merge(old, record(5, []))


def test_reindex_rebuilds_the_same_groups(indexed):
    ctx, _ = indexed
    before, found = dump(ctx.redis), q(ctx)
    assert any(b"idx:group" in key for key in before)
    ctx.redis.flushdb()
    assert q(ctx) == []
    assert reindex(ctx) == 5
    assert dump(ctx.redis) == before and q(ctx) == found


def test_the_flush_job_indexes_groups_once(make_ctx):
    ctx = make_ctx("local")
    session = "sess_grpjob_0123456"
    ctx.redis.hset(ctx.keys.session_meta(session), mapping={"project": "proj-key", "ua": "ua"})
    samples.append_all(ctx.buffer, session, samples.checkout_session())
    jobs.flush_session(session)
    samples.append_all(ctx.buffer, session, samples.checkout_session())  # a client resending everything
    jobs.flush_session(session)
    failures = load_manifest(ctx.store, session)["network_failures"]
    assert [f["id"] for f in failures] == ["win_aaaaaaaaaaaa:2:0", "win_bbbbbbbbbbbb:1:0"]
    found = groups.query_groups(ctx.redis, ctx.keys, now_ms=T0)
    assert [(g["method"], g["status"], g["host"] + g["route"], g["count"], g["users"]) for g in found] == [
        ("GET", 0, "shop.example/api/chat", 1, 1), ("POST", 502, "shop.example/api/orders", 1, 1)]
    assert groups.group_sessions(ctx.redis, ctx.keys, found[1]["id"]) == [
        {"session": session, "ts": T0 + 200, "call": "win_aaaaaaaaaaaa:2:0"}]


def commands(redis, run) -> int:
    """How many Redis commands run() sends (server-wide stats: tests here run one at a time)."""
    redis.config_resetstat()
    run()
    stats = redis.info("commandstats")
    return sum(v["calls"] for k, v in stats.items() if not k.startswith(("cmdstat_config", "cmdstat_info")))


def test_queries_do_not_grow_with_the_sessions_affected(make_ctx):
    ctx = make_ctx("local")

    def add(first: int, n: int) -> None:
        for i in range(first, first + n):
            m = merge(mf.new(f"sess_many_{i:010d}"), record(1, [("GET", 502, f"/api/a/{i}", B + i)], user=f"u{i}"))
            index.index_manifest(ctx.redis, ctx.keys, m)

    def query():
        [g] = q(ctx, status="502", url="/api/a")
        groups.group_sessions(ctx.redis, ctx.keys, g["id"], limit=10)

    add(0, 5)
    few = commands(ctx.redis, query)
    add(5, 300)
    assert commands(ctx.redis, query) == few
    [g] = q(ctx)
    assert (g["count"], g["sessions"], g["users"]) == (305, 305, 305)


def test_every_groups_latest_call_stays_listed_past_the_cap(make_ctx):
    # An outage: hundreds of polls fail, and one checkout call fails in the middle of them.
    polls = [("GET", 502, f"/api/poll/{i}", B + i) for i in range(300)]
    checkout = [("POST", 502, "/api/checkout", B + 300)]
    later = [("GET", 502, f"/api/poll/{i}", B + 301 + i) for i in range(300)]
    m = merge(mf.new(sid("MID")), record(1, polls + checkout + later))
    listed = {c["id"] for c in m["network_failures"]}
    groups_latest = {(g["route"], g["call"]) for g in m["failure_groups"].values()}
    assert groups_latest == {("/api/poll/:id", f"{W}:1:600"), ("/api/checkout", f"{W}:1:300")}
    assert {call for _, call in groups_latest} <= listed
    # The first and the latest half of the cap, plus the checkout call kept for its group.
    assert len(m["network_failures"]) == mf.MAX_FAILURES + 1
    assert m["network_failures"][0]["ts"] == B and m["network_failures"][-1]["ts"] == B + 600
