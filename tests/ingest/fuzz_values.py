"""Building blocks of the ingest fuzz: realistic rrweb events as the snippet sends them, and hostile values.

Everything is drawn from a `random.Random` passed in, so a seed gives the same values every time.
"""
from __future__ import annotations

import random
import string

from replay.core import wire

ID_CHARS = string.ascii_letters + string.digits + "_-"
T_YEAR_0 = -62_167_219_200_000
T_YEAR_9999 = 253_402_300_799_999
T_YEAR_33658 = 1_000_000_000_000_000

# Raw JSON tokens for numbers no Python value turns into: spliced into the text where a placeholder stood.
RAW_NUMBERS = ["NaN", "-NaN", "Infinity", "-Infinity", "+Infinity", "inf", "nan", "1e999", "-1e999", "1E400",
               "1e-400", "-0", "-0.0", "0e0", "1" + "0" * 400, "-" + "9" * 400, "1" + "0" * 33, "9" * 32,
               "0x10", "01", "+1", ".5", "1.", "1e", "-", "1_000", "١٢٣", "2e308", "1.7976931348623157e308",
               "4.9e-324", "123456789012345678901234567890.5e-10"]
# Raw JSON string tokens (with their quotes) that json.dumps would never write.
RAW_STRINGS = [b'"\\ud800"', b'"\\udfff"', b'"a\\udc00b"', b'"\\uD83D"', b'"\\ud83d\\ude00"', b'"\\ude00\\ud83d"',
               b'"\xed\xa0\x80"', b'"\xed\xb2\x80"', b'"\xf0\x9f\x98\x80"', b'"\xff"', b'"\xc0\xaf"', b'"\xe0\x80\xaf"',
               b'"\xf4\x90\x80\x80"', b'"\x80"', b'"a\x00b"', b'"tab\there"', b'"\\u0000"', b'"\\x41"', b'"\\q"',
               b'"\\u12"', b"'single'", b'"unterminated', b'"\xef\xbb\xbfbom"']

WEIRD_STRINGS = [
    "", " ", "\u0000", "\u0000\u0001\u001f", "\t\n\r", "\r\nSet-Cookie: replay=1", "\r\n\r\n<html>", "%0d%0aX-Injected: 1",
    "Mozilla/5.0\r\nX-Forwarded-For: 127.0.0.1", "</script><script>alert(1)</script>", "<!--", "]]>", "{{7*7}}",
    "{% raw %}", "${jndi:ldap://x}", "' OR 1=1 --", "\u2028\u2029", "\ufeff", "\u202e\u202dRTL", "زائر", "用户",
    "ユーザー", "Ωμέγα", "𝕳𝖊𝖑𝖑𝖔", "😀👩‍👩‍👧‍👦", "\U0010ffff", "\ufffd", "e\u0301\u0301\u0301", "Z̸̡̢̛͎͉a̶l̵g̷o̴",
    "a" * 5000, "€" * 3000, "😀" * 1500, "\\", "\"", "\\u0000", "null", "true", "0", "NaN", "[object Object]",
    "__proto__", "constructor", "../../../etc/passwd", "C:\\Windows\\", "%s%s%s%n", "%(x)s", "{0}", "\x7f",
]
WEIRD_URLS = [
    "http://[", "http://[::1", "http://[::1]:80/", "http://[::1]:abc/", "http://a:b", "http://fuzz.example:abc/x",
    "http://fuzz.example:99999/x", "http://fuzz.example:-1/", "http://fuzz.example:0/", "https://fuzz.example:443/",
    "http://a,b", "http://fuzz.example,http://b/", "javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
    "//evil.example/x", "/relative/path?q=1", "relative", "?", "#", "http://", "http:///x", "http://user:pass@host/",
    "http://ex ample/", "http://例え.jp/パス", "http://xn--r8jz45g.jp/", "HTTP://FUZZ.EXAMPLE/API", "ws://x/", "file:///etc/passwd",
    "http://fuzz.example/api/orders/123?token=abc#frag", "http://fuzz.example/" + "a/" * 600,
    "http://fuzz.example/\r\nX: y", "http://fuzz.example/%00%ff", "http://fuzz.example/\u0000", "http://\u2028/",
    "http://fuzz.example/" + "é" * 3000, "https://fuzz.example:8443/deep/" + "/".join(str(i) for i in range(200)),
    "http://[fe80::1%25eth0]/", "http://1.2.3.4:65536/", "http://0x7f.1/", "mailto:a@b", "http:\\\\evil\\x",
]


def ident(rng: random.Random, lo: int = 8, hi: int = 40) -> str:
    return "".join(rng.choice(ID_CHARS) for _ in range(rng.randint(lo, hi)))


def weird_number(rng: random.Random):
    return rng.choice([0, -0.0, -1, 1, 1.5, -1.5, 1e308, -1e308, 5e-324, 2 ** 53 + 1, -(2 ** 53 + 1), 2 ** 31,
                       2 ** 31 - 1, 2 ** 32, 2 ** 40, 2 ** 63, 2 ** 64, -(2 ** 63), 10 ** 20, 10 ** 31,
                       wire.MAX_SEQ, wire.MAX_SEQ + 1, T_YEAR_0, T_YEAR_9999, T_YEAR_33658, -T_YEAR_33658,
                       1e15 + 0.5, 0.1 + 0.2, 999, 1000, 65535, 65536])


def weird_value(rng: random.Random, depth: int = 0):
    """A value of any JSON type, often a hostile one."""
    kind = rng.randrange(12 if depth < 3 else 8)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind in (2, 3):
        return weird_number(rng)
    if kind in (4, 5):
        return rng.choice(WEIRD_STRINGS)
    if kind == 6:
        return rng.choice(WEIRD_URLS)
    if kind == 7:
        return ident(rng, 0, 70)
    if kind == 8:
        return [weird_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if kind == 9:
        return {rng.choice(WEIRD_STRINGS + ["type", "timestamp", "data", "tag", "payload", "seq"]): weird_value(rng, depth + 1)
                for _ in range(rng.randint(0, 4))}
    if kind == 10:
        return nested(rng, rng.choice([3, 50, 200, 400]))
    return [0] * rng.choice([100, 1000, 5000])


def nested(rng: random.Random, depth: int, leaf=0):
    value = leaf
    for _ in range(depth):
        value = [value] if rng.random() < 0.5 else {"a": value}
    return value


def text(rng: random.Random, realistic: list[str]) -> str:
    return rng.choice(realistic) if rng.random() < 0.8 else rng.choice(WEIRD_STRINGS)


def url(rng: random.Random, origin: str) -> str:
    if rng.random() < 0.25:
        return rng.choice(WEIRD_URLS)
    path = rng.choice(["/", "/cart", "/api/orders", "/api/orders/" + str(rng.randint(1, 99999)), "/checkout",
                       "/api/users/" + ident(rng, 24, 24), "/search?q=" + rng.choice(["shoes", "été", "%20"])])
    return origin + path


# Realistic events, as js-snippet/src sends them (docs/protocol.md).

def dom(rng: random.Random, depth: int, next_id: list[int]) -> dict:
    next_id[0] += 1
    if depth == 0 or rng.random() < 0.2:
        return {"type": 3, "textContent": text(rng, ["Add to cart", "Total: 42 €", "", "Order #1"]), "id": next_id[0]}
    return {"type": 2, "tagName": rng.choice(["div", "span", "button", "input", "ul", "li"]),
            "attributes": {"class": text(rng, ["btn", "row col", ""]), "data-x": text(rng, ["1", "y"])},
            "childNodes": [dom(rng, depth - 1, next_id) for _ in range(rng.randint(0, 3))], "id": next_id[0]}


def network_payload(rng: random.Random, origin: str, t: int) -> dict:
    status = rng.choice([200, 200, 204, 301, 404, 500, 502, 502, 503, 504, 0, 429])
    failed = status >= 400 or status == 0
    p = {"method": rng.choice(["GET", "POST", "PUT", "DELETE", "get", "PATCH"]), "url": url(rng, origin), "status": status,
         "statusText": "Bad Gateway" if status == 502 else "", "initiator": rng.choice(["fetch", "xhr"]),
         "startTime": t - rng.randint(0, 5000), "duration": rng.choice([0, 1.5, 41.5, 999.9, 30000, 60012.3]),
         "failed": failed, "error": rng.choice(["network", "abort", "timeout"]) if status == 0 else None}
    if failed:
        p["requestHeaders"] = {"content-type": "application/json", "x-replay-session": ident(rng, 21, 21)}
        p["responseHeaders"] = rng.choice([{"server": "nginx/1.22.1", "content-type": "text/html"},
                                           {"server": "cloudflare", "cf-ray": "8a1b2c3d4e5f-AMS"},
                                           {"content-type": "application/json", "x-request-id": ident(rng)}, {}])
        p["responseBody"] = rng.choice(["<html><center>nginx/1.22.1</center>502 Bad Gateway</html>",
                                        '{"error":"upstream down"}', "", "error code: 502", "[binary 1024 bytes]",
                                        '{"a":' * 40 + "1" + "}" * 40])
        p["responseBodyTruncated"] = False
        p["responseSize"] = rng.randint(0, 100000)
    return p


def custom(tag: str, payload, t: int) -> dict:
    return {"type": 5, "timestamp": t, "data": {"tag": tag, "payload": payload}}


def event(rng: random.Random, origin: str, t: int) -> dict:
    kind = rng.randrange(13)
    if kind == 0:
        return {"type": 4, "timestamp": t, "data": {"href": url(rng, origin), "width": 1280, "height": 720}}
    if kind == 1:
        return {"type": 2, "timestamp": t, "data": {"node": {"type": 0, "childNodes": [dom(rng, 5, [0])], "id": 0},
                                                    "initialOffset": {"top": 0, "left": 0}}}
    if kind == 2:
        return {"type": 3, "timestamp": t, "data": {"source": 1, "positions": [
            {"x": rng.randint(0, 1920), "y": rng.randint(0, 1080), "id": rng.randint(1, 500), "timeOffset": -i * 16}
            for i in range(rng.randint(1, 10))]}}
    if kind == 3:
        return {"type": 3, "timestamp": t, "data": {"source": 0, "texts": [], "attributes": [], "removes": [],
                                                    "adds": [{"parentId": 1, "nextId": None, "node": dom(rng, 3, [100])}]}}
    if kind == 4:
        return {"type": 3, "timestamp": t, "data": {"source": 5, "text": "********", "isChecked": False, "id": 42}}
    if kind == 5:
        return {"type": 3, "timestamp": t, "data": {"source": 3, "id": 1, "x": 0, "y": rng.randint(0, 9000)}}
    if kind in (6, 7):
        return custom(wire.TAG_NETWORK, network_payload(rng, origin, t), t)
    if kind == 8:
        return custom(wire.TAG_CONSOLE, {"level": rng.choice(["log", "info", "warn", "error", "debug"]),
                                         "args": [text(rng, ["Failed to load orders", '{"id":1}', "[Circular]"])
                                                  for _ in range(rng.randint(0, 3))],
                                         "trace": "at load (app.js:3:14)"}, t)
    if kind == 9:
        return custom(wire.TAG_ERROR, {"kind": rng.choice(["error", "unhandledrejection"]),
                                       "message": text(rng, ["TypeError: x is undefined"]), "source": url(rng, origin),
                                       "line": rng.randint(1, 5000), "column": rng.randint(1, 200),
                                       "stack": "TypeError\n    at app.js:12:5"}, t)
    if kind == 10:
        return custom(wire.TAG_IDENTIFY, {"userId": text(rng, ["u-42", "alice@example.com", "1234"]),
                                          "traits": {"plan": text(rng, ["pro", "free"]), "seats": rng.randint(1, 50)}}, t)
    if kind == 11:
        return custom(wire.TAG_TRACK, {"name": text(rng, ["checkout", "signup"]), "props": {"total": 42.5}}, t)
    return custom(wire.TAG_DROPPED, {"events": rng.randint(1, 500), "bytes": rng.randint(1, 5_000_000)}, t)


def events(rng: random.Random, origin: str, now_ms: int, n: int | None = None) -> list[dict]:
    count = n if n is not None else rng.choice([0, 1, 1, 2, 3, 5, 8, 20])
    t = now_ms - rng.randint(0, 60_000)
    out = []
    for _ in range(count):
        t += rng.randint(0, 500)
        out.append(event(rng, origin, t))
    return out
