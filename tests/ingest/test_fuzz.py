"""Fuzz of ingest against the real thing: `replay serve` (gunicorn, gevent) and `replay worker` on redis-server.

Thousands of mutated hellos, batches and HTTP envelopes (tests/ingest/fuzz_cases.py) go over both
transports; the seed is printed and REPLAY_FUZZ_SEED replays a run. Whatever is sent:
- no request is answered with a 5xx;
- every upgraded socket ends with a close frame whose code the protocol names (docs/protocol.md), its
  echo of the client's own close, or 1002/1007 for a frame that breaks RFC 6455 itself; never a raw
  HTTP response inside the socket;
- no Traceback in the server's or the worker's log;
- everything acked is flushed, listed and replayable: each page and JSON answer of those sessions (and of
  one valid session recorded afterwards) answers 200, and its JSON passes a strict parser.
REPLAY_FUZZ_SECONDS (default 25) bounds the sending; REPLAY_FUZZ_CASES caps the number of cases.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from redis import Redis

from replay.core import wire
from replay.core.accounts import Accounts
from replay.core.keys import RedisKeys
from replay.core.settings import Settings
from tests.conftest import REDIS_DATABASES
from tests.e2e.conftest import ReplayProcesses, poll
from tests.ingest import fuzz_cases as fc
from tests.ingest import fuzz_values as fv
from tests.ingest.fuzz_pages import Viewer, strict_json
from tests.ingest.rawclient import OP_CLOSE, OP_TEXT, Closed, RawWebSocket, close_payload, frame, http_request

ROOT = Path(__file__).resolve().parents[2]
SEED = os.environ.get("REPLAY_FUZZ_SEED") or str(random.SystemRandom().randrange(1 << 32))
FUZZ_SECONDS = float(os.environ.get("REPLAY_FUZZ_SECONDS", "25"))
MAX_CASES = int(os.environ.get("REPLAY_FUZZ_CASES", "100000"))
THREADS = 4
SOCKET_TIMEOUT_S = 20.0
ORIGIN, OTHER_ORIGIN = "http://fuzz.example", "http://other.example"
POOL, OTHER_POOL = 24, 4
# The limits the server runs with: smaller than the defaults so that reaching them costs little.
LIMITS = {"MAX_MESSAGE_BYTES": 256 * 1024, "MAX_HTTP_BATCH_BYTES": 256 * 1024, "MAX_INFLATED_BYTES": 1024 * 1024,
          "MAX_EVENTS_PER_BATCH": 1000, "RATE_WINDOW_BURST": 40, "WS_HELLO_TIMEOUT_S": 2, "WS_IDLE_TIMEOUT_S": 3,
          "FLUSH_AGE_MS": 1000, "FLUSH_IDLE_MS": 200, "MAX_SOCKETS_PER_IP": 32,
          # Event times are kept as sent (by default ingest sets those days off to the arrival time): year 0,
          # 9999 and 33658 reach the flush and the pages.
          "MAX_EVENT_AGE_MS": 10 ** 17, "MAX_EVENT_LEAD_MS": 10 ** 17}
PROTOCOL_CLOSE_CODES = {1000, wire.CLOSE_TOO_LARGE, wire.CLOSE_SERVER_ERROR, wire.CLOSE_TRY_AGAIN, wire.CLOSE_INVALID,
                        wire.CLOSE_FORBIDDEN, wire.CLOSE_TIMEOUT, wire.CLOSE_UNSUPPORTED_VERSION,
                        wire.CLOSE_RATE_LIMITED}
# RFC 6455's own codes for a frame that breaks the framing itself (wsproto closes with them, below the protocol).
FRAMING_CLOSE_CODES = {1002, 1007}
# Error codes that say the collector failed, whatever it was sent (1011 and 503 are for a backend that is down).
SERVER_FAILURES = {"internal_error", "unavailable"}


class BranchProcesses(ReplayProcesses):
    """The e2e fixture's processes, run as `python -m replay` so that they import this checkout."""

    def _spawn(self, name: str, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "replay", *args], env=self.env, start_new_session=True,
                                stdout=open(self.logs / f"{name}.log", "a"), stderr=subprocess.STDOUT, cwd=ROOT)


@pytest.fixture(scope="module")
def fuzz_server(redis_server, tmp_path_factory, process_logs):
    db = next(redis_server["db_counter"]) % REDIS_DATABASES
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPLAY_")}
    env.update({f"REPLAY_{name}": str(value) for name, value in LIMITS.items()})
    env.update({"PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
                "REPLAY_REDIS_URL": f"redis://{redis_server['host']}:{redis_server['port']}/{db}",
                "REPLAY_DATA_DIR": str(tmp_path_factory.mktemp("fuzz-data"))})
    redis = Redis.from_url(env["REPLAY_REDIS_URL"])
    redis.flushdb()
    accounts = Accounts(redis, RedisKeys(Settings.KEY_PREFIX))
    keys = {"key": accounts.create_project("fuzz", [ORIGIN]).key,
            "other_key": accounts.create_project("other", [OTHER_ORIGIN]).key, "token": accounts.create_token("fuzz")}
    accounts.create_user("fuzz@example.com", "correct horse battery")
    redis.close()
    procs = BranchProcesses(env, tmp_path_factory.mktemp("fuzz-logs"), process_logs)
    try:
        procs.start_worker()
        procs.start_web()
        yield {"procs": procs, "port": procs.port, "url": procs.url, "env": env, **keys}
    finally:
        procs.stop()


class Tally:
    """What the fuzz saw, from several threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.outcomes: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.messages: Counter[str] = Counter()
        self.problems: list[str] = []
        self.acked: dict[str, set[tuple[str, int]]] = {}

    def add(self, transport: str, outcome: str, errors: list[str], problems: list[str], acked, sent: int) -> None:
        with self.lock:
            self.outcomes[f"{transport} {outcome}"] += 1
            self.messages[transport] += sent
            self.errors.update(f"{transport} {e}" for e in errors)
            self.problems += problems
            for session, window, seq in acked:
                self.acked.setdefault(session, set()).add((window, seq))


def _effective(message: bytes | None) -> dict | None:
    """The message as the server read it (the last of duplicate keys wins, as in json.loads)."""
    try:
        value = json.loads(message.decode("utf-8"))
    except (AttributeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def run_ws(port: int, case: fc.WsCase, tally: Tally) -> None:
    name = f"ws case {case.index} {case.labels}"
    problems, answers, acked = [], [], []
    try:
        ws = RawWebSocket("127.0.0.1", port, case.path, case.headers, SOCKET_TIMEOUT_S)
    except (ConnectionError, TimeoutError, OSError, ValueError) as exc:
        tally.add("ws", "no answer", [], [f"{name}: handshake failed: {exc!r}"], [], 0)
        return
    sent, current = 0, None
    try:
        if not ws.open:
            status = ws.result.handshake_status
            if status >= 500:
                problems.append(f"{name}: handshake answered {status}")
            tally.add("ws", f"handshake {status}", [], problems, [], 0)
            return
        if any(n == "Sec-WebSocket-Extensions" for n, _ in case.headers) and not ws.deflate and \
                any(s.wire[0] & 0x40 for s in case.steps if s.wire):
            case.violation = True  # compressed frames on a socket that refused compression
        for step in case.steps:
            if ws.closed or not ws.send_raw(step.wire):
                break
            sent += 1
            if not step.reply:
                continue
            reply = ws.reply()
            if reply is None:
                break
            answer = _server_message(reply, name, problems)
            answers.append(answer)
            kind = answer.get("type")
            if kind == "ready":
                msg = _effective(step.message)
                current = (msg["session"], msg["window"]) if msg else None
            elif kind == "ack":
                if current is None:
                    problems.append(f"{name}: an ack, yet no hello of ours was answered")
                else:
                    acked.append((*current, answer["seq"]))
        our_code = None
        if not ws.closed and case.ending == "close":
            our_code = int.from_bytes(case.close[:2], "big")
            ws.send_raw(frame(OP_CLOSE, case.close))
        if case.ending != "abort":
            ws.drain()
        r = ws.result
        answers += [_server_message(m, name, problems) for m in r.messages[len(answers):]]
        errors = [str(a.get("code")) for a in answers if a.get("type") == "error"]
        problems += [f"{name}: the server failed: {e}" for e in errors if e in SERVER_FAILURES]
        if r.raw_http_after_upgrade is not None:
            problems.append(f"{name}: raw HTTP inside the upgraded socket: {r.raw_http_after_upgrade[:300]!r}")
        if r.bad_frame:
            problems.append(f"{name}: the server sent no websocket frame: {r.bad_frame}")
        if r.timed_out:
            problems.append(f"{name}: no answer within {SOCKET_TIMEOUT_S}s")
        allowed = PROTOCOL_CLOSE_CODES | ({our_code} if our_code else set()) | (
            FRAMING_CLOSE_CODES if case.violation else set())
        if r.close_code is not None and r.close_code not in allowed:
            problems.append(f"{name}: closed with {r.close_code} {r.close_reason[:120]!r}")
        if r.close_code is None and case.ending != "abort" and not r.timed_out:
            problems.append(f"{name}: the connection ended without a close frame")
        echo = our_code == r.close_code and not errors
        outcome = (f"close {r.close_code}{' (echo of ours)' if echo else ''}" if r.close_code is not None else
                   "dropped by the client" if case.ending == "abort" else "no close frame")
        tally.add("ws", outcome, errors, problems, acked, sent)
    finally:
        ws.shutdown()


def _server_message(reply: tuple[int, bytes], name: str, problems: list[str]) -> dict:
    opcode, payload = reply
    try:
        answer = strict_json(payload) if opcode == OP_TEXT else None
    except ValueError as exc:
        answer = None
        problems.append(f"{name}: a server message is not strict JSON ({exc}): {payload[:200]!r}")
    if not isinstance(answer, dict) or answer.get("type") not in ("ready", "ack", "error"):
        problems.append(f"{name}: unexpected server message {opcode} {payload[:200]!r}")
        return {}
    return answer


def run_http(port: int, case: fc.HttpCase, tally: Tally) -> None:
    name = f"http case {case.index} {case.labels}"
    problems, errors, acked = [], [], []
    try:
        answer = http_request("127.0.0.1", port, case.method, case.path, case.headers, case.body, SOCKET_TIMEOUT_S,
                              half_close=case.half_close)
    except (OSError, ValueError, Closed) as exc:
        tally.add("http", "no answer", [], [f"{name}: {exc!r}"], [], 1)
        return
    if answer.status >= 500:
        problems.append(f"{name}: answered {answer.status}: {answer.body[:300]!r}")
    if answer.headers.get("content-type", "").startswith("application/json") and case.method != "HEAD":
        try:
            body = strict_json(answer.body)
        except ValueError as exc:
            problems.append(f"{name}: the answer is not strict JSON ({exc}): {answer.body[:200]!r}")
            body = {}
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            errors.append(str(body["error"].get("code")))
            if errors[-1] in SERVER_FAILURES:
                problems.append(f"{name}: the server failed: {errors[-1]}")
        if answer.status == 200 and case.path == "/ingest/batch" and isinstance(body, dict) and body.get("ok"):
            msg = _effective(case.message)
            for b in msg["batches"]:
                acked.append((msg["session"], msg["window"], b["seq"]))
    tally.add("http", str(answer.status), errors, problems, acked, 1)


def _log_tail(path: Path, lines: int = 40) -> str:
    """The last lines of a server's log, for a failure's message (a worker killed, a timeout, a traceback)."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def bind_pools(port: int, target: fc.Target) -> None:
    """Each pool session's first hello, so that later hellos find it bound to its project and secret."""
    for (session, secret), key, origin in [*((s, target.key, ORIGIN) for s in target.pool),
                                           *((s, target.other_key, OTHER_ORIGIN) for s in target.other_pool)]:
        ws = RawWebSocket("127.0.0.1", port, "/ingest/ws", [("Origin", origin)], SOCKET_TIMEOUT_S)
        hello = {"type": "hello", "v": 1, "key": key, "session": session, "secret": secret, "window": "bind_window",
                 "url": origin + "/", "ua": "fuzz"}
        ws.send_raw(frame(OP_TEXT, json.dumps(hello).encode()))
        assert json.loads(ws.reply()[1])["type"] == "ready", (session, ws.result)
        ws.send_raw(frame(OP_CLOSE, close_payload(1000)))
        ws.drain()
        ws.shutdown()


def crowd(port: int) -> bool:
    """MAX_SOCKETS_PER_IP sockets and two more held open at once: are exactly the two refused (1013)?"""
    held = [RawWebSocket("127.0.0.1", port, "/ingest/ws", [("Origin", ORIGIN)], SOCKET_TIMEOUT_S)
            for _ in range(LIMITS["MAX_SOCKETS_PER_IP"] + 2)]
    for ws in held[-2:]:
        ws.drain()
    for ws in held[:-2]:
        ws.send_raw(frame(OP_CLOSE, close_payload(1000)))
        ws.drain()
    for ws in held:
        ws.shutdown()
    return [ws.result.close_code for ws in held] == [1000] * (len(held) - 2) + [wire.CLOSE_TRY_AGAIN] * 2


def fuzz(port: int, target: fc.Target, tally: Tally) -> None:
    """Cases by index, websocket and HTTP in turn, on THREADS threads until FUZZ_SECONDS or MAX_CASES."""
    deadline = time.monotonic() + FUZZ_SECONDS
    counter, lock = iter(range(MAX_CASES)), threading.Lock()

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                k = next(counter, None)
            if k is None:
                return
            if k % 2 == 0:
                run_ws(port, fc.ws_case(SEED, k // 2, target), tally)
            else:
                run_http(port, fc.http_case(SEED, k // 2, target), tally)

    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(worker) for _ in range(THREADS)]:
            future.result()


def record_valid_session(port: int, target: fc.Target) -> tuple[str, str, list[dict]]:
    """A session as the snippet records it: two batches over the socket, one more as a beacon."""
    rng = random.Random(f"{SEED}:valid")
    session, secret, window = fv.ident(rng, 21, 21), fv.ident(rng, 32, 32), fv.ident(rng, 21, 21)
    now = int(time.time() * 1000)
    events = [{"type": 4, "timestamp": now, "data": {"href": ORIGIN + "/cart", "width": 1280, "height": 720}},
              {"type": 2, "timestamp": now + 1, "data": {"node": {"type": 0, "childNodes": [], "id": 1},
                                                         "initialOffset": {"top": 0, "left": 0}}},
              fv.custom(wire.TAG_NETWORK, {"method": "POST", "url": ORIGIN + "/api/orders", "status": 502,
                                           "statusText": "Bad Gateway", "initiator": "fetch", "startTime": now + 5,
                                           "duration": 41.5, "failed": True, "error": None,
                                           "responseHeaders": {"server": "nginx/1.22.1"},
                                           "responseBody": "<center>nginx/1.22.1</center>"}, now + 50),
              fv.custom(wire.TAG_CONSOLE, {"level": "error", "args": ["Failed to load orders"], "trace": ""}, now + 60),
              fv.custom(wire.TAG_IDENTIFY, {"userId": "u-42", "traits": {"plan": "pro"}}, now + 70),
              fv.custom(wire.TAG_TRACK, {"name": "checkout", "props": {}}, now + 80)]
    ws = RawWebSocket("127.0.0.1", port, "/ingest/ws", [("Origin", ORIGIN)], SOCKET_TIMEOUT_S)
    hello = {"type": "hello", "v": 1, "key": target.key, "session": session, "window": window, "secret": secret,
             "url": ORIGIN + "/cart", "ua": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"}
    for message in (hello, {"type": "batch", "seq": 1, "events": events[:3]},
                    {"type": "batch", "seq": 2, "events": events[3:5]}):
        ws.send_raw(frame(OP_TEXT, json.dumps(message).encode()))
        assert json.loads(ws.reply()[1])["type"] in ("ready", "ack")
    ws.send_raw(frame(OP_CLOSE, close_payload(1000)))
    ws.drain()
    assert ws.result.close_code == 1000
    beacon = {k: v for k, v in hello.items() if k != "type"} | {"batches": [{"seq": 3, "events": events[5:]}]}
    answer = http_request("127.0.0.1", port, "POST", "/ingest/batch",
                          [("Origin", ORIGIN), ("Content-Type", "text/plain;charset=UTF-8")],
                          json.dumps(beacon).encode(), SOCKET_TIMEOUT_S)
    assert answer.status == 200 and json.loads(answer.body)["acked"] == 3, answer
    return session, window, events


def test_fuzz_ingest(fuzz_server):
    started = time.monotonic()
    print(f"\nfuzz seed {SEED} (REPLAY_FUZZ_SEED={SEED} replays it)")
    port = fuzz_server["port"]
    rng = random.Random(f"{SEED}:pool")
    target = fc.Target(key=fuzz_server["key"], origin=ORIGIN, other_key=fuzz_server["other_key"],
                       other_origin=OTHER_ORIGIN,
                       pool=[(fv.ident(rng, 12, 40), fv.ident(rng, 16, 64)) for _ in range(POOL)],
                       other_pool=[(fv.ident(rng, 12, 40), fv.ident(rng, 16, 64)) for _ in range(OTHER_POOL)],
                       max_message_bytes=LIMITS["MAX_MESSAGE_BYTES"],
                       max_inflated_bytes=LIMITS["MAX_INFLATED_BYTES"], now_ms=int(time.time() * 1000))
    bind_pools(port, target)
    poll(lambda: crowd(port), 10)
    tally = Tally()
    fuzz(port, target, tally)
    fuzz_s = time.monotonic() - started
    valid, window, events = record_valid_session(port, target)
    # Whatever ended the fuzz's sockets gave their place back: the per-address budget is whole again.
    poll(lambda: crowd(port), 10)
    cases = {t: sum(n for k, n in tally.outcomes.items() if k.startswith(t + " ")) for t in ("ws", "http")}
    print(f"{cases} cases, {dict(tally.messages)} messages in {fuzz_s:.1f}s; "
          f"{len(tally.acked)} sessions got acked batches")
    for line in sorted(tally.outcomes.items()):
        print(f"  {line[0]}: {line[1]}")
    print("  error codes:", dict(sorted(tally.errors.items())))
    assert not tally.problems, (f"seed {SEED}: {len(tally.problems)} problems:\n" + "\n".join(tally.problems[:25])
                                + "\nserve.log ends:\n" + _log_tail(fuzz_server["procs"].logs / "serve.log"))

    viewer = Viewer(fuzz_server["url"], fuzz_server["token"], "fuzz@example.com", "correct horse battery")
    acked = {**tally.acked, valid: {(window, 1), (window, 2), (window, 3)}}
    viewer.wait_flushed(acked, timeout_s=90)
    print(f"flushed after {time.monotonic() - started:.1f}s")
    stored = strict_json(viewer.api(f"/api/sessions/{valid}/events").content)
    assert [e["data"] for e in stored] == [e["data"] for e in events]
    detail = strict_json(viewer.api(f"/api/sessions/{valid}").content)
    assert [f["status"] for f in detail["network_failures"]] == [502] and detail["user"]["id"] == "u-42"
    problems = viewer.check_lists(set(acked))
    print(f"lists checked after {time.monotonic() - started:.1f}s")
    problems += viewer.check_sessions(sorted(acked), threads=THREADS)
    assert not problems, f"seed {SEED}: {len(problems)} pages broke:\n" + "\n".join(problems[:25])
    assert viewer.failed_jobs(fuzz_server["env"]["REPLAY_REDIS_URL"]) == 0
    procs = fuzz_server["procs"]
    assert procs.web.poll() is None and procs.worker.poll() is None, "a process died"
    for log in ("serve.log", "worker.log"):
        text = (procs.logs / log).read_text(errors="replace")
        assert "Traceback" not in text, f"seed {SEED}: {log}:\n{text[text.index('Traceback') - 2000:][:6000]}"
    # One gunicorn worker served the whole run: none crashed, none was killed for a timeout.
    assert (procs.logs / "serve.log").read_text(errors="replace").count("Booting worker") == 1
    print(f"checked {len(acked)} sessions' pages; whole test {time.monotonic() - started:.1f}s")
