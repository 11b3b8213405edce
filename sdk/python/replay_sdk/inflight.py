"""Requests still running past a threshold, reported while they run: if the process dies on one (SIGKILL, the OOM
killer, a worker timeout), replay still has the app's record of it (type "in_flight": how long so far, the stack
of the thread or task serving it, its WARNING+ records so far).

One daemon thread looks every `interval_ms` at the requests running; a request past `after_ms` is sent once, and
again when its stack moved (at most every REFRESH_S, at most MAX_SENDS times). A request that was sent and then
ends sends its final event (whatever its status, with the same request id): the collector drops the in-flight
record for it. The request's own thread only adds and removes itself from a dict: nothing it does waits on the
watchdog, which never stops a thread to look (it reads the frames as they are).
"""
from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from typing import Callable, Optional

from replay_sdk.context import RequestState
from replay_sdk.events import MAX_FRAMES, frame_list, frames_of

log = logging.getLogger("replay_sdk")
REFRESH_S = 5.0
MAX_SENDS = 3


def _task_stack(task, thread: Optional[int]) -> list:
    """An asyncio task's frames down its await chain (a suspended coroutine's frame has no f_back); when one is
    running, the loop thread's own stack from there on."""
    coro, frames = task.get_coro(), []
    while coro is not None and len(frames) < 4 * MAX_FRAMES:
        if getattr(coro, "cr_running", False) or getattr(coro, "gi_running", False):
            running = sys._current_frames().get(thread) if thread is not None else None
            return frames_of(running) if running is not None else frame_list(frames)
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is not None:
            frames.append(frame)
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return frame_list(frames)


def stack_now(state: RequestState) -> list:
    """Where the request is now, outermost frame first; [] when its thread or task is gone."""
    if state.task is not None:
        return _task_stack(state.task, state.thread)
    frame = sys._current_frames().get(state.thread) if state.thread is not None else None
    return frames_of(frame) if frame is not None else []


class Watchdog:
    def __init__(self, submit: Callable[[RequestState, list], None], after_ms: int = 1000, interval_ms: int = 250):
        self.submit, self.after_s, self.interval_s = submit, after_ms / 1000, max(interval_ms, 10) / 1000
        self._running: dict[int, RequestState] = {}
        self._lock = threading.RLock()  # a SIGTERM handler may run on a thread inside it
        self._pid: Optional[int] = None
        self._stop = threading.Event()

    def start(self, state: RequestState, task=None) -> None:
        """Watch this request (from its own thread or task)."""
        state.thread, state.task = threading.get_ident(), task
        if self._pid != os.getpid():
            self._start_thread()
        with self._lock:
            self._running[id(state)] = state

    def end(self, state: RequestState, failed: bool, ending: bool = True) -> bool:
        """The request answered (`ending`: and ended); True when its final event is to be sent now: it failed, or
        it was sent as in flight (the final event replaces that record). Taken once, under the watchdog's lock."""
        with self._lock:
            if ending:
                self._running.pop(id(state), None)
            if state.reported or not (failed or state.in_flight_sent):
                return False
            state.reported = True
            return True

    def _start_thread(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            if self._pid is not None:  # forked: the parent's requests and thread are not ours
                self._running, self._stop = {}, threading.Event()
            self._pid = os.getpid()
            threading.Thread(target=self._run, name="replay-sdk-in-flight", daemon=True).start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.check()
            except Exception:  # the watchdog must outlive anything one request's frames do to it
                log.exception("replay_sdk: could not check the requests in flight")

    def check(self, now: Optional[float] = None, everything: bool = False) -> int:
        """Send the records due now (every request in flight when `everything`); how many were sent."""
        now = time.perf_counter() if now is None else now
        with self._lock:
            running = list(self._running.values())
        sent = 0
        for state in running:
            if state.reported or state.status is not None or (not everything and now - state.started < self.after_s):
                continue  # an answered request (its body may still stream) is no longer the proxy's to lose
            if state.in_flight_sent and not everything and (state.in_flight_sent >= MAX_SENDS
                                                             or now - state.in_flight_at < REFRESH_S):
                continue
            stack = stack_now(state)
            key = tuple((f["file"], f["line"]) for f in stack)
            if state.in_flight_sent and key == state.in_flight_key:
                continue  # still where it was when sent: nothing new to say
            with self._lock:  # the request ends under this lock too: once it has, it is not sent as in flight
                if id(state) not in self._running or state.reported:
                    continue
                state.in_flight_sent += 1
                state.in_flight_at, state.in_flight_key = now, key
            self.submit(state, stack)
            sent += 1
        return sent

    def interrupted(self, state: RequestState, stack: list) -> None:
        """Send it now and stop watching it: the process is ending on it."""
        with self._lock:
            if self._running.pop(id(state), None) is None or state.reported:
                return
            state.reported = True
            state.in_flight_sent += 1
        self.submit(state, stack)

    def flush(self) -> int:
        """Every request still running, sent as in flight now (the process is ending: best effort)."""
        self._stop.set()
        return self.check(everything=True) if self._pid == os.getpid() else 0


def current_task():
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None
