"""Sessions-list benchmark: the list's queries over N indexed sessions, in Redis and through the HTTP API.

Starts a private redis-server on a free loopback port (no persistence, the embedded
default's zset-max-ziplist-entries, in a
temporary folder), merges N generated sessions into manifests (replay.storage.manifest.merge)
and indexes each through replay.index.sessions.index_manifest, as the worker does. Then
times each list query (first page of 50, and the next page by cursor) R times and prints
p50/p95/max, first against Redis (replay.index.sessions.query_page), then through
GET /api/sessions with the Flask test client (auth, JSON and all). Bounded: N
sessions, R runs per query, and the redis-server is stopped at the end.

    .venv/bin/python bench/list_queries.py --sessions 100000 --runs 50
"""
from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from redis import Redis

from _common import free_port, wait_port
import _index_memory as index_memory

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from replay.core import embedded_redis  # noqa: E402
from replay.core.accounts import Accounts  # noqa: E402
from replay.app import create_app  # noqa: E402
from replay.index import sessions as index  # noqa: E402
from replay.storage import manifest as mf  # noqa: E402
from replay.core.records import Record  # noqa: E402
from replay.core.keys import RedisKeys  # noqa: E402

DAY_MS = 86_400_000
T_END = 1_795_000_000_000  # the newest session starts about here (Nov 2026)
UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
    "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36",
]
PAGES = ["/", "/products", "/products/{id}", "/cart", "/checkout", "/account", "/orders/{id}", "/help"]
PROJECTS = [("pk_shop", 0.7), ("pk_blog", 0.2), ("pk_admin", 0.1)]
RELEASES = ["2.4.0", "2.4.1", "2.5.0", "2.5.1"]
WORDS = ["cart", "updated", "rendered", "loaded", "clicked", "saved", "price", "stock", "basket", "shipping",
         "coupon", "applied", "search", "filter", "sorted", "viewed", "review", "wishlist", "compare", "size"]
SITE = "https://shop.example"
API = "https://api.shop.example"


def custom(tag: str, payload: dict, t: int) -> dict:
    return {"type": 5, "timestamp": t, "data": {"tag": tag, "payload": payload}}


def call(method: str, url: str, status: int, t: int) -> dict:
    return custom("replay.network", {"method": method, "url": url, "status": status, "startTime": t,
                                     "duration": 30.0, "failed": status >= 400 or status == 0,
                                     "error": "network" if status == 0 else None,
                                     "responseHeaders": {"server": "nginx"} if status >= 500 else {},
                                     "responseBody": "<h1>502 Bad Gateway</h1>" if status == 502 else ""}, t)


def failures(rnd: random.Random) -> list[tuple[str, str, int]]:
    """The mix: ~5% of sessions get a 502, ~1% a 504, ~1% a 503, ~6% a 4xx, ~2% a network error."""
    out = []
    roll = rnd.random()
    if roll < 0.05:
        out.append(("POST", f"{API}/api/orders?cart={rnd.randrange(10**6)}", 502))
        if rnd.random() < 0.3:
            out.append(("GET", f"{API}/api/orders/{rnd.randrange(10**6)}", 502))
    elif roll < 0.06:
        out.append(("GET", f"{API}/api/search?q=x", 504))
    elif roll < 0.07:
        out.append(("GET", f"{API}/api/recommendations/{rnd.randrange(10**5)}", 503))
    elif roll < 0.13:
        out.append(rnd.choice([("GET", f"{API}/api/products/{rnd.randrange(10**5)}", 404), ("GET", f"{API}/api/me", 401),
                               ("POST", f"{API}/api/cart/items", 422)]))
    if rnd.random() < 0.02:
        out.append(("GET", f"{API}/api/chat/poll", 0))
    return out


def make_manifest(n: int, rnd: random.Random, start: int) -> dict:
    session = f"bench_list_{n:08d}"
    project = rnd.choices([p for p, _ in PROJECTS], [w for _, w in PROJECTS])[0]
    t = start
    events = []
    for _ in range(rnd.choice([1, 1, 2, 3, 4, 6])):
        events.append({"type": 4, "timestamp": t, "data": {"href": SITE + rnd.choice(PAGES).format(id=rnd.randrange(999)),
                                                          "width": 1280, "height": 720}})
        t += rnd.randrange(2_000, 60_000)
        events.append(call("GET", f"{API}/api/products", 200, t))
    for method, url, status in failures(rnd):
        t += rnd.randrange(100, 5_000)
        events.append(call(method, url, status, t))
    if rnd.random() < 0.10:
        events.append(custom("replay.console", {"level": "error", "args": ["Failed to load"]}, t + 1))
    # Console lines for the free-text search: a common vocabulary, and a rare line with an order reference.
    for i in range(rnd.randrange(0, 8)):
        events.append(custom("replay.console", {"level": "log", "args": [
            f"{rnd.choice(WORDS)} {rnd.choice(WORDS)} item {rnd.randrange(500)}"]}, t + 3 + i))
    if rnd.random() < 0.01:
        events.append(custom("replay.console", {"level": "warn", "args": [f"payment declined ref QX{n}"]}, t + 20))
    if rnd.random() < 0.03:
        events.append(custom("replay.frustration", {"kind": "rage", "count": 4, "x": 10, "y": 10, "target": "button"},
                             t + 30))
    if rnd.random() < 0.05:
        events.append(custom("replay.frustration", {"kind": "dead", "count": 1, "x": 10, "y": 10, "target": "a"},
                             t + 31))
    if rnd.random() < 0.04:
        events.append(custom("replay.error", {"kind": "error", "message": "TypeError: x is undefined"}, t + 2))
    if rnd.random() < 0.7:
        events.append(custom("replay.identify", {"userId": f"user-{rnd.randrange(5000)}",
                                                 "traits": {"plan": rnd.choice(["free", "pro", "enterprise"])}},
                             start + 5))
    record = Record("win_" + session, 1, t + 10, events[0]["data"]["href"], events)
    return mf.merge(mf.new(session), [record], project=project, user_agent=rnd.choice(UAS), segment_keys=[],
                    max_body_chars=2000, release=rnd.choice(RELEASES), environment="production")


def populate(redis: Redis, keys: RedisKeys, count: int, seed: int) -> None:
    rnd = random.Random(seed)
    began = time.perf_counter()
    for n in range(count):
        # Spread over 30 days, whole seconds: many sessions share a start time, as cursors must handle.
        start = T_END - rnd.randrange(30 * DAY_MS // 1000) * 1000
        index.index_manifest(redis, keys, make_manifest(n, rnd, start))
        if (n + 1) % 20_000 == 0:
            print(f"  indexed {n + 1} sessions ({time.perf_counter() - began:.0f} s)", flush=True)
    took = time.perf_counter() - began
    print(f"indexed {count} sessions in {took:.0f} s ({count / took:.0f}/s), "
          f"redis used_memory={redis.info('memory')['used_memory_human']}")
    print(index_memory.report("", redis, keys, count))
    # The biggest sliced zsets: how many slices, how many still packed.
    for name in ("checkout", "coupon", "enterprise"):
        found = [k for k in redis.scan_iter(keys.by_term(name) + "#*", count=5000) if not k.endswith(b"#n")]
        packed = sum(redis.object("encoding", k) in (b"listpack", b"ziplist") for k in found)
        print(f"  term {name}: {len(found)} slices, {packed} packed, {redis.zcard(keys.by_term(name))} in its zset")


def queries(redis: Redis, keys: RedisKeys) -> list[tuple[str, dict]]:
    """The list queries timed, each as query_page filters (a second page carries the first page's cursor)."""
    busy_user = max((k.decode() for k in redis.scan_iter(keys.by_user("*"), count=5000)),
                    key=lambda k: redis.zcard(k))[len(keys.by_user("")):]
    day = {"since_ms": T_END - 8 * DAY_MS, "until_ms": T_END - 7 * DAY_MS}
    rare = next((k.decode()[len(keys.by_term("")):] for k in redis.scan_iter(keys.by_term("qx*"), count=5000)), "qx1")
    base = [
        ("unfiltered", {}),
        ("status=502", {"status": "502"}),
        ("status=5xx", {"status": "5xx"}),
        ("status=error", {"status": "error"}),
        (f"user={busy_user}", {"user": busy_user}),
        ("url=/api/orders", {"url": "/api/orders"}),
        ("url=api/orders/4242 (folded)", {"url": "api/orders/4242"}),
        ("url=4242 (raw URL scan)", {"url": "4242"}),
        ("errors=exception", {"errors": "exception"}),
        ("errors=any", {"errors": "any"}),
        ("project=pk_admin", {"project": "pk_admin"}),
        ("one day (since/until)", day),
        ("status=5xx&errors=exception&project=pk_shop", {"status": "5xx", "errors": "exception", "project": "pk_shop"}),
        (f"status=4xx&user={busy_user}", {"status": "4xx", "user": busy_user}),
        ("status=502&url=/api/orders&one day", {"status": "502", "url": "/api/orders", **day}),
        ("errors=console&status=error (rare pair)", {"errors": "console", "status": "error"}),
        ("status=503&errors=any&project=pk_admin (sparse)", {"status": "503", "errors": "any", "project": "pk_admin"}),
        ("errors=exception&url=/api/chat (sparse)", {"errors": "exception", "url": "/api/chat"}),
        ("frustration=rage", {"frustration": "rage"}),
        ("frustration=dead&status=502", {"frustration": "dead", "status": "502"}),
        ("release=2.5.0", {"release": "2.5.0"}),
        ("q=checkout (page URL, common)", {"q": "checkout"}),
        ("q=coupon applied (two common words)", {"q": "coupon applied"}),
        ("q=declined (rare word)", {"q": "declined"}),
        (f"q={rare} declined (one session)", {"q": f"{rare} declined"}),
        ("q=enterprise&status=502", {"q": "enterprise", "status": "502"}),
        (f"q={busy_user} (user id)", {"q": busy_user}),
    ]
    out = []
    for name, filters in base:
        out.append((name, filters))
        first = index.query_page(redis, keys, limit=50, **filters)
        if name in ("unfiltered", "status=5xx", "url=/api/orders", "q=checkout (page URL, common)") and first.next_cursor:
            out.append((f"{name}, page 2 (cursor)", {**filters, "cursor": first.next_cursor}))
    # Deep in the list: the cursor of the 10,000th session.
    deep = index.query_page(redis, keys, limit=1000)
    for _ in range(9):
        if deep.next_cursor:
            deep = index.query_page(redis, keys, limit=1000, cursor=deep.next_cursor)
    if deep.next_cursor:
        out.append(("unfiltered, page at 10,000 (cursor)", {"cursor": deep.next_cursor}))
    return out


def timed(fn, runs: int) -> tuple[list[float], object]:
    result = fn()  # warm: scripts loaded, connections open
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - began) * 1000)
    return samples, result


def report(name: str, samples: list[float], found: int) -> None:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"{name:<48} {statistics.median(ordered):7.2f} {p95:7.2f} {ordered[-1]:7.2f} {found:6d}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    binary = shutil.which("redis-server")
    if not binary:
        raise SystemExit("redis-server is not installed")
    port, workdir = free_port(), tempfile.mkdtemp(prefix="replay-bench-list-")
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                               "--dir", workdir, "--zset-max-ziplist-entries",
                               embedded_redis.CONFIG["zset-max-ziplist-entries"]],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        url = f"redis://127.0.0.1:{port}/0"
        redis, keys = Redis.from_url(url), RedisKeys("replay:")
        print(f"sessions={args.sessions} runs={args.runs} page=50 redis-server {redis.info()['redis_version']} "
              f"on 127.0.0.1:{port}")
        populate(redis, keys, args.sessions, args.seed)
        cases = queries(redis, keys)

        print(f"\n{'replay.index.sessions.query_page (ms)':<48}     p50     p95     max  found")
        for name, filters in cases:
            samples, page = timed(lambda: index.query_page(redis, keys, limit=50, **filters), args.runs)
            report(name, samples, len(page.sessions))

        app = create_app({"REDIS_URL": url, "DATA_DIR": str(Path(workdir) / "data")})
        client = app.test_client()
        svc = app.extensions["replay"]
        token = Accounts(svc.redis, svc.keys).create_token("bench")
        headers = {"Authorization": f"Bearer {token}"}
        print(f"\n{'GET /api/sessions, Flask test client (ms)':<48}     p50     p95     max  found")
        for name, filters in cases:
            params = {{"since_ms": "since", "until_ms": "until"}.get(k, k): v for k, v in filters.items()}

            def get():
                r = client.get("/api/sessions", query_string={**params, "limit": 50}, headers=headers)
                assert r.status_code == 200, r.get_data(as_text=True)
                return r.get_json()
            samples, body = timed(get, args.runs)
            report(name, samples, body["count"])
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
