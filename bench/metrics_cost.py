"""What counting costs per acked batch: the counters and histogram the ingest path updates, in multi-process mode.

Runs in a temporary PROMETHEUS_MULTIPROC_DIR (as under `replay serve`), N times:
the batch and event counters and one ack-latency observation.

    .venv/bin/python bench/metrics_cost.py --count 200000
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="replay-metrics-bench-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder  # before prometheus_client is imported
    try:
        from replay.core import metrics

        started = time.perf_counter()
        for _ in range(args.count):
            metrics.batch("acked", 40)
            metrics.ACK_SECONDS.labels("ws").observe(0.01)
        elapsed = time.perf_counter() - started
        print(f"{args.count} acked batches counted in {elapsed:.2f} s: {elapsed / args.count * 1e6:.1f} us per batch")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
