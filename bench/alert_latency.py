"""How long from a spike's first failed call to its webhook, on the embedded default with default settings.

A real `replay serve` (embedded Redis, its own worker) sends alerts to a tiny HTTP receiver started here.
Each round: a project is made, then pages post their failed calls as a browser's beacon does (a 502 burst
of 12 calls across 4 sessions, 3 each, 1 s apart); the figure is the time from the first call to the
webhook's arrival. Rounds run one after another, each on its own project (and group).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

import requests

from _common import cli, embedded_replay

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.alerts.receiver import Receiver  # noqa: E402

ORIGIN = "https://shop.example"


def burst(base: str, key: str, sessions: int, calls: int) -> float:
    """Post the failed calls; returns the wall time of the first one."""
    first = time.time()
    for i in range(sessions):
        now = int(time.time() * 1000)
        events = [{"type": 4, "timestamp": now, "data": {"href": ORIGIN + "/cart", "width": 800, "height": 600}}]
        events += [{"type": 5, "timestamp": now + j, "data": {"tag": "replay.network", "payload": {
            "method": "POST", "url": ORIGIN + "/api/pay", "status": 502, "statusText": "Bad Gateway",
            "initiator": "fetch", "startTime": now + j, "duration": 12, "failed": True}}} for j in range(calls)]
        body = {"v": 1, "key": key, "session": "sess_" + uuid.uuid4().hex[:20], "secret": "bench_secret_0123456789",
                "window": "win_" + uuid.uuid4().hex[:16], "url": ORIGIN + "/cart", "ua": "bench",
                "batches": [{"seq": 1, "events": events}]}
        r = requests.post(base + "/ingest/batch", data=json.dumps(body), headers={"Origin": ORIGIN}, timeout=10)
        r.raise_for_status()
        time.sleep(1)
    return first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    took = []
    with Receiver() as receiver, embedded_replay(ALERT_WEBHOOK_URL=receiver.url) as (base, env, _):
        for n in range(args.rounds):
            key = cli(env, "project", "create", f"bench-{n}", "--origin", ORIGIN)
            seen = len(receiver.bodies)
            first = burst(base, key, sessions=4, calls=3)
            deadline = time.time() + 120
            while time.time() < deadline and not any(
                    b.get("kind") == "spike" and b["project"]["key"] == key for b in receiver.bodies[seen:]):
                time.sleep(0.05)
            arrived = next((t for b, t in zip(receiver.bodies[seen:], receiver.times[seen:])
                            if b.get("kind") == "spike" and b["project"]["key"] == key), None)
            if arrived is None:
                print(f"round {n}: no spike alert within 120 s")
                continue
            took.append(arrived - first)
            print(f"round {n}: first failed call -> webhook {took[-1]:.1f} s")
    if took:
        print(f"{len(took)} rounds: median {statistics.median(took):.1f} s, min {min(took):.1f} s, "
              f"max {max(took):.1f} s (target < 60 s)")


if __name__ == "__main__":
    main()
