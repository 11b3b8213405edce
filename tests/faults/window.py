"""A simulated browser window: the snippet's transport, over a real socket, with every event numbered.

It speaks docs/protocol.md as the snippet does: hello, then numbered batches,
each kept until the collector acks it; after a reconnect the `ready` answer
says what the collector holds and the window resends exactly what is above it.
When the socket keeps failing it falls back to `POST /ingest/batch`. Every
event carries a unique id, so a test can tell which acked events reached
storage, and how many times.
"""
from __future__ import annotations

import json
import random
import threading
import time

import requests
import websocket

# Close codes after which the snippet must not reconnect (docs/protocol.md).
FATAL_CLOSES = {"invalid_message", "invalid_envelope", "hello_required", "unknown_project", "origin_not_allowed",
                "project_disabled", "session_conflict", "unsupported_version", "too_large"}
BATCH_INTERVAL_S = 0.2
ACK_TIMEOUT_S = 5.0
BACKOFF_FIRST_S, BACKOFF_CAP_S = 0.1, 1.0
# Socket failures in a row before a window also tries the HTTP endpoint.
HTTP_FALLBACK_AFTER = 3
FAILED_CALL_URL = "https://shop.test/api/orders"


def now_ms() -> int:
    return int(time.time() * 1000)


def event_id(event: dict) -> str | None:
    """The id a Window gave an event (None for anything else)."""
    data = event.get("data") if isinstance(event, dict) else None
    payload = data.get("payload") if isinstance(data, dict) else None
    if not isinstance(payload, dict):
        return None
    if data.get("tag") == "replay.track":
        return payload.get("name")
    if data.get("tag") == "replay.network":
        return payload.get("rid")
    return None


def is_failed_call(event: dict) -> bool:
    data = event.get("data") or {}
    return data.get("tag") == "replay.network" and (data.get("payload") or {}).get("failed") is True


class Fatal(Exception):
    """The collector refused this window for good (a 44xx close other than rate limits)."""


class Window(threading.Thread):
    """One page: produces a batch every BATCH_INTERVAL_S while `producing`, delivers until nothing is unacked."""

    def __init__(self, base_url: str, origin: str, key: str, session: str, secret: str, window: str,
                 failed_status: int | None, seed: int):
        super().__init__(name=f"window {window}", daemon=True)
        self.ws_url = base_url.replace("http://", "ws://") + "/ingest/ws"
        self.http_url = base_url + "/ingest/batch"
        self.origin, self.key, self.session, self.secret, self.window = origin, key, session, secret, window
        self.failed_status = failed_status
        self.rng = random.Random(seed)
        self.url = f"{origin}/shop/{window[:6]}"
        self.producing = threading.Event()
        self.producing.set()
        self._halt = threading.Event()
        self._lock = threading.Lock()
        self._ws: websocket.WebSocket | None = None
        self.next_seq = 1
        self.counter = 0
        self.pending: dict[int, list] = {}  # seq -> events, not acked yet
        self.acked = 0
        self.acked_ids: set[str] = set()
        self.acked_failed_calls = 0
        self.generated = 0
        self.fatal: str | None = None
        self.stats = {"connects": 0, "socket_failures": 0, "resent": 0, "http_posts": 0, "http_acked": 0}
        self.journal: list[str] = []

    # What the test reads.
    def unacked(self) -> int:
        with self._lock:
            return len(self.pending)

    def stop_producing(self) -> None:
        self.producing.clear()

    def halt(self) -> None:
        self._halt.set()
        self._close()

    def note(self, text: str) -> None:
        if len(self.journal) < 200:
            self.journal.append(f"{time.strftime('%H:%M:%S')} {text}")

    # The loop.
    def run(self) -> None:
        failures = 0
        next_batch = time.monotonic()
        while not self._halt.is_set():
            if self.producing.is_set() and time.monotonic() >= next_batch:
                self._new_batch()
                next_batch += BATCH_INTERVAL_S
            with self._lock:
                waiting = bool(self.pending)
            if not waiting:
                if not self.producing.is_set():
                    break
                self._halt.wait(max(0.0, next_batch - time.monotonic()))
                continue
            try:
                self._deliver()
                failures = 0
            except Fatal as exc:
                self.fatal = str(exc)
                self.note(f"fatal: {exc}")
                break
            except (OSError, websocket.WebSocketException, ValueError) as exc:
                failures += 1
                self.stats["socket_failures"] += 1
                self.note(f"socket failure {failures}: {type(exc).__name__}: {exc}")
                self._close()
                try:
                    posted = failures >= HTTP_FALLBACK_AFTER and self._post_pending()
                except Fatal as fatal:
                    self.fatal = str(fatal)
                    self.note(f"fatal: {fatal}")
                    break
                if posted:
                    failures = 0
                    continue
                self._halt.wait(min(BACKOFF_CAP_S, BACKOFF_FIRST_S * 2 ** (failures - 1)))
        self._close()

    def _new_batch(self) -> None:
        events = []
        for _ in range(self.rng.randint(1, 3)):
            self.counter += 1
            events.append({"type": 5, "timestamp": now_ms(),
                           "data": {"tag": "replay.track", "payload": {"name": f"e-{self.window}-{self.counter}"}}})
        if self.failed_status and self.rng.random() < 0.15:
            self.counter += 1
            t = now_ms()
            events.append({"type": 5, "timestamp": t, "data": {"tag": "replay.network", "payload": {
                "method": "GET", "url": FAILED_CALL_URL, "status": self.failed_status, "statusText": "Bad Gateway",
                "initiator": "fetch", "startTime": t - 40, "duration": 40.0, "failed": True, "error": None,
                "responseHeaders": {"server": "nginx"}, "responseBody": "<h1>502 Bad Gateway</h1>",
                "rid": f"e-{self.window}-{self.counter}"}}})
        with self._lock:
            self.pending[self.next_seq] = events
            self.next_seq += 1
            self.generated += len(events)

    def _acked_upto(self, high: int) -> None:
        with self._lock:
            for seq in [s for s in self.pending if s <= high]:
                for event in self.pending.pop(seq):
                    self.acked_ids.add(event_id(event))
                    self.acked_failed_calls += is_failed_call(event)
            self.acked = max(self.acked, high)

    def _hello(self) -> dict:
        return {"v": 1, "key": self.key, "session": self.session, "window": self.window, "url": self.url,
                "ua": "Mozilla/5.0 (X11; Linux x86_64) fault-test", "secret": self.secret, "ts": now_ms()}

    def _deliver(self) -> None:
        """Connect if needed (the `ready` answer drops what the collector holds), then send what waits, in order."""
        if self._ws is None:
            ws = websocket.create_connection(self.ws_url, timeout=ACK_TIMEOUT_S, origin=self.origin)
            self._ws = ws
            self.stats["connects"] += 1
            ready = self._reply({"type": "hello", **self._hello()})
            if ready.get("type") != "ready":
                raise ValueError(f"expected ready, got {ready}")
            self._acked_upto(int(ready["acked"]))
            self._sent_here: set[int] = set()
            with self._lock:
                if self.stats["connects"] > 1:
                    self.stats["resent"] += len(self.pending)
        with self._lock:
            todo = sorted(s for s in self.pending if s not in self._sent_here)
        if not todo:
            # Everything waiting went out on this socket and is still not acked (a gap): start afresh.
            raise ValueError("batches sent on this socket are still unacked")
        for seq in todo:
            with self._lock:
                events = self.pending.get(seq)
            if events is None:
                continue
            self._sent_here.add(seq)
            ack = self._reply({"type": "batch", "seq": seq, "events": events})
            if ack.get("type") != "ack":
                raise ValueError(f"expected ack, got {ack}")
            self._acked_upto(int(ack["acked"]))

    def _reply(self, message: dict) -> dict:
        ws = self._ws
        if ws is None:
            raise ValueError("no socket")
        ws.send(json.dumps(message, separators=(",", ":")))
        answer = json.loads(ws.recv())
        if answer.get("type") == "error":
            if answer.get("code") in FATAL_CLOSES:
                raise Fatal(f"{answer.get('code')}: {answer.get('message')}")
            raise ValueError(f"collector error {answer.get('code')}: {answer.get('message')}")
        return answer

    def _post_pending(self) -> bool:
        """The HTTP fallback: every waiting batch in one request; True when the collector took them."""
        with self._lock:
            batches = [{"seq": s, "events": self.pending[s]} for s in sorted(self.pending)][:200]
        if not batches:
            return True
        self.stats["http_posts"] += 1
        try:
            r = requests.post(self.http_url, data=json.dumps({**self._hello(), "batches": batches}),
                              headers={"Origin": self.origin, "Content-Type": "text/plain"}, timeout=ACK_TIMEOUT_S)
        except requests.RequestException as exc:
            self.note(f"http fallback failed: {type(exc).__name__}")
            return False
        if r.status_code != 200:
            code = (r.json().get("error") or {}).get("code") if r.headers.get("content-type", "").startswith(
                "application/json") else None
            if code in FATAL_CLOSES:
                raise Fatal(f"http {r.status_code} {code}")
            self.note(f"http fallback answered {r.status_code} {code}")
            return False
        self.stats["http_acked"] += 1
        self._acked_upto(int(r.json()["acked"]))
        return True

    def _close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                ws.close(timeout=0.5)
            except Exception:
                pass
