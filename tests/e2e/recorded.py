"""Sessions recorded through the Ingest service (as the collector's routes call it) and flushed by the real job,
for the running `replay serve` to show: times exact to the millisecond, which a browser cannot be asked for."""
from __future__ import annotations

import json
import time

from replay.core import settings as settings_mod
from replay.ingest.service import Connection, Ingest
from worker import context as worker_context, jobs

SECRET = "e2e_secret_0123456789"
WINDOW = "win_e2e_0123456789ab"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


def doc(title: str, text: str = "Nothing sent yet.") -> dict:
    """A full snapshot's document: <h1 id=6>title</h1><p id=8>text (node 9)</p>."""
    h1 = {"type": 2, "tagName": "h1", "attributes": {}, "childNodes": [{"type": 3, "textContent": title, "id": 7}],
          "id": 6}
    p = {"type": 2, "tagName": "p", "attributes": {"id": "result"},
         "childNodes": [{"type": 3, "textContent": text, "id": 9}], "id": 8}
    html = {"type": 2, "tagName": "html", "attributes": {}, "id": 3, "childNodes": [
        {"type": 2, "tagName": "head", "attributes": {}, "childNodes": [], "id": 4},
        {"type": 2, "tagName": "body", "attributes": {}, "childNodes": [h1, p], "id": 5}]}
    return {"type": 0, "id": 1, "childNodes": [{"type": 1, "name": "html", "publicId": "", "systemId": "", "id": 2},
                                               html]}


def page_load(t: int, url: str, title: str) -> list[dict]:
    return [{"type": 4, "timestamp": t, "data": {"href": url, "width": 1024, "height": 600}},
            {"type": 2, "timestamp": t + 1, "data": {"node": doc(title), "initialOffset": {"top": 0, "left": 0}}}]


def text_change(t: int, value: str) -> dict:
    """The page's result line (node 9) now reads `value`."""
    return {"type": 3, "timestamp": t, "data": {"source": 0, "texts": [{"id": 9, "value": value}], "attributes": [],
                                                "removes": [], "adds": []}}


def custom(t: int, tag: str, payload: dict) -> dict:
    return {"type": 5, "timestamp": t, "data": {"tag": tag, "payload": payload}}


def call(sent: int, duration: int, method: str, url: str, status: int, *, emitted: int | None = None, **extra) -> dict:
    """A fetch the snippet recorded: sent at `sent`, answered `duration` ms later (the event is emitted then)."""
    failed = status >= 400 or status == 0
    payload = {"method": method, "url": url, "status": status, "statusText": extra.pop("statusText", ""),
               "initiator": "fetch", "startTime": sent, "duration": duration, "failed": failed, **extra}
    return custom(emitted if emitted is not None else sent + duration, "replay.network", payload)


def console(t: int, level: str, *args: str) -> dict:
    return custom(t, "replay.console", {"level": level, "args": list(args)})


def record(replay_env: dict, origin: str, key: str, session: str, batches: list[list[dict]],
           url: str | None = None) -> str:
    """Each batch through Ingest as one socket's messages, then the flush job; returns the session id."""
    settings = settings_mod.load(environ=replay_env)
    ctx = worker_context.configure(settings)
    try:
        ingest = Ingest(settings, ctx.redis, ctx.keys, request_flush=lambda session_id, delay_ms: None)
        conn = Connection(origin=origin)
        ingest.receive(conn, json.dumps({"type": "hello", "v": 1, "key": key, "secret": SECRET, "session": session,
                                         "window": WINDOW, "url": url or origin + "/", "ua": UA}))
        for seq, events in enumerate(batches, start=1):
            ingest.receive(conn, json.dumps({"type": "batch", "seq": seq, "events": events}))
        jobs.flush_session(session)
    finally:
        worker_context.reset()
    return session


def now_ms() -> int:
    """A start time a minute ago: recent enough that ingest keeps the events' own times."""
    return int(time.time() * 1000) - 60_000
