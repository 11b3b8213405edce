"""What a user of the deployment would find: every acked event stored once, every session searchable.

Storage is read the way the viewer reads it (`recording.iter_events`, which counts a
(window, seq) batch once even when a retried flush wrote it into two segments); the
search side is the JSON API of the running `replay serve`.
"""
from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict

from replay.storage import recording
from replay.storage.store import StorageError
from tests.faults.traffic import Traffic
from tests.faults.window import event_id, is_failed_call

LIST_LIMIT = 500


def _listed(api, **params) -> dict[str, dict]:
    r = api("/api/sessions", limit=LIST_LIMIT, **params)
    r.raise_for_status()
    return {item["session"]: item for item in r.json()["sessions"]}


def check(traffic: Traffic, store, api, first_problem_only: bool = True, redis=None) -> list[str]:
    """Problems left (empty: everything acked is stored exactly once and searchable).

    With `redis`, a session whose events are missing says where its flush stands.
    """
    problems: list[str] = []
    if not traffic.done():
        left = sum(w.unacked() for w in traffic.windows)
        return [f"windows still delivering: {left} batches unacked"]
    try:
        with_502, everyone = _listed(api, status="502"), _listed(api)
    except Exception as exc:  # the API is part of what is checked: not answering is a problem, not a crash
        return [f"GET /api/sessions failed: {type(exc).__name__}: {exc}"]
    for session, windows in traffic.sessions().items():
        try:
            events = list(recording.iter_events(store, session))
        except StorageError as exc:
            problems.append(f"{session}: cannot read storage: {exc}")
            continue
        ids = Counter(i for e in events if (i := event_id(e)))
        acked = traffic.acked_ids(session)
        missing = acked - ids.keys()
        if missing:
            problems.append(f"{session}: {len(missing)} of {len(acked)} acked events not in storage"
                            f"{flush_state(redis, session)} (e.g. {sorted(missing)[:3]})")
        twice = {i: n for i, n in ids.items() if n > 1}
        if twice:
            problems.append(f"{session}: {len(twice)} events stored more than once (e.g. {list(twice.items())[:3]})")
        failed = sum(is_failed_call(e) for e in events)
        problems += _searchable(api, session, len(events), failed, traffic.acked_failed_calls(session),
                                with_502, everyone)
        if problems and first_problem_only:
            return problems
    return problems


def flush_state(redis, session: str, prefix: str = "replay:") -> str:
    """Where the session's flush stands: due when, locked, a job waiting, failures in a row."""
    if redis is None:
        return ""
    try:
        due = redis.zscore(f"{prefix}flush:due", session)
        lock_ms = redis.pttl(f"{prefix}flushlock:{session}")
        queued_ms = redis.pttl(f"{prefix}flush:queued:{session}")
        tries = redis.hget(f"{prefix}flush:tries", session)
    except Exception as exc:
        return f" [Redis: {type(exc).__name__}]"
    due_in = "not scheduled" if due is None else f"due in {(due - time.time() * 1000) / 1000:.1f} s"
    return (f" [{due_in}; lock {'%.1f s left' % (lock_ms / 1000) if lock_ms > 0 else 'free'}; "
            f"job {'waiting' if queued_ms > 0 else 'not waiting'}; failed tries {int(tries or 0)}]")


def _searchable(api, session: str, events: int, failed: int, acked_failed: int, with_502: dict,
                everyone: dict) -> list[str]:
    out = []
    r = api(f"/api/sessions/{session}")
    if r.status_code != 200:
        return [f"{session}: GET /api/sessions/<id> answered {r.status_code}"]
    counts = r.json()["counts"]
    if counts.get("events") != events or counts.get("network_failures") != failed:
        out.append(f"{session}: the API counts {counts.get('events')} events and {counts.get('network_failures')} "
                   f"failed calls; storage holds {events} and {failed}")
    if acked_failed and session not in with_502:
        out.append(f"{session}: {acked_failed} acked 502s, but not listed by /api/sessions?status=502")
    if session in with_502 and not failed:
        out.append(f"{session}: listed by status=502 without any stored failed call")
    item = everyone.get(session)
    if item is None:
        out.append(f"{session}: not in /api/sessions")
    elif item["counts"] != counts:
        out.append(f"{session}: the list says {item['counts']}, the session itself {counts}")
    return out


def manifest_overlaps(traffic: Traffic, store) -> tuple[list[str], int]:
    """(window, seq) batches found in two segments the manifest lists; and how many stored segments no manifest
    lists (left by a flush that died before its manifest write: harmless, the reader skips their batches)."""
    problems, orphans = [], 0
    for session in traffic.sessions():
        manifest = recording.load_manifest(store, session) or {}
        listed = set(manifest.get("segments") or [])
        seen: dict[tuple[str, int], str] = {}
        for key in store.list(f"sessions/{session}/segments/"):
            if key not in listed:
                orphans += 1
                continue
            segment = recording.read_segment(store, key)
            for batch in segment.get("batches") or []:
                mark = (segment["window"], batch["seq"])
                if mark in seen:
                    problems.append(f"{session}: batch {mark} is in both {seen[mark]} and {key}")
                seen[mark] = key
        # Every batch merged into the manifest is in a listed segment, and the other way round.
        merged = {(w, s) for w, info in (manifest.get("windows") or {}).items()
                  for first, last in info.get("seqs") or [] for s in range(first, last + 1)}
        if merged != set(seen):
            problems.append(f"{session}: the manifest covers {len(merged)} batches, its segments hold {len(seen)}")
    return problems, orphans


def wait_until_stored(traffic: Traffic, store, api, fault_end: float, budget_s: float,
                      timeline: list | None = None, redis=None) -> tuple[float, list[str]]:
    """Poll until check() passes; returns (seconds after fault_end when it did, []) or (elapsed, last problems).

    `timeline` gets (seconds after the fault's end, first problem) whenever the first problem changes.
    """
    last = None
    while True:
        problems = check(traffic, store, api, redis=redis)
        elapsed = time.monotonic() - fault_end
        first = problems[0] if problems else None
        # A new entry when the first problem changes (not when only its flush state's clock moves).
        if timeline is not None and (first or "").split(" [")[0] != last:
            last = (first or "").split(" [")[0]
            timeline.append((round(elapsed, 1), first))
        if not problems:
            return elapsed, []
        if elapsed > budget_s:
            return elapsed, problems
        time.sleep(0.25)


def redis_state(redis, prefix: str = "replay:") -> str:
    """What the flush machinery holds, for a failure message."""
    try:
        due = redis.zrange(f"{prefix}flush:due", 0, -1, withscores=True)
        tries = redis.hgetall(f"{prefix}flush:tries")
        locks = [k.decode() for k in redis.scan_iter(match=f"{prefix}flushlock:*")]
        buffers = defaultdict(int)
        for key in redis.scan_iter(match=f"{prefix}buf:*"):
            buffers[key.decode()] = redis.llen(key)
        queue = redis.llen("rq:queue:replay")
        now = time.time() * 1000
        return (f"due: {[(s.decode(), round((t - now) / 1000, 1)) for s, t in due]}\n"
                f"tries: {tries}\nlocks: {locks}\nbuffers: {dict(buffers)}\nqueued jobs: {queue}")
    except Exception as exc:
        return f"(Redis state unreadable: {exc})"


class QueueWatch(threading.Thread):
    """How many flush jobs wait in RQ's queue, sampled every half second."""

    def __init__(self, redis, queue: str = "replay"):
        super().__init__(name="queue watch", daemon=True)
        self.redis, self.key = redis, f"rq:queue:{queue}"
        self.last = self.most = 0
        self._done = threading.Event()

    def start(self) -> "QueueWatch":
        super().start()
        return self

    def run(self) -> None:
        while not self._done.wait(0.5):
            try:
                self.last = int(self.redis.llen(self.key))
            except Exception:
                continue  # Redis is down: that is one of the faults
            self.most = max(self.most, self.last)

    def stop(self) -> None:
        self._done.set()
        self.join()
