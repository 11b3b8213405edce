"""Concurrency benchmark: N open ingest sockets against one `replay serve` process, and the viewer meanwhile.

Starts the embedded default (one gunicorn gevent process, its Redis with
appendfsync always, one worker) in a temporary folder. Opens N websockets; each
says hello, then sends one batch of 20 events every 2 s (first sends spread over
the first 2 s) and times each ack. Meanwhile a probe asks the API
(`/api/sessions`) and a page (`/login`) twice a second. Prints, per N: sockets
that got their `ready`, refused or dropped sockets, acks and errors, ack latency
percentiles, and the probe's latency. Bounded: N sockets for --seconds each.

    .venv/bin/python bench/sockets.py --sockets 1000 2000 --seconds 30
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import resource
import statistics
import time

import requests
import websockets

from _common import cli, embedded_replay

ORIGIN = "https://bench.example"
PERIOD_S = 2.0
EVENTS = 20


def events(t0: int) -> list[dict]:
    """20 incremental events of about the size rrweb emits."""
    return [{"type": 3, "timestamp": t0 + i, "data": {"source": 1, "positions": [
        {"x": i * 7 % 800, "y": i * 11 % 600, "id": 42, "timeOffset": -i}]}} for i in range(EVENTS)]


class Tally:
    def __init__(self):
        self.ready = 0
        self.refused: dict[str, int] = {}
        self.acks: list[float] = []
        self.acked_at: list[float] = []  # monotonic time of each ack, to tell the ramp-up from the steady state
        self.errors: list[str] = []


async def window(ws_url: str, key: str, n: int, stop_at: float, tally: Tally) -> None:
    try:
        async with websockets.connect(ws_url, origin=ORIGIN, open_timeout=60, close_timeout=5,
                                      max_size=2 ** 20, ping_interval=None) as ws:
            await ws.send(json.dumps({"type": "hello", "v": 1, "key": key, "session": f"bench_s_{n:08d}",
                                      "window": f"bench_w_{n:08d}", "secret": f"bench_secret_{n:010d}",
                                      "url": ORIGIN + "/", "ua": "bench"}))
            reply = json.loads(await ws.recv())
            if reply.get("type") != "ready":
                tally.refused[reply.get("code", "?")] = tally.refused.get(reply.get("code", "?"), 0) + 1
                return
            tally.ready += 1
            await asyncio.sleep(random.random() * PERIOD_S)
            seq = 0
            while time.monotonic() < stop_at:
                seq += 1
                started = time.perf_counter()
                await ws.send(json.dumps({"type": "batch", "seq": seq, "events": events(int(time.time() * 1000))}))
                reply = json.loads(await ws.recv())
                if reply.get("type") == "ack" and reply.get("seq") == seq:
                    tally.acks.append((time.perf_counter() - started) * 1000)
                    tally.acked_at.append(time.monotonic())
                else:
                    tally.errors.append(reply.get("code", str(reply)))
                    return
                await asyncio.sleep(max(0.0, PERIOD_S - (time.perf_counter() - started)))
    except Exception as exc:  # a benchmark reports failures, it does not hide them
        name = type(exc).__name__
        tally.refused[name] = tally.refused.get(name, 0) + 1


def probe(base: str, token: str, stop_at: float, out: dict) -> None:
    """The viewer and the API while ingest runs: latency of each request."""
    session = requests.Session()
    while time.monotonic() < stop_at:
        for name, path, headers in (("api", "/api/sessions?limit=50", {"Authorization": f"Bearer {token}"}),
                                    ("page", "/login", {})):
            started = time.perf_counter()
            try:
                ok = session.get(base + path, headers=headers, timeout=30).status_code == 200
            except requests.RequestException:
                ok = False
            took = (time.perf_counter() - started) * 1000 if ok else float("inf")
            out.setdefault(name, []).append((took, time.monotonic()))  # and when it answered
        time.sleep(0.5)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def run(base: str, key: str, token: str, n: int, seconds: float, offset: int) -> None:
    tally, probes = Tally(), {}
    ws_url = base.replace("http", "ws", 1) + "/ingest/ws"
    connect_started = time.monotonic()
    stop_at = connect_started + seconds
    prober = asyncio.get_running_loop().run_in_executor(None, probe, base, token, stop_at, probes)
    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(window(ws_url, key, offset + i, stop_at, tally)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)  # open sockets at about 1,000 a second
    opened = time.monotonic()
    await asyncio.gather(*tasks)
    await prober
    acks = tally.acks
    # Steady state: from two periods after the last socket was opened (every socket sending by then).
    steady = [ms for ms, at in zip(tally.acks, tally.acked_at) if at >= opened + 2 * PERIOD_S]
    print(f"\n{n} sockets for {seconds:.0f} s: {tally.ready} ready, refused/dropped {tally.refused or 0}, "
          f"{len(acks)} acks ({len(acks) / seconds:.0f}/s, {len(acks) * EVENTS / seconds:.0f} events/s), "
          f"errors {dict((e, tally.errors.count(e)) for e in set(tally.errors)) or 0}")
    print(f"  ack latency ms, whole run: p50 {pct(acks, 50):.1f}  p95 {pct(acks, 95):.1f}  p99 {pct(acks, 99):.1f}  "
          f"max {max(acks, default=float('nan')):.1f}")
    print(f"  ack latency ms, steady ({len(steady)} acks after the ramp-up): p50 {pct(steady, 50):.1f}  "
          f"p95 {pct(steady, 95):.1f}  p99 {pct(steady, 99):.1f}  max {max(steady, default=float('nan')):.1f}")
    for name in ("api", "page"):
        for when, values in (("whole run", [ms for ms, _ in probes.get(name, [])]),
                             ("steady", [ms for ms, at in probes.get(name, []) if at >= opened + 2 * PERIOD_S])):
            failed = sum(v == float("inf") for v in values)
            print(f"  {name} while ingesting, {when} ({len(values)} requests, {failed} failed): "
                  f"p50 {pct(values, 50):.1f} ms  p99 {pct(values, 99):.1f} ms  max {max(values, default=float('nan')):.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sockets", type=int, nargs="+", default=[1000, 2000])
    ap.add_argument("--seconds", type=float, default=30)
    args = ap.parse_args()
    # The load generator must not stall itself: a full collection over its 2,000 sockets' objects would
    # add its own pause to the acks it times.
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server inherits it too
    most = max(args.sockets)
    with embedded_replay(MAX_SOCKETS_PER_IP=str(most + 100), MAX_SOCKETS=str(most + 100),
                         MAX_SOCKETS_PER_PROJECT=str(most + 100), WEB_CONNECTIONS=str(most + 500)) as (base, env, _):
        key = cli(env, "project", "create", "bench", "--origin", ORIGIN)
        token = cli(env, "token", "create", "--name", "bench")
        offset = 0
        for n in args.sockets:
            asyncio.run(run(base, key, token, n, args.seconds, offset))
            offset += n
            time.sleep(3)  # let the sockets close before the next round


if __name__ == "__main__":
    main()
