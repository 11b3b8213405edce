"""rrweb events shaped as the snippet sends them (docs/protocol.md)."""
from __future__ import annotations

SITE = "https://shop.example"
T0 = 1_732_250_000_000


def custom(tag: str, payload: dict, t: int) -> dict:
    return {"type": 5, "timestamp": t, "data": {"tag": tag, "payload": payload}}


def meta(url: str, t: int) -> dict:
    return {"type": 4, "timestamp": t, "data": {"href": url, "width": 1280, "height": 720}}


def snapshot(t: int) -> dict:
    return {"type": 2, "timestamp": t,
            "data": {"node": {"type": 0, "childNodes": [], "id": 1}, "initialOffset": {"top": 0, "left": 0}}}


def masked_password_input(t: int) -> dict:
    """An rrweb Input incremental event (source 5) as the snippet sends a password field: masked."""
    return {"type": 3, "timestamp": t, "data": {"source": 5, "text": "********", "isChecked": False, "id": 42}}


def network(status: int, url: str, t: int, **extra) -> dict:
    failed = status >= 400 or status == 0
    payload = {"method": "GET", "url": url, "status": status, "statusText": "Bad Gateway" if status == 502 else "",
               "initiator": "fetch", "startTime": t, "duration": 41.5, "failed": failed,
               "error": "network" if status == 0 else None, **extra}
    return custom("replay.network", payload, t)


def failed_502(url: str, t: int) -> dict:
    return network(502, url, t, method="POST",
                   requestHeaders={"content-type": "application/json", "authorization": "Bearer leak"},
                   responseHeaders={"server": "nginx/1.22.1", "content-type": "text/html", "set-cookie": "a=b"},
                   responseBody="<html><h1>502 Bad Gateway</h1></html>", responseBodyTruncated=False,
                   responseSize=157)


def console(level: str, t: int, *args: str) -> dict:
    return custom("replay.console", {"level": level, "args": list(args), "trace": "at load (app.js:3)"}, t)


def exception(message: str, t: int) -> dict:
    return custom("replay.error", {"kind": "error", "message": message, "source": SITE + "/app.js",
                                   "line": 12, "column": 5, "stack": "TypeError\n at app.js:12:5"}, t)


def identify(user: str, t: int, **traits) -> dict:
    return custom("replay.identify", {"userId": user, "traits": traits}, t)


def checkout_session() -> dict[str, list[tuple[int, list[dict]]]]:
    """Two windows: batches {window: [(seq, events)]} with a 502, a network error, console and exception."""
    return {
        "win_aaaaaaaaaaaa": [
            (1, [meta(SITE + "/cart", T0), snapshot(T0 + 1), masked_password_input(T0 + 50),
                 identify("u-42", T0 + 60, plan="pro")]),
            (2, [network(200, SITE + "/api/cart", T0 + 100), failed_502(SITE + "/api/orders?x=1", T0 + 200),
                 console("error", T0 + 210, "Failed to load orders", '{"id":1}'), console("log", T0 + 220, "hi")]),
            (3, [exception("TypeError: x is undefined", T0 + 300),
                 # Malformed input a browser could send: none of it may break a flush.
                 {"type": 5, "timestamp": T0 + 301, "data": {"tag": "replay.network", "payload": "nope"}},
                 {"type": 5, "data": None}, "not an event", {"type": 4, "timestamp": "soon", "data": {"href": 7}}]),
        ],
        "win_bbbbbbbbbbbb": [
            (1, [meta(SITE + "/help", T0 + 500), network(0, SITE + "/api/chat?token=1", T0 + 600)]),
        ],
    }


def append_all(buffer, session: str, batches: dict, received_ms: int = T0 + 1000) -> int:
    """Append every batch through the real buffer; returns how many events went in."""
    total = 0
    for window, items in batches.items():
        for seq, events in items:
            buffer.append(session, window, seq, events, received_ms, SITE + "/cart")
            total += len(events)
    return total
