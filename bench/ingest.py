"""Ingest benchmark: concurrent websocket clients against a real `replay serve` + worker on loopback.

Starts the embedded default in a temporary data folder, creates a project, then K
clients each send M batches of E events over their own socket, waiting for the
reply to each. Only an `{"type": "ack"}` for the seq just sent counts as acked;
error replies and sockets that closed or failed are counted apart and printed.
Prints throughput and latency of the acked batches, then waits (at most
--store-wait seconds) until every acked event is in storage and the index, and
says how many were when it stopped waiting. Bounded: K*M batches, --time-limit
seconds of sending, --store-wait seconds of waiting.

    .venv/bin/python bench/ingest.py --clients 20 --batches 50 --events 40
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import psutil
import requests
import websocket

from _common import cli, embedded_replay, free_port, wait_port

ORIGIN = "https://bench.example"


def make_events(n: int, t0: int) -> list[dict]:
    """Incremental mouse/DOM events of about the size rrweb emits (~120 bytes each)."""
    return [{"type": 3, "timestamp": t0 + i, "data": {"source": 1, "positions": [{"x": i % 800, "y": i % 600, "id": 42, "timeOffset": -i}]}}
            for i in range(n)]


class Client:
    """One socket's tally: acked batches and their latencies, error replies, and how the socket ended."""

    def __init__(self, idx: int):
        self.session = f"bench_session_{idx:06d}"
        self.window = f"bench_window_{idx:06d}"
        self.sent = self.acked = 0
        self.latencies: list[float] = []
        self.errors: list[dict] = []  # {"type": "error", ...} or any reply that is not the ack for the seq sent
        self.closed: str | None = None  # the socket closed or failed before the last batch
        self.timed_out = False

    def run(self, url: str, key: str, batches: int, events: int, deadline: float) -> None:
        try:
            ws = websocket.create_connection(url, origin=ORIGIN, timeout=30)
            ws.send(json.dumps({"type": "hello", "v": 1, "key": key, "secret": f"bench_secret_{self.session}", "session": self.session, "window": self.window,
                                "url": ORIGIN + "/", "ua": "bench"}))
            ready = json.loads(ws.recv())
            if ready.get("type") != "ready":
                self.errors.append(ready)
                return
            t0 = int(time.time() * 1000)
            for seq in range(1, batches + 1):
                if time.monotonic() > deadline:
                    self.timed_out = True
                    break
                msg = json.dumps({"type": "batch", "seq": seq, "events": make_events(events, t0 + seq * 1000)})
                start = time.perf_counter()
                ws.send(msg)
                self.sent += 1
                reply = json.loads(ws.recv())
                if reply.get("type") == "ack" and reply.get("seq") == seq:
                    self.latencies.append((time.perf_counter() - start) * 1000)
                    self.acked += 1
                else:
                    self.errors.append(reply)  # the server closes the socket after an error
                    break
            ws.close()
        except Exception as exc:  # a benchmark reports failures, it does not hide them
            self.closed = repr(exc)


def stored_events(base: str, token: str) -> dict[str, int]:
    """Events per session as the index lists them (every page)."""
    counts, cursor = {}, None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        body = requests.get(f"{base}/api/sessions", params=params, headers={"Authorization": f"Bearer {token}"},
                            timeout=10).json()
        counts.update({s["session"]: s["counts"]["events"] for s in body["sessions"]})
        cursor = body.get("next_cursor")
        if not cursor:
            return counts


def web_workers(port: int) -> list[psutil.Process]:
    """The gunicorn worker processes serving the port (the processes holding its listening socket, not the master)."""
    pids = {c.pid for c in psutil.net_connections("tcp") if c.status == psutil.CONN_LISTEN and c.laddr.port == port}
    procs = [psutil.Process(pid) for pid in pids if pid]
    return [p for p in procs if p.ppid() in pids] or procs


def drive(port: int, key: str, args) -> tuple[list[Client], float]:
    """Run the clients against the port; also notes the CPU seconds the web workers used meanwhile."""
    workers = web_workers(port)
    cpu = sum(sum(p.cpu_times()[:2]) for p in workers)
    clients = [Client(i) for i in range(args.clients)]
    deadline = time.monotonic() + args.time_limit
    threads = [threading.Thread(target=c.run, args=(f"ws://127.0.0.1:{port}/ingest/ws", key, args.batches,
                                                     args.events, deadline)) for c in clients]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    drive.cpu_s = sum(sum(p.cpu_times()[:2]) for p in workers) - cpu
    return clients, elapsed


def per_cpu_line(clients: list[Client], args) -> str:
    acked = sum(c.acked for c in clients) * args.events
    return (f"{acked} acked events, the web worker used {drive.cpu_s:.2f} CPU s: "
            f"{acked / max(drive.cpu_s, 1e-9):.0f} acked events per CPU second")


def minimal(args) -> None:
    """The same clients against bench/minimal_ingest.py (an RPUSH and an ack per batch) on the same kind of Redis."""
    from replay.core import embedded_redis
    from replay.core import settings as settings_mod

    settings = settings_mod.load({"DATA_DIR": tempfile.mkdtemp(prefix="replay-bench-minimal-")}, environ={})
    redis = embedded_redis.start(settings)
    port = free_port()
    server = subprocess.Popen([sys.executable, str(Path(__file__).parent / "minimal_ingest.py"), str(port),
                               embedded_redis.url(settings)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        time.sleep(0.5)  # its worker forks after the port is bound
        clients, elapsed = drive(port, "minimal", args)
        acked = sum(c.acked for c in clients)
        print(f"minimal loop: acked batches: {acked} in {elapsed:.2f} s = {acked * args.events / elapsed:.0f} events/s; "
              f"{per_cpu_line(clients, args)}")
    finally:
        server.terminate()
        server.wait(10)
        embedded_redis.stop(redis)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--batches", type=int, default=50, help="batches per client")
    ap.add_argument("--events", type=int, default=40, help="events per batch")
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds of sending, at most")
    ap.add_argument("--store-wait", type=float, default=60.0,
                    help="seconds to wait after the last reply for the acked events to be stored, at most")
    ap.add_argument("--minimal", action="store_true",
                    help="first run the same clients against a minimal flask-sock loop (bench/minimal_ingest.py)")
    args = ap.parse_args()

    if args.minimal:
        minimal(args)
    with embedded_replay(FLUSH_AGE_MS="2000", FLUSH_IDLE_MS="500") as (base, env, data):
        port = int(base.rsplit(":", 1)[1])
        key = cli(env, "project", "create", "bench", "--origin", ORIGIN)
        token = cli(env, "token", "create")
        clients, elapsed = drive(port, key, args)
        acked = sum(c.acked for c in clients)
        sent = sum(c.sent for c in clients)
        lat = sorted(x for c in clients for x in c.latencies)

        def pct(p):
            return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] if lat else float("nan")

        print(f"clients={args.clients} batches/client={args.batches} events/batch={args.events}")
        print(f"acked batches: {acked} of {sent} sent ({args.clients * args.batches} planned) in {elapsed:.2f} s = "
              f"{acked / elapsed:.0f} batches/s, {acked * args.events / elapsed:.0f} events/s")
        print(f"ack latency ms: p50={pct(50):.1f} p90={pct(90):.1f} p99={pct(99):.1f} "
              f"max={lat[-1] if lat else float('nan'):.1f} mean={statistics.mean(lat) if lat else float('nan'):.1f}")
        errors = [e for c in clients for e in c.errors]
        codes = Counter(e.get("code") or e.get("type") for e in errors)
        print(f"error replies: {len(errors)} {dict(codes)}")
        print(f"replay serve: {per_cpu_line(clients, args)}")
        closed = [c.closed for c in clients if c.closed]
        print(f"sockets closed or failed early: {len(closed)} {closed[:3]}")
        if any(c.timed_out for c in clients):
            print(f"sending stopped at --time-limit {args.time_limit:.0f} s")

        # Until every acked event is in object storage and the index, or --store-wait runs out.
        want = {c.session: c.acked * args.events for c in clients if c.acked}
        waited_from = time.perf_counter()
        give_up = time.monotonic() + args.store_wait
        while True:
            have = stored_events(base, token)
            done = [s for s, n in want.items() if have.get(s, 0) >= n]
            if len(done) == len(want) or time.monotonic() > give_up:
                break
            time.sleep(0.25)
        waited = time.perf_counter() - waited_from
        stored = sum(min(have.get(s, 0), n) for s, n in want.items())
        if not want:
            print("no batch was acked: nothing to wait for")
        elif len(done) == len(want):
            print(f"all {len(want)} sessions with acked batches stored and indexed {waited:.2f} s after the last reply")
        else:
            print(f"timed out after {waited:.0f} s: {len(done)} of {len(want)} sessions stored and indexed, "
                  f"{stored} of {sum(want.values())} acked events")
        size = sum(f.stat().st_size for f in (data / "objects").rglob("*") if f.is_file())
        raw = len(json.dumps(make_events(args.events, 0))) * acked
        print(f"stored objects: {size / 1e6:.2f} MB for {raw / 1e6:.2f} MB of acked event JSON "
              f"({raw / max(size, 1):.1f}x smaller)")


if __name__ == "__main__":
    main()
