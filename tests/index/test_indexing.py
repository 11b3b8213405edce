"""The Redis index: filters, ordering, limits, idempotence, and rebuilding it from storage."""
from __future__ import annotations

import pytest

from tests import samples
from tests.samples import SITE, T0
from replay.index import sessions as index
from replay.storage import manifest as mf
from replay.core.records import Record
from replay.storage.recording import save_manifest
from worker.cause_index import index_session_causes
from worker.reindex import reindex

W = "win_idx_0123456789"


def make_manifest(n: int, start: int, *, user=None, project="p1", failures=(), error=False) -> dict:
    events = [samples.meta(f"{SITE}/page{n}", start)]
    events += [samples.network(status, SITE + path, start + 10 + i) for i, (status, path) in enumerate(failures)]
    if user:
        events.append(samples.identify(user, start + 50))
    if error:
        events.append(samples.exception("boom", start + 60))
    record = Record(W, 1, start + 100, f"{SITE}/page{n}", events)
    return mf.merge(mf.new(f"sess_idx_{n:012d}"), [record], project=project, user_agent="ua",
                    segment_keys=[], max_body_chars=1000)


@pytest.fixture
def stored(make_ctx):
    """Four sessions, a second apart, saved and indexed."""
    ctx = make_ctx("local")
    manifests = {
        "A": make_manifest(1, T0, user="alice", failures=[(502, "/api/orders?id=7")], error=True),
        "B": make_manifest(2, T0 + 1000, user="bob", failures=[(503, "/api/pay?x=1")]),
        "C": make_manifest(3, T0 + 2000, user="alice", project="p2",
                           failures=[(0, "/api/orders/123"), (404, "/api/missing")]),
        "D": make_manifest(4, T0 + 3000, failures=[(200, "/api/ok")]),
    }
    for m in manifests.values():
        save_manifest(ctx.store, m)
        # As the flush job indexes a session: the session and its groups, then (after the join) their causes.
        index.index_manifest(ctx.redis, ctx.keys, m)
        index_session_causes(ctx, m)
    names = {m["session"]: name for name, m in manifests.items()}

    def query(**filters) -> list[str]:
        return [names[s["session"]] for s in index.query_sessions(ctx.redis, ctx.keys, **filters)]

    return ctx, manifests, query


QUERIES = [
    ({}, ["D", "C", "B", "A"]),
    ({"status": "502"}, ["A"]),
    ({"status": 502}, ["A"]),
    ({"status": "5xx"}, ["B", "A"]),
    ({"status": "5XX"}, ["B", "A"]),
    ({"status": "4xx"}, ["C"]),
    ({"status": "404"}, ["C"]),
    ({"status": "error"}, ["C"]),
    ({"status": "500"}, []),
    ({"user": "alice"}, ["C", "A"]),
    ({"user": "alice", "status": "5xx"}, ["A"]),
    ({"user": "nobody"}, []),
    ({"project": "p1"}, ["D", "B", "A"]),
    ({"project": "p2", "user": "alice"}, ["C"]),
    ({"url": "/api/orders"}, ["C", "A"]),
    ({"url": SITE + "/api/orders?id=7"}, ["C", "A"]),
    ({"url": "SHOP.example/API/PAY"}, ["B"]),
    ({"url": "/api/orders", "status": "error"}, ["C"]),
    ({"url": "/api/ok"}, []),  # only failed calls are indexed
    ({"url": "nothing"}, []),
    ({"since_ms": T0 + 1000}, ["D", "C", "B"]),
    ({"until_ms": T0 + 1000}, ["B", "A"]),
    ({"since_ms": T0 + 500, "until_ms": T0 + 2500}, ["C", "B"]),
    ({"status": "5xx", "since_ms": T0 + 1}, ["B"]),
    ({"limit": 2}, ["D", "C"]),
    ({"user": "alice", "limit": 1}, ["C"]),
]


@pytest.mark.parametrize("filters,expected", QUERIES)
def test_filters_and_order(stored, filters, expected):
    _, _, query = stored
    assert query(**filters) == expected


@pytest.mark.parametrize("status", ["teapot", "600", "5x", "50", "5xxx", "xx", "erro", "errors"])
def test_invalid_status_is_refused(stored, status):
    ctx, _, _ = stored
    with pytest.raises(ValueError):
        index.query_sessions(ctx.redis, ctx.keys, status=status)


@pytest.mark.parametrize("bad", [{"limit": 0}, {"limit": -1}, {"since_ms": "yesterday"}, {"until_ms": 1.5}])
def test_invalid_arguments_are_refused(stored, bad):
    ctx, _, _ = stored
    with pytest.raises(ValueError):
        index.query_sessions(ctx.redis, ctx.keys, **bad)


def test_summary(stored):
    ctx, manifests, _ = stored
    s = index.get_summary(ctx.redis, ctx.keys, manifests["C"]["session"])
    assert set(s) == {"session", "project", "started_ms", "ended_ms", "duration_ms", "user", "first_url",
                      "pages_visited", "page_urls", "user_agent", "browser", "counts", "statuses", "has_5xx",
                      "failed_urls", "release", "environment", "releases", "frustration", "failing_endpoint"}
    assert (s["pages_visited"], s["page_urls"], s["has_5xx"]) == (1, [SITE + "/page3"], False)
    assert (s["project"], s["user"], s["first_url"]) == ("p2", {"id": "alice", "traits": {}}, SITE + "/page3")
    assert s["statuses"] == [0, 404]
    assert s["failed_urls"] == [SITE + "/api/orders/123", SITE + "/api/missing"]
    assert index.get_summary(ctx.redis, ctx.keys, "sess_unknown_000000") is None


def dump(redis) -> dict:
    out = {}
    for key in sorted(redis.keys("*")):
        kind = redis.type(key)
        out[key] = {b"zset": lambda: redis.zrange(key, 0, -1, withscores=True),
                    b"set": lambda: sorted(redis.smembers(key)),
                    b"hash": lambda: redis.hgetall(key),
                    b"string": lambda: redis.get(key)}[kind]()
    return out


def test_indexing_again_changes_nothing(stored):
    ctx, manifests, _ = stored
    before = dump(ctx.redis)
    for m in manifests.values():
        index.index_manifest(ctx.redis, ctx.keys, m)
    assert dump(ctx.redis) == before


def test_reindex_rebuilds_the_same_results(stored):
    ctx, manifests, query = stored
    before = dump(ctx.redis)
    ctx.redis.flushdb()
    assert query() == []
    assert reindex(ctx) == 4
    assert dump(ctx.redis) == before
    for filters, expected in QUERIES:
        assert query(**filters) == expected, filters
    assert reindex(ctx) == 4 and dump(ctx.redis) == before


def test_reindex_drops_only_index_keys(stored):
    ctx, _, _ = stored
    ctx.redis.set(ctx.keys.project("pk"), "kept")
    ctx.redis.set(ctx.keys.session("sess_gone_0000000000"), "{}")  # a session storage no longer has
    reindex(ctx)
    assert ctx.redis.get(ctx.keys.project("pk")) == b"kept"
    assert not ctx.redis.exists(ctx.keys.session("sess_gone_0000000000"))


def test_paging_past_non_matching_sessions(make_ctx):
    ctx = make_ctx("local")
    # 300 sessions, all with a 500; only every 50th belongs to "rare": the user zset drives, pages are walked.
    for n in range(300):
        m = make_manifest(n, T0 + n * 1000, user="rare" if n % 50 == 0 else f"u{n}", failures=[(500, "/api/x")])
        index.index_manifest(ctx.redis, ctx.keys, m)
    found = index.query_sessions(ctx.redis, ctx.keys, status="5xx", user="rare", limit=4)
    assert [s["session"] for s in found] == [f"sess_idx_{n:012d}" for n in (250, 200, 150, 100)]
    found = index.query_sessions(ctx.redis, ctx.keys, status="500", url="/api/x", since_ms=T0 + 150_000, limit=1000)
    assert len(found) == 150 and found[0]["started_ms"] == T0 + 299_000
