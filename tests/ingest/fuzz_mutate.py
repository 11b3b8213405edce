"""Mutations for the ingest fuzz, at three levels: JSON values, JSON text, and the bytes' encoding.

- values: wrong types at any path, missing and extra fields, hostile numbers and strings, deep nesting,
  huge arrays, overlong strings (`mutate`);
- JSON text: raw tokens json.dumps never writes (NaN, 1e999, lone surrogates, invalid UTF-8), duplicate
  keys, truncation, trailing garbage, other top-level types (`render`);
- encoding: gzip, corrupt gzip, gzip bombs, zlib, double gzip (`encode`).
"""
from __future__ import annotations

import gzip
import json
import random
import zlib

from replay.core import wire
from tests.ingest import fuzz_values as fv

RAW = "@@RAW{}@@"


def _paths(value, prefix=(), depth=0, out=None):
    out = [] if out is None else out
    if depth > 7 or len(out) > 400:
        return out
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        out.append(prefix + (key,))
        _paths(child, prefix + (key,), depth + 1, out)
    return out


def _get(root, path):
    for key in path:
        root = root[key]
    return root


def mutate(rng: random.Random, msg: dict, raws: list[bytes], labels: list[str]) -> None:
    """One mutation at a random path of msg, in place; raw tokens go to `raws` behind placeholders."""
    paths = _paths(msg)
    top = [p for p in paths if len(p) == 1]
    pick = rng.random()
    pool = top if pick < 0.4 or len(paths) == len(top) else [p for p in paths if len(p) <= 4] if pick < 0.75 else paths
    path = rng.choice(pool) if pool else ()
    parent = _get(msg, path[:-1]) if path else msg
    key = path[-1] if path else None
    op = rng.choice(["value", "value", "number", "string", "url", "raw-number", "raw-string", "delete", "extra",
                     "extra", "wrap", "deep", "huge-array", "long-string", "unicode-key"])
    labels.append(f"{op}@{'.'.join(map(str, path)) or '<root>'}")
    if key is None or op == "extra":
        target = parent if isinstance(parent, dict) else msg
        for _ in range(rng.randint(1, 3)):
            target[rng.choice(fv.WEIRD_STRINGS + ["type", "v", "seq", "events", "batches", "extra", "__proto__"])] = \
                fv.weird_value(rng)
        return
    if op == "delete":
        del parent[key]
        return
    if op == "unicode-key" and isinstance(parent, dict):
        parent[rng.choice(fv.WEIRD_STRINGS)] = parent.pop(key)
        return
    if op in ("raw-number", "raw-string", "deep"):
        raws.append(rng.choice(fv.RAW_NUMBERS).encode() if op == "raw-number" else
                    rng.choice(fv.RAW_STRINGS) if op == "raw-string" else deep(rng))
        parent[key] = RAW.format(len(raws) - 1)
        return
    parent[key] = {
        "value": lambda: fv.weird_value(rng), "number": lambda: fv.weird_number(rng),
        "string": lambda: rng.choice(fv.WEIRD_STRINGS), "url": lambda: rng.choice(fv.WEIRD_URLS),
        "wrap": lambda: [parent[key]] if rng.random() < 0.5 else {"value": parent[key]},
        "huge-array": lambda: [0 if isinstance(parent[key], (dict, list)) else parent[key]] * rng.choice(
            [1000, 5001, 20000]),
        "long-string": lambda: rng.choice("aé😀\u0000") * rng.choice([wire.MAX_URL_CHARS, wire.MAX_URL_CHARS + 1,
                                                                    wire.MAX_UA_CHARS + 1, 70000]),
        "unicode-key": lambda: rng.choice(fv.WEIRD_STRINGS),
    }[op]()


# What makes a message invalid stays as it was: unicode_everywhere keeps its messages acceptable, to reach the pages.
KEPT = {"type", "v", "key", "session", "window", "secret", "tag", "seq", "level", "kind", "initiator"}
UNICODE = ["é", "用户", "😀", "👩‍👩‍👧‍👦", "\u202e", "\u200b", "\u2028", "\ufeff", "e\u0301", "\U0010ffff", "\ufffd", "\x7f",
           "<b>", "&amp;", "\"", "\\", "\r\nX-Injected: 1", "%0d%0a"]


def unicode_everywhere(rng: random.Random, value, depth: int = 0) -> None:
    """Unicode (and header and HTML injection) into every string of a message, in place."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in list(items):
        if isinstance(child, str) and key not in KEPT and rng.random() < 0.7:
            value[key] = child + rng.choice(UNICODE) if rng.random() < 0.7 else rng.choice(UNICODE) + child
        elif depth < 12:
            unicode_everywhere(rng, child, depth + 1)


def deep(rng: random.Random) -> bytes:
    """Arrays and objects nested from shallow to far past any parser's recursion limit."""
    depth = rng.choice([100, 300, 499, 500, 501, 600, 800, 900, 930, 940, 950, 960, 990, 1000, 3000, 100_000])
    if rng.random() < 0.5:
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def render(rng: random.Random, msg, raws: list[bytes], labels: list[str], mangle: float) -> bytes:
    """The message as JSON text (UTF-8), placeholders replaced by their raw tokens, sometimes mangled."""
    try:
        text = json.dumps(msg, ensure_ascii=rng.random() < 0.5, separators=(",", ":") if rng.random() < 0.7 else None)
    except RecursionError:
        text = json.dumps("too deep to render")  # the mutation nested past Python's own limit
        labels.append("unrenderable")
    data = text.encode("utf-8", "surrogatepass")
    for i, raw in enumerate(raws):
        data = data.replace(json.dumps(RAW.format(i)).encode(), raw)
    if rng.random() >= mangle:
        return data
    how = rng.choice(["truncate", "garbage", "bom", "dup-key", "dup-key", "top-level", "whitespace", "nul", "comment",
                      "trailing-comma"])
    labels.append(f"text:{how}")
    if how == "truncate":
        return data[:rng.randrange(len(data))] if data else data
    if how == "garbage":
        return data + rng.choice([b"}", b"]", b",", b" x", b"\x00", b"{}", b"\xff"])
    if how == "bom":
        return b"\xef\xbb\xbf" + data
    if how == "dup-key" and data.startswith(b"{") and isinstance(msg, dict) and msg:
        name = rng.choice(list(msg))
        twin = json.dumps({name: fv.weird_value(rng)})[1:-1].encode()
        # Before the first key or after the last: json.loads keeps the last one.
        return b"{" + twin + b"," + data[1:] if rng.random() < 0.5 else data[:-1] + b"," + twin + b"}"
    if how == "top-level":
        return rng.choice([b"[" + data + b"]", b"null", b"42", b'"hello"', b"[]", b"true", b""])
    if how == "whitespace":
        return b" \t\r\n" + data + b"\n\n"
    if how == "nul":
        return data + b"\x00"
    if how == "trailing-comma":
        return data[:-1] + b",}" if data.endswith(b"}") else data + b","
    return b"// comment\n" + data


def encode(rng: random.Random, data: bytes, labels: list[str], inflated_limit: int) -> tuple[bytes, bool]:
    """(bytes, binary?): plain JSON in a text frame or gzip in a binary one, often; else another encoding."""
    how = rng.choices(["text", "binary", "gzip", "corrupt-gzip", "bomb", "zlib", "gzip-gzip", "gzip-trailer",
                       "magic-only", "utf-16", "empty-member"], [55, 10, 20, 4, 3, 2, 2, 2, 2, 2, 1])[0]
    if how != "text":
        labels.append(f"enc:{how}")
    if how == "text":
        return data, False
    if how == "binary":
        return data, True
    if how == "gzip":
        return gzip.compress(data, mtime=0), True
    if how == "corrupt-gzip":
        packed = bytearray(gzip.compress(data, mtime=0))
        cut = rng.choice(["truncate", "flip", "crc"])
        if cut == "truncate":
            return bytes(packed[:rng.randint(2, max(2, len(packed) - 1))]), True
        if cut == "flip":
            i = rng.randrange(10, len(packed)) if len(packed) > 10 else 2
            packed[i] ^= 0xFF
        else:
            packed[-8] ^= 0xFF
        return bytes(packed), True
    if how == "bomb":
        return gzip.compress(b" " * (inflated_limit + rng.choice([1, 4096, inflated_limit * 3])), mtime=0), True
    if how == "zlib":
        return zlib.compress(data), True
    if how == "gzip-gzip":
        return gzip.compress(gzip.compress(data, mtime=0), mtime=0), True
    if how == "utf-16":
        return data.decode("utf-8", "replace").encode(rng.choice(["utf-16", "utf-16-be", "utf-32"])), True
    if how == "empty-member":
        return gzip.compress(b"", mtime=0) + gzip.compress(data, mtime=0), True
    if how == "gzip-trailer":
        return gzip.compress(data, mtime=0) + rng.choice([b"garbage", gzip.compress(b"{}", mtime=0)]), True
    return b"\x1f\x8b", True
