"""Flush throughput of one `replay worker` process, and what flushing leaves in Redis.

N short sessions (3 batches of about 15 events through the real `Buffer.append`; one in
ten has a failed call, one in five a console error) are buffered in the embedded
default's Redis (`appendfsync always`) while they are not yet due. A real
`replay worker` is started; once it says it is ready every session is made due at
once, and the clock runs until every one is indexed and its buffer is gone. Then:
the Redis keys RQ left behind, and the index's memory per session (MEMORY USAGE of
every key that grows per indexed session: session:*, idx:* and alerts:count:*, by kind
and encoding, divided by the sessions indexed).

`--storage local` (a folder) or `s3` (moto's ThreadedMotoServer in a process of its
own); both by default. `--profile FILE` flushes in this process instead (RQ's
SimpleWorker in burst mode, as `replay worker --burst`) under pyinstrument and
writes its text report to FILE.
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import BIN, free_port, wait_port  # noqa: E402
import _index_memory as index_memory  # noqa: E402

SITE = "https://shop.example"
HOUR_MS = 3600_000


def custom(tag: str, payload: dict, t: int) -> dict:
    return {"type": 5, "timestamp": t, "data": {"tag": tag, "payload": payload}}


def short_session(rng: random.Random, t0: int, n: int) -> list[list[dict]]:
    """Three batches a page sends in its first seconds: load, a few moves and calls, a click."""
    path = rng.choice(["/", "/cart", "/products/%d" % rng.randint(1, 500), "/checkout"])
    nodes = [{"type": 2, "tagName": "div", "attributes": {"class": f"row r{i}"}, "id": 10 + i,
              "childNodes": [{"type": 3, "textContent": f"item {i}", "id": 100 + i}]} for i in range(12)]
    first = [{"type": 4, "timestamp": t0, "data": {"href": SITE + path, "width": 1280, "height": 720}},
             {"type": 2, "timestamp": t0 + 1, "data": {"node": {"type": 0, "id": 1, "childNodes": nodes},
                                                       "initialOffset": {"top": 0, "left": 0}}}]
    second = [{"type": 3, "timestamp": t0 + 200 + 50 * i,
               "data": {"source": 1, "positions": [{"x": rng.randint(0, 1200), "y": rng.randint(0, 700),
                                                    "id": 10 + i, "timeOffset": 0}]}} for i in range(8)]
    status = 502 if n % 10 == 0 else 200
    second.append(custom("replay.network", {
        "method": "GET", "url": f"{SITE}/api/orders/{n}", "status": status, "statusText": "",
        "initiator": "fetch", "startTime": t0 + 700, "duration": 41.5, "failed": status >= 400, "error": None},
        t0 + 700))
    third = [{"type": 3, "timestamp": t0 + 1500, "data": {"source": 2, "type": 2, "id": 12, "x": 40, "y": 60}},
             custom("replay.console", {"level": "error" if n % 5 == 0 else "log",
                                       "args": [f"checkout step {n % 7}"], "trace": ""}, t0 + 1510)]
    return [first, second, third]


def fill(settings, sessions: int, project: str) -> list[str]:
    """Buffer the sessions (not yet due: FLUSH_AGE_MS is an hour here); returns their ids."""
    from redis import Redis

    from replay.core.keys import RedisKeys
    from replay.ingest.buffer import Buffer

    redis = Redis.from_url(settings.REDIS_URL)
    keys = RedisKeys(settings.KEY_PREFIX)
    buffer = Buffer(redis, keys, settings)
    rng = random.Random(11)
    now = int(time.time() * 1000)
    ids = []
    for start in range(0, sessions, 100):
        pipe = redis.pipeline(transaction=False)
        for n in range(start, min(sessions, start + 100)):
            session = f"bench{n:06d}s{rng.getrandbits(32):08x}"
            ids.append(session)
            t0 = now - 60_000 + n
            pipe.hset(keys.session_meta(session), mapping={
                "project": project, "first_seen_ms": t0, "last_seen_ms": t0,
                "ua": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"})
            for seq, events in enumerate(short_session(rng, t0, n), start=1):
                buffer.append(session, "win" + session[-9:], seq, events, t0 + 2000 * seq, SITE + "/",
                              project=project, client=pipe)
        pipe.execute()
    redis.close()
    return ids


def indexed(redis, keys) -> int:
    return redis.zcard(keys.by_time())


def leftovers(redis) -> dict[str, int]:
    """Keys RQ and the flush left per kind (job hashes, registries and their entries)."""
    out: dict[str, int] = {}
    for key in redis.scan_iter(match="rq:*", count=1000):
        name = key.decode()
        kind = name
        if name.startswith("rq:job:"):
            status = (redis.hget(key, "status") or b"-").decode()
            func = (redis.hget(key, "func_name") or b"").decode().rsplit(".", 1)[-1]
            kind = f"rq:job:* ({func or 'part'} {status})"
        elif name.startswith("rq:execution"):
            kind = name.split(":")[0] + ":" + name.split(":")[1] + ":*"
        out[kind] = out.get(kind, 0) + 1
        if redis.type(key) == b"zset":
            out[f"{name} entries"] = redis.zcard(key)
    return out


def cpu_s(pid: int) -> float:
    """User plus system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def moto_server(port: int) -> subprocess.Popen:
    code = ("import time; from moto.server import ThreadedMotoServer as S; "
            f"s = S(ip_address='127.0.0.1', port={port}); s.start(); time.sleep(1e9)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc


def run(storage: str, sessions: int, profile: str | None, timeout_s: float) -> None:
    from redis import Redis

    from replay.core import embedded_redis
    from replay.core import settings as settings_mod
    from replay.core.accounts import Accounts
    from replay.core.keys import RedisKeys

    data = tempfile.mkdtemp(prefix="replay-bench-flush-")
    values = {"DATA_DIR": data}
    moto = None
    if storage == "s3":
        port = free_port()
        moto = moto_server(port)
        values.update(S3_ENDPOINT=f"127.0.0.1:{port}", S3_ACCESS_KEY="testing", S3_SECRET_KEY="testing",
                      S3_BUCKET="replay", S3_SECURE=False)
    base = settings_mod.load(values, environ={})
    redis_proc = embedded_redis.start(base)
    values["REDIS_URL"] = embedded_redis.url(base)
    worker = None
    try:
        settings = settings_mod.load({**values, "FLUSH_AGE_MS": HOUR_MS, "FLUSH_IDLE_MS": HOUR_MS}, environ={})
        redis = Redis.from_url(settings.REDIS_URL)
        keys = RedisKeys(settings.KEY_PREFIX)
        project = Accounts(redis, keys).create_project("bench", [SITE]).key
        started = time.perf_counter()
        ids = fill(settings, sessions, project)
        print(f"{storage}: {sessions} sessions buffered in {time.perf_counter() - started:.1f} s")
        if profile:
            flushed_in = profile_flush(values, redis, keys, ids, profile, timeout_s)
        else:
            env = {k: v for k, v in os.environ.items() if not k.startswith("REPLAY_")}
            env.update({f"REPLAY_{k}": str(v).lower() if isinstance(v, bool) else str(v) for k, v in values.items()})
            log = Path(data) / "worker.log"
            with open(log, "wb") as out:
                worker = subprocess.Popen([str(BIN), "worker"], env=env, stdout=out, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 60
            while "worker ready" not in log.read_text(errors="replace"):
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the worker did not start; see {log}")
                time.sleep(0.05)
            procs = {"worker": worker.pid, "redis": redis_proc.pid, **({"moto": moto.pid} if moto else {})}
            before = {name: cpu_s(pid) for name, pid in procs.items()}
            flushed_in = flush_all(redis, keys, ids, timeout_s)
            used = {name: cpu_s(pid) - before[name] for name, pid in procs.items()}
            print(f"{storage}: CPU while flushing: " + ", ".join(
                f"{name} {s:.1f} s ({s / sessions * 1000:.2f} ms a session)" for name, s in used.items()))
        done = indexed(redis, keys)
        buffered = sum(redis.exists(*(keys.buffer(s) for s in ids[i:i + 500])) for i in range(0, len(ids), 500))
        print(f"{storage}: {done} of {sessions} sessions flushed and indexed in {flushed_in:.2f} s = "
              f"{done / flushed_in:.0f} sessions/s with 1 worker process; {buffered} buffers left")
        # Jobs still queued for sessions flushed already (claimed again when the backlog outlived a lease) run
        # and find nothing; then the census shows what finished jobs leave behind.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (redis.llen("rq:queue:replay") or redis.zcard("rq:wip:replay")):
            time.sleep(0.1)
        time.sleep(1.5)  # the worker's last job finishes its bookkeeping
        left = leftovers(redis)
        print(f"{storage}: RQ keys left after the flushes: " + (", ".join(f"{k}={v}" for k, v in sorted(left.items()))
                                                               or "none"))
        print(index_memory.report(f"{storage}: ", redis, keys, done))
        redis.close()
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
            text = (Path(data) / "worker.log").read_text(errors="replace")
            print(f"{storage}: the worker logged {text.count('Traceback (most recent call last)')} traceback(s)")
        embedded_redis.stop(redis_proc)
        if moto is not None:
            moto.terminate()
            moto.wait(10)


def flush_all(redis, keys, ids: list[str], timeout_s: float) -> float:
    """Make every session due now; the seconds until all are indexed and none is on the schedule."""
    now = int(time.time() * 1000)
    started = time.perf_counter()
    redis.zadd(keys.flush_due(), {s: now for s in ids}, xx=True)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if indexed(redis, keys) >= len(ids) and redis.zcard(keys.flush_due()) == 0:
            break
        time.sleep(0.01)
    return time.perf_counter() - started


def profile_flush(values: dict, redis, keys, ids: list[str], out: str, timeout_s: float) -> float:
    from pyinstrument import Profiler

    from replay.core import settings as settings_mod
    from worker.runner import run_worker

    from worker import jobs

    class InThisThread:  # pyinstrument samples the thread it started on: flush there, one session at a time
        map = staticmethod(lambda fn, items: list(map(fn, items)))

    jobs._pool = InThisThread
    settings = settings_mod.load(values, environ={})
    now = int(time.time() * 1000)
    redis.zadd(keys.flush_due(), {s: now for s in ids}, xx=True)
    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    deadline = time.monotonic() + timeout_s
    with profiler:
        while indexed(redis, keys) < len(ids) and time.monotonic() < deadline:
            run_worker(settings, burst=True)
    took = time.perf_counter() - started
    Path(out).write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    print(f"profile written to {out}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--storage", choices=["local", "s3"], nargs="+", default=["local", "s3"])
    parser.add_argument("--profile", help="flush in this process under pyinstrument; the report's file")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    for storage in args.storage:
        run(storage, args.sessions, args.profile and f"{args.profile}.{storage}.txt", args.timeout)


if __name__ == "__main__":
    main()
