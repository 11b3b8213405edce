"""Ingest benchmark: concurrent websocket clients against a real `replay serve` + worker on loopback.

Starts the embedded default in a temporary data folder (or uses REPLAY_* from the
environment when --production is given), creates a project, then K clients each
send M batches of E events over their own socket, waiting for each ack. Prints
throughput, ack latency percentiles and how long the worker took to put every
session in storage. Bounded: K*M batches, and a hard time limit.

    .venv/bin/python bench/ingest.py --clients 20 --batches 50 --events 40
"""
from __future__ import annotations

import argparse
import json
import statistics
import threading
import time

import requests
import websocket

from _common import cli, embedded_replay

ORIGIN = "https://bench.example"


def make_events(n: int, t0: int) -> list[dict]:
    """Incremental mouse/DOM events of about the size rrweb emits (~120 bytes each)."""
    return [{"type": 3, "timestamp": t0 + i, "data": {"source": 1, "positions": [{"x": i % 800, "y": i % 600, "id": 42, "timeOffset": -i}]}}
            for i in range(n)]


def client(url, key, idx, batches, events, latencies, errors, deadline):
    session = f"bench_session_{idx:06d}"
    try:
        ws = websocket.create_connection(url, origin=ORIGIN, timeout=30)
        ws.send(json.dumps({"type": "hello", "v": 1, "key": key, "secret": f"bench_secret_{idx:08d}", "session": session, "window": f"bench_window_{idx:06d}",
                            "url": ORIGIN + "/", "ua": "bench"}))
        json.loads(ws.recv())
        t0 = int(time.time() * 1000)
        for seq in range(1, batches + 1):
            if time.monotonic() > deadline:
                break
            msg = json.dumps({"type": "batch", "seq": seq, "events": make_events(events, t0 + seq * 1000)})
            start = time.perf_counter()
            ws.send(msg)
            reply = json.loads(ws.recv())
            latencies.append((time.perf_counter() - start) * 1000)
            if reply.get("type") != "ack":
                errors.append(reply)
        ws.close()
    except Exception as exc:  # a benchmark reports failures, it does not hide them
        errors.append(repr(exc))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--batches", type=int, default=50)
    ap.add_argument("--events", type=int, default=40)
    ap.add_argument("--time-limit", type=float, default=120.0)
    args = ap.parse_args()

    with embedded_replay(FLUSH_AGE_MS="2000", FLUSH_IDLE_MS="500") as (base, env, data):
        port = int(base.rsplit(":", 1)[1])
        key = cli(env, "project", "create", "bench", "--origin", ORIGIN)
        token = cli(env, "token", "create")
        latencies: list[float] = []
        errors: list = []
        deadline = time.monotonic() + args.time_limit
        threads = [threading.Thread(target=client, args=(f"ws://127.0.0.1:{port}/ingest/ws", key, i, args.batches,
                                                          args.events, latencies, errors, deadline))
                   for i in range(args.clients)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        sent_events = len(latencies) * args.events
        lat = sorted(latencies)

        def pct(p):
            return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] if lat else float("nan")

        print(f"clients={args.clients} batches/client={args.batches} events/batch={args.events}")
        print(f"acked batches: {len(latencies)} in {elapsed:.2f} s = {len(latencies) / elapsed:.0f} batches/s, "
              f"{sent_events / elapsed:.0f} events/s")
        print(f"ack latency ms: p50={pct(50):.1f} p90={pct(90):.1f} p99={pct(99):.1f} max={lat[-1] if lat else 0:.1f} "
              f"mean={statistics.mean(lat) if lat else 0:.1f}")
        print(f"errors: {len(errors)} {errors[:3]}")

        # Until every session is in object storage and indexed.
        flush_start = time.perf_counter()
        while time.monotonic() < deadline + 60:
            r = requests.get(f"http://127.0.0.1:{port}/api/sessions", params={"limit": 500},
                             headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
            done = [s for s in r["sessions"] if s["counts"]["events"] >= args.batches * args.events]
            if len(done) >= args.clients:
                break
            time.sleep(0.25)
        print(f"all {args.clients} sessions stored and indexed {time.perf_counter() - flush_start:.2f} s after the last ack")
        size = sum(f.stat().st_size for f in (data / "objects").rglob("*") if f.is_file())
        raw = len(json.dumps(make_events(args.events, 0))) * args.batches * args.clients
        print(f"stored objects: {size / 1e6:.2f} MB for {raw / 1e6:.2f} MB of event JSON ({raw / max(size, 1):.1f}x smaller)")


if __name__ == "__main__":
    main()
