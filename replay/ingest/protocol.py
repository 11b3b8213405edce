"""Decoding and validation of ingestion messages (docs/protocol.md).

Everything a browser sends passes through here before anything is stored;
bad input becomes a ProtocolError carrying both its HTTP status and its
websocket close code.
"""
from __future__ import annotations

import gzip
import json
import math
import re
import zlib
from dataclasses import dataclass

from replay.core import wire
from replay.core.settings import Settings
from replay.core.keys import ID_PATTERN

GZIP_MAGIC = b"\x1f\x8b"
# A browser's JSON.stringify writes no integer this long (1e21 and up come out as "1e+21").
MAX_INT_DIGITS = 32
# Every digit as 0, every exponent mark as e+: the text's long numbers become plain substrings.
_DIGITS = bytes.maketrans(b"123456789E-", b"000000000e+")
# An escaped UTF-16 surrogate: a message holding one gets the thorough (slower) check for lone ones.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
SECRET = re.compile(r"\A" + wire.SECRET_PATTERN.removeprefix("^").removesuffix("$") + r"\Z")


class ProtocolError(Exception):
    """A refused message: `code` and `message` go back to the client."""

    HTTP = {"too_large": 413, "unsupported_version": 426, "rate_limited": 429,
            "unknown_project": 403, "origin_not_allowed": 403, "project_disabled": 403, "session_conflict": 403,
            "storage_full": 507}
    CLOSE = {"too_large": wire.CLOSE_TOO_LARGE, "unsupported_version": wire.CLOSE_UNSUPPORTED_VERSION,
             "rate_limited": wire.CLOSE_RATE_LIMITED, "unknown_project": wire.CLOSE_FORBIDDEN,
             "origin_not_allowed": wire.CLOSE_FORBIDDEN, "project_disabled": wire.CLOSE_FORBIDDEN,
             "session_conflict": wire.CLOSE_FORBIDDEN, "storage_full": wire.CLOSE_STORAGE_FULL}

    # Raised after the key and origin were accepted: the page may read the answer (CORS).
    admitted = False

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        return self.HTTP.get(self.code, 400)

    @property
    def close_code(self) -> int:
        return self.CLOSE.get(self.code, wire.CLOSE_INVALID)

    def as_message(self) -> dict:
        return {"type": "error", "code": self.code, "message": self.message}


@dataclass(frozen=True)
class Hello:
    key: str
    session: str
    window: str
    url: str
    ua: str
    # Bound to the session by its first hello; only the recording browser holds it.
    secret: str
    # The site's own names for what ran: optional, "" when not given.
    release: str = ""
    environment: str = ""


@dataclass(frozen=True)
class Batch:
    seq: int
    events: list


def decode(data: bytes | str, settings: Settings) -> dict:
    """JSON, or gzip of JSON, into a dict; sizes capped before and after inflating."""
    return decode_message(data, settings)[0]


def decode_message(data: bytes | str, settings: Settings) -> tuple[dict, bytes]:
    """The message and its JSON text as UTF-8 bytes (inflated), which may be stored as it came."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > settings.MAX_MESSAGE_BYTES:
        raise ProtocolError("too_large", f"message is {len(data)} bytes; the limit is {settings.MAX_MESSAGE_BYTES}")
    if data[:2] == GZIP_MAGIC:
        data = _gunzip(data, settings.MAX_INFLATED_BYTES)
    try:
        # Strict UTF-8 (json.loads would let surrogates encoded as bytes through).
        text = data.decode("utf-8")
        if _may_hold_huge_number(data):
            # Per-number checks cost a Python call per number: only for text that may hold a number no float holds.
            msg = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_bounded_int)
        else:
            msg = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError("invalid_message", f"not JSON: {exc}") from None
    except RecursionError:
        raise ProtocolError("invalid_message", "JSON nested too deeply") from None
    if not isinstance(msg, dict):
        raise ProtocolError("invalid_message", "a message is a JSON object")
    # Nested deeper than its brackets number it cannot be: most messages skip the walk.
    limit = settings.MAX_JSON_DEPTH
    if text.count("[") + text.count("{") > limit and _deeper_than(msg, limit):
        raise ProtocolError("invalid_message", f"JSON nested more than {limit} arrays and objects deep")
    if _SURROGATE_ESCAPE.search(text) and not _encodable(msg):
        # Paired surrogates are emoji; a lone one cannot be stored (UTF-8) nor shown.
        raise ProtocolError("invalid_message", "a string holds a lone UTF-16 surrogate (\\ud800-\\udfff)")
    return msg, data


def _may_hold_huge_number(data: bytes) -> bool:
    """A run of 33 digits or an exponent of 3+ digits (a regex costs more than the JSON parse itself)."""
    digits = data.translate(_DIGITS)
    return b"0" * (MAX_INT_DIGITS + 1) in digits or b"e000" in digits or b"e+000" in digits


# NaN, Infinity, 1e999 and integers no float can hold are not numbers a browser can read back:
# stored, they would make a recording unreadable (JSON.parse refuses Infinity).
def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is not a finite number")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(text)} digits is too large")
    return int(text)


def _deeper_than(value, limit: int) -> bool:
    """Does `value` hold arrays and objects nested more than `limit` deep? Level by level, without recursion."""
    level = [value]
    for _ in range(limit):
        level = [child for v in level for child in (v.values() if isinstance(v, dict) else v)
                 if isinstance(child, (dict, list))]
        if not level:
            return False
    return True


def _encodable(msg: dict) -> bool:
    try:
        json.dumps(msg, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _gunzip(data: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise ProtocolError("invalid_message", f"bad gzip data: {exc}") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise ProtocolError("too_large", f"message inflates to over {limit} bytes")
    return out


def _string(msg: dict, name: str, limit: int, required: bool = True) -> str:
    value = msg.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise ProtocolError("invalid_envelope", f"'{name}' must be a non-empty string")
    if len(value) > limit:
        raise ProtocolError("invalid_envelope", f"'{name}' is longer than {limit} characters")
    return value


def _id(msg: dict, name: str) -> str:
    value = msg.get(name)
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise ProtocolError("invalid_envelope", f"'{name}' must match {ID_PATTERN.pattern}")
    return value


def _secret(msg: dict) -> str:
    value = msg.get("secret")
    if not isinstance(value, str) or not SECRET.match(value):
        raise ProtocolError("invalid_envelope", f"'secret' must match {wire.SECRET_PATTERN}")
    return value


def _number(value) -> bool:
    # bool is an int to Python; non-finite floats never get past decode().
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_hello(msg: dict, settings: Settings) -> Hello:
    """The fields shared by a websocket hello and an HTTP batch envelope."""
    version = msg.get("v")
    if version != wire.PROTOCOL_VERSION:
        raise ProtocolError("unsupported_version", f"protocol version {version!r} is not supported; use {wire.PROTOCOL_VERSION}")
    return Hello(
        key=_id(msg, "key"),
        session=_id(msg, "session"),
        window=_id(msg, "window"),
        url=_string(msg, "url", settings.MAX_URL_CHARS, required=False),
        ua=_string(msg, "ua", settings.MAX_UA_CHARS, required=False),
        secret=_secret(msg),
        release=_string(msg, "release", wire.MAX_RELEASE_CHARS, required=False),
        environment=_string(msg, "environment", wire.MAX_RELEASE_CHARS, required=False),
    )


def parse_heartbeat(msg: dict) -> str:
    """The project key of a heartbeat, {"v": 1, "key": "…"} (docs/protocol.md, "Heartbeat")."""
    version = msg.get("v")
    if version != wire.PROTOCOL_VERSION:
        raise ProtocolError("unsupported_version", f"protocol version {version!r} is not supported; use {wire.PROTOCOL_VERSION}")
    return _id(msg, "key")


def parse_batch(msg: dict, settings: Settings) -> Batch:
    seq = msg.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= wire.MAX_SEQ:
        raise ProtocolError("invalid_envelope", f"'seq' must be a whole number from 1 to {wire.MAX_SEQ}")
    events = msg.get("events")
    if not isinstance(events, list):
        raise ProtocolError("invalid_envelope", "'events' must be a list")
    if len(events) > settings.MAX_EVENTS_PER_BATCH:
        raise ProtocolError("too_large", f"a batch holds at most {settings.MAX_EVENTS_PER_BATCH} events")
    for i, event in enumerate(events):
        if not (isinstance(event, dict) and _number(event.get("type")) and isinstance(event["type"], int)
                and _number(event.get("timestamp"))):
            raise ProtocolError("invalid_envelope", f"event {i} is not an rrweb event (type and timestamp)")
    return Batch(seq=seq, events=events)


def parse_http_batches(msg: dict, settings: Settings) -> list[Batch]:
    batches = msg.get("batches")
    if not isinstance(batches, list) or not batches:
        raise ProtocolError("invalid_envelope", "'batches' must be a non-empty list")
    if len(batches) > settings.MAX_BATCHES_PER_REQUEST:
        raise ProtocolError("too_large", f"a request holds at most {settings.MAX_BATCHES_PER_REQUEST} batches")
    out = []
    for b in batches:
        if not isinstance(b, dict):
            raise ProtocolError("invalid_envelope", "each batch is an object with 'seq' and 'events'")
        out.append(parse_batch(b, settings))
    return out


def encode_gzip_json(obj) -> bytes:
    """For clients and tests that speak the binary form."""
    return gzip.compress(json.dumps(obj).encode("utf-8"))
