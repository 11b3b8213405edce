"""Each fault on real processes while 20 windows keep sending: every acked event is stored exactly once and
searchable within 30 s of the fault's end, and no worker exits on its own.

The scenarios share one deployment (module fixtures) and each starts from a healthy one
(what the previous scenario killed is started again); each sends with its own sessions.
"""
from __future__ import annotations

import signal
import threading
import time

import pytest
from rq import Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job

from tests.faults import audit
from tests.faults.conftest import NOTES, ORIGIN, TIMELINES, TIMINGS
from tests.faults.traffic import Traffic

# Traffic before the fault, so that each session has stored segments and a buffer when it strikes.
WARMUP_S = 3.0
# The target: everything acked is stored and searchable this long after the fault ended.
BUDGET_S = 30.0
PREFIX = "replay:"


@pytest.fixture
def scenario(request, stack, project_key, api, store, redis_proc):
    """run(name, fault): traffic, the fault (a function that returns once it has ended), then the audit."""
    started: list[Traffic] = []

    def run(name: str, fault) -> dict:
        traffic = Traffic(stack.url, ORIGIN, project_key, seed=len(TIMINGS) + 1).start()
        started.append(traffic)
        queue = audit.QueueWatch(redis_proc.client).start()
        time.sleep(WARMUP_S)
        t0 = time.monotonic()
        evidence = fault() or {}
        fault_end = time.monotonic()
        traffic.stop_producing()
        evidence["queued flush jobs at the fault's end"] = queue.last
        timeline: list = []
        elapsed, problems = audit.wait_until_stored(traffic, store, api, fault_end, BUDGET_S, timeline,
                                                    redis=redis_proc.client)
        queue.stop()
        evidence["most queued flush jobs"] = queue.most
        totals = traffic.totals()
        print(f"{name}: fault lasted {fault_end - t0:.1f} s; all stored and searchable {elapsed:.1f} s after it "
              f"ended; traffic {totals}; {evidence}")
        label = name if not problems else f"{name} (NOT all stored)"
        TIMINGS[label], TIMELINES[label] = elapsed, timeline
        NOTES[label] = (f"{totals['acked']} events acked over {totals['sessions']} sessions; reconnects "
                        f"{totals['connects'] - totals['windows']}, batches acked over HTTP posts "
                        f"{totals['http_acked']}; {evidence}")
        if problems:
            print(traffic.journal())
            print(audit.redis_state(redis_proc.client))
        assert not problems, f"{name}: {BUDGET_S:.0f} s after the fault ended: {problems}"
        assert not [w.window for w in traffic.windows if w.fatal], traffic.journal()
        # The thorough pass, once everything is in: every session, and the manifests' own bookkeeping.
        assert audit.check(traffic, store, api, first_problem_only=False) == []
        overlaps, orphans = audit.manifest_overlaps(traffic, store)
        assert overlaps == [], overlaps
        NOTES[label] += f"; {orphans} segments of flushes that died before their manifest (unlisted, skipped)"
        stack.assert_no_unexpected_exit()
        return evidence

    yield run
    for traffic in started:
        traffic.halt()


def _flush_in_progress(redis, deployment, timeout_s: float = 20.0) -> tuple[str, str, bytes]:
    """A worker busy with a session's flush while that session's flush lock is held: (name, session, lock token).

    Only a worker that is the one flushing the session counts (another worker's job for the same session
    would find the lock taken and return at once).
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        busy = {}
        for w in Worker.all(connection=redis):
            job_id = w.get_current_job_id() or ""
            if job_id.startswith("flush-"):
                try:
                    # A job flushes its sessions (its one argument, a list) one after another.
                    busy[w.pid] = list(Job.fetch(job_id, connection=redis).args[0])
                except (NoSuchJobError, IndexError):
                    continue
        for pid, sessions in busy.items():
            others = [s for p, ss in busy.items() if p != pid for s in ss]
            for session in sessions:
                token = redis.get(f"{PREFIX}flushlock:{session}")
                name = deployment.name_of(pid)
                if token and name and session not in others:
                    return name, session, token
        time.sleep(0.002)
    raise AssertionError("no flush seen in progress")


def _watch_lock(redis, session: str, token: bytes, out: dict) -> None:
    """Was the killed worker's lock left to expire (nobody renews it), or released by a live flush?"""
    key = f"{PREFIX}flushlock:{session}"
    out["lowest_pttl_ms"] = None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        value, pttl = redis.get(key), redis.pttl(key)
        if value != token:
            break
        out["lowest_pttl_ms"] = pttl if out["lowest_pttl_ms"] is None else min(out["lowest_pttl_ms"], pttl)
        time.sleep(0.05)


def test_worker_killed_mid_flush(scenario, stack, redis_proc):
    redis = redis_proc.client
    watched: dict = {}

    def fault():
        name, session, token = _flush_in_progress(redis, stack)
        stack.kill(name, signal.SIGKILL)
        # Not started again: the other worker must cover.
        watcher = threading.Thread(target=_watch_lock, args=(redis, session, token, watched), daemon=True)
        watcher.start()
        watched["thread"] = watcher
        return {"killed": name, "session": session}

    scenario("worker SIGKILL mid-flush", fault)
    watched.pop("thread").join()
    NOTES["worker SIGKILL mid-flush"] += (f"; the killed flush's lock was left to expire (seen with "
                                          f"{watched['lowest_pttl_ms']} ms left, never renewed)")
    # The kill came mid-flush: the lock it held was never released nor renewed after it (renewals keep a live
    # holder's above two thirds of FLUSH_LOCK_MS, 10 s by default).
    assert watched["lowest_pttl_ms"] is not None and watched["lowest_pttl_ms"] < 4000, watched


def test_web_killed(scenario, stack):
    def fault():
        stack.kill("web", signal.SIGKILL)
        time.sleep(2)
        stack.start("web")

    scenario("web SIGKILL, restarted", fault)


def test_s3_refusing_then_hanging(scenario, s3_proxy):
    proxy, _ = s3_proxy

    def fault():
        proxy.set_mode("refuse")
        time.sleep(8)
        proxy.set_mode("hang")
        time.sleep(60)
        # Connections accepted while hanging stay unanswered: the workers' own timeouts must free them.
        proxy.set_mode("pass")
        return {"accepted while hanging": proxy.accepted["hang"]}

    scenario("S3 refusing 8 s, then hanging 60 s", fault)


# Longer than redis-py's own retries (a few hundred ms): every client must notice, and wait.
REDIS_DOWN_S = 5.0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_redis_restarted(scenario, redis_proc, sig):
    def fault():
        redis_proc.kill(sig)
        time.sleep(REDIS_DOWN_S)
        redis_proc.start()

    scenario(f"Redis {signal.Signals(sig).name}, restarted", fault)
