"""Folding URLs into routes, and a session's tally of failed calls per group."""
from __future__ import annotations

import pytest

from replay.core import route_folding

ROUTES = [
    # Integers, UUIDs, long hex (ObjectIds, hashes), ULIDs, tokens, emails become ':id'.
    ("/api/orders/123", "/api/orders/:id"),
    ("/api/orders/123/", "/api/orders/:id/"),
    ("/users/550e8400-e29b-41d4-a716-446655440000/cart", "/users/:id/cart"),
    ("/users/550E8400-E29B-41D4-A716-446655440000", "/users/:id"),
    ("/o/507f1f77bcf86cd799439011", "/o/:id"),
    ("/blobs/d41d8cd98f00b204e9800998ecf8427e", "/blobs/:id"),
    ("/x/01ARZ3NDEKTSV4RRFFQ69G5FAV/y", "/x/:id/y"),
    ("/x/01arz3ndektsv4rrffq69g5fav", "/x/:id"),
    ("/reset/aB3dE5fG7hJ9kL1mN3pQ5rS", "/reset/:id"),
    ("/t/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "/t/:id"),
    ("/u/bob@example.com/prefs", "/u/:id/prefs"),
    ("/a/1/b/2/c/3", "/a/:id/b/:id/c/:id"),
    ("/invoices/123.pdf", "/invoices/:id.pdf"),
    # Not ids: versions, words, slugs, file names, short hex, hex-looking words.
    ("/v2/items", "/v2/items"),
    ("/files/report-2024.pdf", "/files/report-2024.pdf"),
    ("/blog/annual-report-2024-summary-final", "/blog/annual-report-2024-summary-final"),
    ("/api/v1/user_profile_settings", "/api/v1/user_profile_settings"),
    ("/colors/ff00aa", "/colors/ff00aa"),
    ("/words/deadbeefdeadbeefcafe", "/words/deadbeefdeadbeefcafe"),
    ("/s3", "/s3"),
    ("/", "/"),
    ("", "/"),
    # Host kept (lower case, with a port), scheme, credentials, query and fragment dropped.
    ("https://API.Example.com/api/orders/42?token=abc#top", "api.example.com/api/orders/:id"),
    ("http://user:pw@shop.example:8080/cart/7", "shop.example:8080/cart/:id"),
    ("https://shop.example", "shop.example/"),
    ("https://shop.example?x=1", "shop.example/"),
    ("/api/search?q=123", "/api/search"),
    ("  /api/orders/9  ", "/api/orders/:id"),
]


@pytest.mark.parametrize("url,expected", ROUTES)
def test_normalize_route(url, expected):
    assert route_folding.normalize_route(url) == expected


@pytest.mark.parametrize("url,expected", [
    ("https://api.example.com/api/orders/1", ("api.example.com", "/api/orders/:id")),
    ("/api/orders/1", ("", "/api/orders/:id")),
    ("http://shop.example:bad/x/1?y", ("", "http://shop.example:bad/x/:id")),  # unparseable port: path only
])
def test_route_parts(url, expected):
    assert route_folding.route_parts(url) == expected


def test_routes_are_capped():
    assert len(route_folding.normalize_route("/" + "a" * 5000)) == route_folding.MAX_ROUTE_CHARS


def call(n: int, ts: int, url: str = "https://api.example.com/api/orders/1", status: int = 502, method: str = "POST",
         duration: float = 40.0):
    return {"id": route_folding.call_id("win_t_0123456789", 1, n), "method": method, "url": url, "status": status,
            "ts": ts, "duration_ms": duration}


def test_tally_counts_per_group_with_first_last_and_hours():
    h = route_folding.HOUR_MS
    groups: dict = {}
    for c in [call(0, 10 * h + 5), call(1, 10 * h + 1), call(2, 11 * h), call(3, 11 * h, url="/api/orders/2"),
              call(4, 12 * h, status=503), call(5, 12 * h, method="GET")]:
        route_folding.tally(groups, c)
    assert sorted(groups) == ["GET 502/quick api.example.com/api/orders/:id", "POST 502/quick /api/orders/:id",
                              "POST 502/quick api.example.com/api/orders/:id",
                              "POST 503/quick api.example.com/api/orders/:id"]
    g = groups["POST 502/quick api.example.com/api/orders/:id"]
    assert g == {"method": "POST", "host": "api.example.com", "route": "/api/orders/:id", "status": 502, "sign": "quick",
                 "count": 3,
                 "first_ms": 10 * h + 1, "last_ms": 11 * h, "call": "win_t_0123456789:1:2",
                 "hours": {str(10 * h): 2, str(11 * h): 1}}


def test_a_502_at_once_and_one_after_a_long_wait_are_two_groups():
    # A refused connect answers at once; after seconds the upstream had accepted and then dropped it.
    groups: dict = {}
    for c in [call(0, 1, duration=12), call(1, 2, duration=8200), call(2, 3, duration=30), call(3, 4, status=404),
              call(4, 5, status=0), {**call(5, 6, status=0), "error": "abort"}]:
        route_folding.tally(groups, c)
    assert {k: g["count"] for k, g in groups.items()} == {
        "POST 502/quick api.example.com/api/orders/:id": 2, "POST 502/waited api.example.com/api/orders/:id": 1,
        "POST 404 api.example.com/api/orders/:id": 1, "POST 0/network api.example.com/api/orders/:id": 1,
        "POST 0/abort api.example.com/api/orders/:id": 1}


def test_tally_latest_call_breaks_ties_by_place_in_recording():
    groups: dict = {}
    for n in (3, 12, 1):  # merged in any order; seq/n compare as numbers
        route_folding.tally(groups, call(n, 1000))
    assert next(iter(groups.values()))["call"] == "win_t_0123456789:1:12"


def test_tally_caps_groups_and_hours_but_not_counts(monkeypatch):
    monkeypatch.setattr(route_folding, "MAX_FAILURE_GROUPS", 2)
    monkeypatch.setattr(route_folding, "MAX_GROUP_HOURS", 3)
    groups: dict = {}
    for i in range(5):
        route_folding.tally(groups, call(i, i * route_folding.HOUR_MS))
        route_folding.tally(groups, call(i, 0, status=400 + i))
    assert len(groups) == 2
    g = groups["POST 502/quick api.example.com/api/orders/:id"]
    assert g["count"] == 5 and len(g["hours"]) == 3 and g["last_ms"] == 4 * route_folding.HOUR_MS
