"""Redis memory per live page: N pages recording through the real collector, flushed by the real worker.

Starts the embedded default (`replay serve`: one web process, its Redis, one worker flushing each
session 10 s after its first unflushed batch). Opens N websockets; each says hello, then sends a
batch of 20 events every 2 s for --seconds. Every 5 s, while they are all open, it counts the
memory of every Redis key (MEMORY USAGE) by kind. Printed at the sample with the most memory:
per live page, what the buffers of events not yet flushed take (`buf`), what the index of the
sessions flushed so far takes (`session`, `idx`), and everything else (the per-page bookkeeping:
seq sets, acked marks, meta, rate buckets, flush schedule and locks, RQ jobs) -- the figure
the "at most 5 KB per live page beyond its buffered events" target is about.

    .venv/bin/python bench/live_pages.py --pages 500 --seconds 40
"""
from __future__ import annotations

import argparse
import asyncio
import json
import time

import websockets
from redis import Redis

from _common import cli, embedded_replay
from sockets import ORIGIN, PERIOD_S, events

SAMPLE_S = 5.0


async def page(ws_url: str, key: str, n: int, stop_at: float, acked: list[int], live: list[int]) -> None:
    async with websockets.connect(ws_url, origin=ORIGIN, open_timeout=60, max_size=2 ** 20,
                                  ping_interval=None) as ws:
        await ws.send(json.dumps({"type": "hello", "v": 1, "key": key, "session": f"live_s_{n:08d}",
                                  "window": f"live_w_{n:08d}", "secret": f"live_secret_{n:010d}",
                                  "url": ORIGIN + "/", "ua": "bench"}))
        reply = json.loads(await ws.recv())
        if reply.get("type") != "ready":
            print("refused:", reply)
            return
        live[0] += 1
        await asyncio.sleep(PERIOD_S * n / 1000 % PERIOD_S)
        seq = 0
        while time.monotonic() < stop_at:
            seq += 1
            await ws.send(json.dumps({"type": "batch", "seq": seq, "events": events(int(time.time() * 1000))}))
            if json.loads(await ws.recv()).get("type") == "ack":
                acked[0] += 1
            await asyncio.sleep(PERIOD_S)
        # Open until every page has stopped: the last sample sees all of them live.
        await asyncio.sleep(max(0.0, stop_at + 1.0 - time.monotonic()))


def census(redis: Redis, prefix: str) -> dict[str, list[int]]:
    """{kind: [bytes, keys]} of every key: the part after the prefix up to its first ':' (rq:job, ...)."""
    out: dict[str, list[int]] = {}
    for key in redis.scan_iter(count=1000):
        name = key.decode()
        name = name[len(prefix):] if name.startswith(prefix) else name
        kind = ":".join(name.split(":")[:2]) if name.startswith(("rq:", "flush:", "rate:")) else name.split(":")[0]
        entry = out.setdefault(kind, [0, 0])
        entry[0] += redis.memory_usage(key, samples=0) or 0
        entry[1] += 1
    return out


async def sampler(redis: Redis, prefix: str, stop_at: float, samples: list) -> None:
    while time.monotonic() < stop_at + 0.5:
        await asyncio.sleep(SAMPLE_S)
        samples.append(await asyncio.to_thread(census, redis, prefix))


async def run(base: str, key: str, redis: Redis, pages: int, seconds: float) -> None:
    ws_url = base.replace("http", "ws", 1) + "/ingest/ws"
    stop_at = time.monotonic() + seconds
    acked, live, samples = [0], [0], []
    tasks = [asyncio.create_task(page(ws_url, key, n, stop_at, acked, live)) for n in range(pages)]
    await asyncio.gather(sampler(redis, "replay:", stop_at, samples), *tasks)
    pages = live[0]
    # Past the first flushes (each session is flushed 10 s after its first batch): the index has its share.
    worst = max(samples[2:] or samples, key=lambda c: sum(b for b, _ in c.values()))
    total = sum(b for b, _ in worst.values())
    index = sum(b for kind, (b, _) in worst.items() if kind in ("session", "idx"))
    buffered = worst.get("buf", [0, 0])[0]
    rest = total - index - buffered
    print(f"{pages} live pages (of {len(tasks)} opened) for {seconds:.0f} s: {acked[0]} batches acked; the sample with the most Redis memory:")
    print(f"  all keys {total / 1024:.0f} KiB = {total / pages:.0f} B a page: buffered events (buf) "
          f"{buffered / pages:.0f} B, index of what was flushed (session, idx) {index / pages:.0f} B, "
          f"the rest {rest / pages:.0f} B a page")
    others = sorted(((k, v) for k, v in worst.items() if k not in ("buf", "session", "idx")), key=lambda kv: -kv[1][0])
    print("  the rest by kind, B a page (keys): " + ", ".join(f"{k} {b / pages:.0f} ({n})" for k, (b, n) in others[:12]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=40)
    args = parser.parse_args()
    with embedded_replay(MAX_SOCKETS_PER_IP=str(args.pages + 10)) as (base, env, data):
        key = cli(env, "project", "create", "bench", "--origin", ORIGIN)
        from replay.core import embedded_redis
        from replay.core import settings as settings_mod

        redis = Redis.from_url(embedded_redis.url(settings_mod.load({"DATA_DIR": str(data)}, environ={})))
        asyncio.run(run(base, key, redis, args.pages, args.seconds))
        redis.close()


if __name__ == "__main__":
    main()
