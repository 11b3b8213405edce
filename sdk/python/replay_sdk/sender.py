"""A bounded queue and one background thread that posts events to the collector.

`submit` never blocks and never raises: a full queue drops the event (counted). The thread posts batches,
gzipped; when the collector is unreachable or answers 429/5xx it retries the batch with growing pauses,
then drops it (counted). A 4xx other than 429 is a refusal (bad key, bad event): dropped, counted, not retried.
At exit it sends what is queued within a short timeout.
"""
from __future__ import annotations

import gzip
import json
import logging
import os
import queue
import threading
import time
import urllib.error
import urllib.request
from typing import Optional

log = logging.getLogger("replay_sdk")
USER_AGENT = "replay-sdk-python/0.1.0"
MAX_BATCH_EVENTS = 100


class Sender:
    def __init__(self, url: str, server_key: str, queue_size: int = 1000, timeout_s: float = 2.0,
                 max_attempts: int = 3, backoff_s: float = 0.5, max_backoff_s: float = 30.0):
        self.url, self.server_key = url, server_key
        self.queue_size, self.timeout_s, self.max_attempts = queue_size, timeout_s, max_attempts
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self.counters = {"queued": 0, "sent": 0, "rejected": 0, "dropped_queue_full": 0, "dropped_unreachable": 0,
                         "failed_posts": 0}
        self._lock = threading.Lock()
        self._pid: Optional[int] = None
        self._queue: "queue.Queue[dict]" = queue.Queue(queue_size)
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._delay = backoff_s

    def _count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counters[name] += n

    def stats(self) -> dict:
        with self._lock:
            return dict(self.counters, pending=self._queue.qsize())

    def _ensure_thread(self) -> None:
        pid = os.getpid()
        if self._pid == pid and self._thread is not None:
            return
        with self._lock:
            if self._pid == pid and self._thread is not None:
                return
            if self._pid is not None:  # forked (gunicorn --preload): the parent's thread did not come along
                self._queue, self._stop = queue.Queue(self.queue_size), threading.Event()
            self._pid = pid
            self._thread = threading.Thread(target=self._run, name="replay-sdk-sender", daemon=True)
            self._thread.start()

    def submit(self, event: dict) -> bool:
        """Queue one event; False (and counted) when it had to be dropped."""
        if self._stop.is_set():
            self._count("dropped_queue_full")
            return False
        self._ensure_thread()
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self._count("dropped_queue_full")
            return False
        self._count("queued")
        return True

    def close(self, timeout_s: float = 2.0) -> None:
        """Send what is queued (one try each), waiting at most `timeout_s`; later events are dropped."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            thread.join(timeout_s)

    def flush(self, timeout_s: float = 2.0) -> bool:
        """Wait until every queued event was sent or dropped; True if that happened within the timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.01)
        return False

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            batch = [first]
            while len(batch) < MAX_BATCH_EVENTS:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._deliver(batch)
            except Exception:  # never let the thread die: later events would pile up unsent
                log.exception("replay_sdk: could not send %d events", len(batch))
                self._count("dropped_unreachable", len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _deliver(self, batch: list) -> None:
        body = gzip.compress(("\n".join(json.dumps(e, default=str, ensure_ascii=False) for e in batch) + "\n")
                             .encode("utf-8", "replace"))
        for attempt in range(1, self.max_attempts + 1):
            outcome, accepted = self._post(body, len(batch))
            if outcome == "sent":
                self._delay = self.backoff_s
                self._count("sent", accepted)
                return
            if outcome == "rejected":
                self._count("rejected", len(batch))
                return
            self._count("failed_posts")
            if attempt == self.max_attempts or self._stop.is_set():
                break
            self._stop.wait(self._delay)  # a closing process does not wait out the pause
            self._delay = min(self._delay * 2, self.max_backoff_s)
        self._count("dropped_unreachable", len(batch))

    def _post(self, body: bytes, n: int) -> tuple:
        """("sent", events accepted), ("rejected", 0) or ("retry", 0)."""
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Authorization": f"Bearer {self.server_key}", "Content-Type": "application/x-ndjson",
            "Content-Encoding": "gzip", "User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            if exc.code == 429 or exc.code >= 500:
                return "retry", 0
            log.warning("replay_sdk: the collector refused %d events (HTTP %s): %s", n, exc.code,
                        exc.read(500).decode("utf-8", "replace"))
            return "rejected", 0
        except (OSError, ValueError):  # refused, unreachable, timed out, a proxy's HTML page
            return "retry", 0
        rejected = int(answer.get("rejected") or 0) if isinstance(answer, dict) else 0
        if rejected:
            self._count("rejected", rejected)
            log.warning("replay_sdk: the collector refused %d events: %s", rejected, answer.get("errors"))
        return "sent", n - rejected
