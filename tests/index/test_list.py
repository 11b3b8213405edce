"""The sessions list: every filter alone and combined, the list's summary fields, cursor pages, rebuilding."""
from __future__ import annotations

import pytest

from tests import samples
from tests.samples import SITE, T0
from tests.index.test_indexing import dump
from replay.index import sessions as index
from replay.storage import manifest as mf
from replay.core.records import Record
from replay.storage.recording import save_manifest
from worker.cause_index import index_session_causes
from worker.reindex import reindex

W = "win_list_0123456789"
CHROME = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/156.0.0.0 Safari/537.36")
SAFARI_IOS = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
              "Version/17.5 Mobile/15E148 Safari/604.1")


def sid(n: int) -> str:
    return f"sess_list_{n:06d}"


def make(n: int, start: int, *, user=None, project="p1", failures=(), console=0, exceptions=0,
         pages=("/",), ua=CHROME) -> dict:
    """A manifest merged from real events: pages, failed calls (status, path), console errors, exceptions."""
    events = [samples.meta(SITE + path, start + i) for i, path in enumerate(pages)]
    events += [samples.network(status, SITE + path, start + 10 + i) for i, (status, path) in enumerate(failures)]
    events += [samples.console("error", start + 20 + i, f"console {i}") for i in range(console)]
    events += [samples.exception(f"boom {i}", start + 30 + i) for i in range(exceptions)]
    if user:
        events.append(samples.identify(user, start + 40))
    record = Record(W, 1, start + 100, SITE + pages[0], events)
    return mf.merge(mf.new(sid(n)), [record], project=project, user_agent=ua, segment_keys=[], max_body_chars=100)


# Six sessions; 4 and 5 started in the same millisecond.
SESSIONS = {
    1: dict(start=T0, user="alice", failures=[(502, "/api/orders/123")], console=1,
            pages=("/cart", "/checkout", "/cart")),
    2: dict(start=T0 + 1000, user="bob", failures=[(504, "/api/pay?card=1")], exceptions=2, ua=SAFARI_IOS),
    3: dict(start=T0 + 2000, user="alice", project="p2", failures=[(0, "/api/chat")], console=1, exceptions=1),
    4: dict(start=T0 + 3000, failures=[(404, "/api/missing"), (200, "/api/fine")]),
    5: dict(start=T0 + 3000, user="carol", project="p2"),
    6: dict(start=T0 + 4000, user="dave", failures=[(503, "/api/orders/456/items"), (502, "/api/orders/9")]),
}


@pytest.fixture
def listed(make_ctx):
    ctx = make_ctx("local")
    manifests = {n: make(n, **spec) for n, spec in SESSIONS.items()}
    for m in manifests.values():
        save_manifest(ctx.store, m)
        index.index_manifest(ctx.redis, ctx.keys, m)
        index_session_causes(ctx, m)  # as the flush job does after the join

    def query(**filters) -> list[int]:
        return [int(s["session"][-6:]) for s in index.query_sessions(ctx.redis, ctx.keys, **filters)]

    return ctx, manifests, query


FILTERS = [
    ({}, [6, 5, 4, 3, 2, 1]),
    # status: a code, a class, no response
    ({"status": "502"}, [6, 1]),
    ({"status": "504"}, [2]),
    ({"status": "5xx"}, [6, 2, 1]),
    ({"status": "4xx"}, [4]),
    ({"status": "error"}, [3]),
    ({"status": "500"}, []),
    # url: a failed call's URL, or its folded route, contains it
    ({"url": "/api/orders"}, [6, 1]),
    ({"url": "/API/ORDERS/77"}, [6, 1]),  # folded: /api/orders/:id
    ({"url": "orders/:id/items"}, [6]),
    ({"url": "456/items"}, [6]),  # folded: :id/items
    ({"url": "123"}, [1]),  # a bare id: only the raw URL has it
    ({"url": "chat"}, [3]),
    ({"url": SITE + "/api/pay?card=2"}, [2]),
    ({"url": "shop.example/api"}, [6, 4, 3, 2, 1]),
    ({"url": "/api/fine"}, []),  # only failed calls are indexed
    ({"url": "*"}, []),  # glob characters are plain characters
    ({"url": "[a-z]"}, []),
    ({"url": "nothing"}, []),
    # user, project
    ({"user": "alice"}, [3, 1]),
    ({"user": "nobody"}, []),
    ({"project": "p2"}, [5, 3]),
    ({"project": "p9"}, []),
    # errors
    ({"errors": "console"}, [3, 1]),
    ({"errors": "exception"}, [3, 2]),
    ({"errors": "any"}, [3, 2, 1]),
    ({"errors": "ANY"}, [3, 2, 1]),
    # time range (bounds included)
    ({"since_ms": T0 + 3000}, [6, 5, 4]),
    ({"until_ms": T0 + 1000}, [2, 1]),
    ({"since_ms": T0 + 1000, "until_ms": T0 + 3000}, [5, 4, 3, 2]),
    ({"since_ms": T0 + 3001, "until_ms": T0 + 3999}, []),
    ({"since_ms": T0 + 2000, "until_ms": T0 + 1000}, []),
    # combined
    ({"status": "5xx", "user": "alice"}, [1]),
    ({"status": "5xx", "errors": "exception"}, [2]),
    ({"status": "5xx", "errors": "console"}, [1]),
    ({"errors": "any", "project": "p2"}, [3]),
    ({"url": "/api/orders", "status": "503"}, [6]),
    ({"url": "/api/orders", "since_ms": T0 + 1}, [6]),
    ({"url": "/api", "project": "p1", "until_ms": T0 + 3000}, [4, 2, 1]),
    ({"status": "5xx", "url": "orders", "user": "dave", "project": "p1", "errors": None}, [6]),
    ({"status": "error", "url": "chat", "user": "alice", "project": "p2", "errors": "exception",
      "since_ms": T0, "until_ms": T0 + 2000}, [3]),
    ({"status": "error", "user": "bob"}, []),
    ({"limit": 2}, [6, 5]),
    ({"status": "5xx", "limit": 1}, [6]),
]


@pytest.mark.parametrize("filters,expected", FILTERS)
def test_each_filter_alone_and_combined(listed, filters, expected):
    _, _, query = listed
    assert query(**filters) == expected


@pytest.mark.parametrize("bad", [{"errors": "warnings"}, {"errors": "1"}, {"cursor": "yesterday"},
                                 {"cursor": "12:short"}, {"cursor": "-1:sess_list_000001"},
                                 {"cursor": "01:sess_list_000001"}, {"cursor": "1:sess list 0001"},
                                 {"cursor": "1:sess_list_000001\n"}, {"status": "5x"}])
def test_bad_filters_are_refused(listed, bad):
    ctx, _, _ = listed
    with pytest.raises(ValueError):
        index.query_page(ctx.redis, ctx.keys, **bad)


def test_the_list_shows_what_a_developer_scans_for(listed):
    ctx, _, _ = listed
    by_id = {int(s["session"][-6:]): s for s in index.query_sessions(ctx.redis, ctx.keys)}
    one, two, four = by_id[1], by_id[2], by_id[4]
    assert (one["started_ms"], one["duration_ms"], one["user"]["id"]) == (T0, 40, "alice")
    assert one["first_url"] == SITE + "/cart" and one["pages_visited"] == 3
    assert one["page_urls"] == [SITE + "/cart", SITE + "/checkout", SITE + "/cart"]
    assert (one["browser"], two["browser"]) == ("Chrome 156 / Linux", "Safari 17 / iOS")
    assert (one["counts"]["network_failures"], one["counts"]["console_errors"], one["counts"]["exceptions"]) == (1, 1, 0)
    assert (one["has_5xx"], two["has_5xx"], four["has_5xx"], by_id[3]["has_5xx"]) == (True, True, False, False)
    assert four["statuses"] == [404] and four["counts"]["network_failures"] == 1


def test_summaries_indexed_before_the_list_fields_still_list(listed):
    ctx, manifests, _ = listed
    old = index.get_summary(ctx.redis, ctx.keys, sid(2))
    for field in ("browser", "has_5xx", "pages_visited", "page_urls"):
        old.pop(field)
    import json
    ctx.redis.set(ctx.keys.session(sid(2)), json.dumps(old))
    [s] = index.query_sessions(ctx.redis, ctx.keys, user="bob")
    assert (s["browser"], s["has_5xx"], s["pages_visited"]) == ("Safari 17 / iOS", True, 1)


# --- cursor pages ----------------------------------------------------------------------------------------

def crowd(ctx, n: int = 240) -> list[dict]:
    """n sessions, seven to a millisecond, every third with a 502 (two routes), users u0..u3; returns the manifests."""
    manifests = []
    for i in range(n):
        m = make(1000 + i, T0 + (i // 7) * 1000, user=f"u{i % 4}",
                 failures=[(502, "/api/orders/1" if i % 2 else "/api/orders")] if i % 3 == 0 else [(404, f"/api/items/{i}")],
                 exceptions=1 if i % 5 == 0 else 0)
        index.index_manifest(ctx.redis, ctx.keys, m)
        manifests.append(m)
    return manifests


def expected_order(manifests, keep=lambda m: True) -> list[str]:
    """Newest first; same start: higher session id first (Redis's order of equal scores, reversed)."""
    return [m["session"] for m in sorted((m for m in manifests if keep(m)),
                                          key=lambda m: (m["started_ms"], m["session"].encode()), reverse=True)]


def all_pages(ctx, limit: int, **filters) -> tuple[list[str], int]:
    seen, cursor, pages = [], None, 0
    while True:
        page = index.query_page(ctx.redis, ctx.keys, limit=limit, cursor=cursor, **filters)
        assert len(page.sessions) == limit or page.next_cursor is None
        seen += [s["session"] for s in page.sessions]
        pages += 1
        if page.next_cursor is None:
            return seen, pages
        cursor = page.next_cursor
        assert pages < 1000


@pytest.mark.parametrize("limit", [1, 6, 7, 10, 50])
@pytest.mark.parametrize("filters,keep", [
    ({}, lambda m: True),
    ({"status": "502"}, lambda m: 502 in m["failed_statuses"]),
    ({"status": "4xx", "user": "u1"}, lambda m: 404 in m["failed_statuses"] and m["user"]["id"] == "u1"),
    ({"errors": "exception", "url": "/api/orders"}, lambda m: m["counts"]["exceptions"] and 502 in m["failed_statuses"]),
    # Two routes walked as one merged list; then a bare digit found in many URLs (one stored union).
    ({"url": "/api/orders"}, lambda m: 502 in m["failed_statuses"]),
    ({"url": "1", "user": "u2"}, lambda m: any("1" in u for u in m["failed_urls"]) and m["user"]["id"] == "u2"),
    ({"url": "1"}, lambda m: any("1" in u for u in m["failed_urls"])),
    ({"since_ms": T0 + 5000, "until_ms": T0 + 20_000}, lambda m: T0 + 5000 <= m["started_ms"] <= T0 + 20_000),
])
def test_cursor_pages_neither_skip_nor_repeat_equal_start_times(make_ctx, limit, filters, keep):
    ctx = make_ctx("local")
    manifests = crowd(ctx)
    expected = expected_order(manifests, keep)
    seen, pages = all_pages(ctx, limit, **filters)
    assert seen == expected
    assert pages == max(1, -(-len(expected) // limit))  # the last page is never an empty one


def test_a_cursor_from_another_list_resumes_at_its_place(make_ctx):
    ctx = make_ctx("local")
    manifests = crowd(ctx, 70)
    everything = expected_order(manifests)
    with_502 = expected_order(manifests, lambda m: 502 in m["failed_statuses"])
    # Cursors naming sessions without a 502 (not in the status zset): the 502 list resumes right after them.
    for place in range(0, 70, 3):
        session = everything[place]
        started = next(m["started_ms"] for m in manifests if m["session"] == session)
        page = index.query_page(ctx.redis, ctx.keys, status="502", limit=5, cursor=f"{started}:{session}")
        later = [s for s in with_502 if everything.index(s) > place][:5]
        assert [s["session"] for s in page.sessions] == later, place


def test_newer_sessions_arriving_between_pages_do_not_shift_the_next_page(make_ctx):
    ctx = make_ctx("local")
    manifests = crowd(ctx, 30)
    first = index.query_page(ctx.redis, ctx.keys, limit=10)
    for i in range(5):
        index.index_manifest(ctx.redis, ctx.keys, make(5000 + i, T0 + 10**6, user="late"))
    second = index.query_page(ctx.redis, ctx.keys, limit=10, cursor=first.next_cursor)
    assert [s["session"] for s in first.sessions + second.sessions] == expected_order(manifests)[:20]


def test_selective_filters_read_only_what_they_match(make_ctx, monkeypatch):
    """Two rare sessions among 600: the query reads their summaries, not the others'."""
    ctx = make_ctx("local")
    for i in range(600):
        user = "rare" if i in (17, 401) else f"u{i}"
        index.index_manifest(ctx.redis, ctx.keys, make(2000 + i, T0 + i * 10, user=user,
                                                       failures=[(502, f"/api/orders/{i}")], exceptions=1))
    read = []
    real_mget = type(ctx.redis).mget
    monkeypatch.setattr(type(ctx.redis), "mget", lambda self, keys, *a: read.extend(keys) or real_mget(self, keys, *a))
    page = index.query_page(ctx.redis, ctx.keys, status="5xx", errors="exception", user="rare", url="/api/orders")
    assert [s["session"] for s in page.sessions] == [sid(2401), sid(2017)]
    assert len(read) == 2
    read.clear()
    # A bare id is looked for in the URLs (with a '/', it would be folded and match the route).
    page = index.query_page(ctx.redis, ctx.keys, url="401")
    assert [s["session"] for s in page.sessions] == [sid(2401)] and len(read) == 1
    assert len(index.query_sessions(ctx.redis, ctx.keys, url="orders/401", limit=1000)) == 600


def test_reindex_gives_the_same_lists_and_pages(listed):
    ctx, manifests, query = listed
    before = dump(ctx.redis)
    pages_before = all_pages(ctx, 2)
    ctx.redis.flushdb()
    assert query() == []
    assert reindex(ctx) == len(manifests)
    assert dump(ctx.redis) == before
    for filters, expected in FILTERS:
        assert query(**filters) == expected, filters
    assert all_pages(ctx, 2) == pages_before


def test_indexing_again_changes_nothing(listed):
    ctx, manifests, _ = listed
    before = dump(ctx.redis)
    for m in manifests.values():
        index.index_manifest(ctx.redis, ctx.keys, m)
    assert dump(ctx.redis) == before
