"""`replay logs ship` throughput: lines per second from a log file into `replay serve` (embedded default).

Writes --lines real nginx lines (the captured access and error lines of tests/core/proxy_logs/fixtures, half
each) to a file, then starts the shipper on it with --from-start and times until the collector has counted them
all (accepted plus rejected). Prints the wall-clock rate and the CPU seconds the shipper used.

    .venv/bin/python bench/log_ship.py --lines 200000
"""
from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path

from redis import Redis

from _common import BIN, cli, embedded_replay
from proxy_logs import cpu_s, sample_lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--timeout", type=float, default=300.0)
    args = ap.parse_args()
    with embedded_replay(SYSLOG_ADDR="off") as (base, env, data):
        project = cli(env, "project", "create", "bench", "--origin", "https://bench.example")
        key = cli(env, "project", "server-key", project)
        from replay.core import embedded_redis, settings as settings_mod

        redis = Redis.from_url(embedded_redis.url(settings_mod.load({"DATA_DIR": str(data)}, environ={})))
        stats = f"replay:plog:{project}:stats"
        sample = sample_lines()
        log = data / "access.log"
        with open(log, "w") as fh:
            for n in range(args.lines):
                fh.write(sample[n % len(sample)] + "\n")
        size = log.stat().st_size
        start = time.monotonic()
        shipper = subprocess.Popen([str(BIN), "logs", "ship", "--access-log", str(log), "--url", base, "--from-start",
                                    "--state", str(data / "ship.json")], env={**env, "REPLAY_SERVER_KEY": key},
                                   stdout=open(data / "ship.log", "w"), stderr=subprocess.STDOUT)
        counted = 0
        while counted < args.lines and time.monotonic() - start < args.timeout:
            time.sleep(0.05)
            got = redis.hmget(stats, "accepted_http", "rejected_http")
            counted = sum(int(v or 0) for v in got)
        wall = time.monotonic() - start
        cpu = cpu_s(shipper.pid)
        shipper.terminate()
        shipper.wait(30)
        print(f"{counted} of {args.lines} lines ({size / 1e6:.1f} MB) counted by the collector in {wall:.1f} s: "
              f"{counted / wall:,.0f} lines/s; the shipper used {cpu:.1f} CPU s")


if __name__ == "__main__":
    main()
