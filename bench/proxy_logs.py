"""Proxy log intake benchmark: nginx log lines accepted per second per core, over syslog (UDP) and over HTTP.

Starts the embedded default (one gunicorn gevent worker: one core for Python) in a temporary folder,
makes a project and its server key, then sends real nginx lines (the access and error lines captured
in tests/core/proxy_logs/fixtures, half each) for --seconds each way:
- syslog: RFC 3164 datagrams tagged with the server key, paced in bursts so the socket's queue is not
  overrun (datagrams the kernel dropped are counted: sent minus accepted);
- HTTP: POST /ingest/logs, --batch lines per request, from --clients threads.
Lines accepted are read from the project's counters in Redis; "per core" divides them by the CPU seconds
the web worker process used (from /proc), and the wall-clock rate is printed beside it.

    .venv/bin/python bench/proxy_logs.py --seconds 10
"""
from __future__ import annotations

import argparse
import os
import socket
import threading
import time
from pathlib import Path

import requests
from redis import Redis

from _common import cli, embedded_replay

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "core" / "proxy_logs" / "fixtures"


def sample_lines() -> list[str]:
    access = (FIXTURES / "access.log").read_text().splitlines()
    errors = [l for l in (FIXTURES / "error.log").read_text().splitlines() if "[error]" in l]
    return [line for pair in zip(access * 4, errors * 4) for line in pair]


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def web_worker_pid(supervisor: int) -> int:
    """The gunicorn worker: child of the web master, itself the supervisor's `serve` child."""
    master = next(p for p in children(supervisor) if " serve " in cmdline(p))
    return children(master)[0]


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def accepted(redis: Redis, stats_key: str, via: str) -> int:
    return int(redis.hget(stats_key, f"accepted_{via}") or 0)


def settle(redis: Redis, stats_key: str, via: str) -> int:
    """The counter once it has stopped moving (the listener has drained its queue)."""
    last, still = -1, 0
    while still < 3:
        now = accepted(redis, stats_key, via)
        still = still + 1 if now == last else 0
        last = now
        time.sleep(0.2)
    return last


def run_syslog(addr: tuple[str, int], key: str, lines: list[str], seconds: float, burst: int) -> int:
    frames = [f"<190>Nov 30 04:51:48 {key}: {line}".encode() for line in lines]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        for frame in frames[:burst]:
            sock.sendto(frame, addr)
        sent += burst
        time.sleep(0.002)
    return sent


def run_http(base: str, key: str, lines: list[str], seconds: float, batch: int, clients: int) -> int:
    body = ("\n".join((lines * (batch // len(lines) + 1))[:batch]) + "\n").encode()
    sent, lock, deadline = [0], threading.Lock(), time.monotonic() + seconds

    def client():
        with requests.Session() as http:
            while time.monotonic() < deadline:
                r = http.post(base + "/ingest/logs", data=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)
                r.raise_for_status()
                with lock:
                    sent[0] += r.json()["accepted"]

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sent[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--burst", type=int, default=200, help="syslog datagrams sent between 2 ms pauses")
    ap.add_argument("--batch", type=int, default=1000, help="lines per HTTP request")
    ap.add_argument("--clients", type=int, default=2)
    args = ap.parse_args()
    lines = sample_lines()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        syslog_port = probe.getsockname()[1]
    with embedded_replay(SYSLOG_ADDR=f"127.0.0.1:{syslog_port}") as (base, env, data):
        project = cli(env, "project", "create", "bench", "--origin", "https://bench.example")
        key = cli(env, "project", "server-key", project)
        from replay.core import embedded_redis, settings as settings_mod

        redis = Redis.from_url(embedded_redis.url(settings_mod.load({"DATA_DIR": str(data)}, environ={})))
        stats = f"replay:plog:{project}:stats"
        supervisor = next(p for p in children(os.getpid()) if " serve " in cmdline(p))
        worker = web_worker_pid(supervisor)
        for via in ("syslog", "http"):
            cpu0, wall0 = cpu_s(worker), time.monotonic()
            if via == "syslog":
                sent = run_syslog(("127.0.0.1", syslog_port), key, lines, args.seconds, args.burst)
            else:
                sent = run_http(base, key, lines, args.seconds, args.batch, args.clients)
            got = settle(redis, stats, via)
            wall, cpu = time.monotonic() - wall0, cpu_s(worker) - cpu0
            print(f"{via:6}: {got} lines accepted of {sent} sent in {wall:.1f} s: {got / wall:,.0f} lines/s wall, "
                  f"{got / cpu:,.0f} lines per CPU second of the web worker ({cpu:.1f} CPU s)")
            redis.hdel(stats, f"accepted_{via}")


if __name__ == "__main__":
    main()
