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
# One pass over the text for the cheap checks: every digit becomes 0, every exponent mark e, every array's
# opening bracket an object's, and the signs go (so an exponent is "e" then its digits). The text's long
# numbers are then plain substrings and its brackets one count. Dropping characters only joins runs of
# digits, never splits one: a number the checks must see is never missed (a false alarm costs the slow path).
_SCAN = bytes.maketrans(b"123456789E[", b"000000000e{")
_SIGNS = b"+-"
_LONG_INT = b"0" * (MAX_INT_DIGITS + 1)
# A regex, as it finds its first character with memchr: `in` tries every digit (the needle's last character).
_HUGE_EXPONENT = re.compile(b"e000")
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
    try:
        if isinstance(data, str):
            # A text frame: the websocket library decoded it as strict UTF-8 already.
            text, data = data, data.encode("utf-8")
            text_is_data = True
        else:
            text_is_data = False
        if len(data) > settings.MAX_MESSAGE_BYTES:
            raise ProtocolError("too_large",
                                f"message is {len(data)} bytes; the limit is {settings.MAX_MESSAGE_BYTES}")
        if data[:2] == GZIP_MAGIC:
            data, text_is_data = _gunzip(data, settings.MAX_INFLATED_BYTES), False
        if not text_is_data:
            # Strict UTF-8 (json.loads would let surrogates encoded as bytes through).
            text = data.decode("utf-8")
        scan = data.translate(_SCAN, _SIGNS)
        # Per-number checks cost a Python call per number: only for text that may hold a number no float holds.
        decoder = _CHECKED if _LONG_INT in scan or _HUGE_EXPONENT.search(scan) else _PLAIN
        msg = decoder.decode(text)
    except (ValueError, UnicodeError) as exc:
        raise ProtocolError("invalid_message", f"not JSON: {exc}") from None
    except RecursionError:
        raise ProtocolError("invalid_message", "JSON nested too deeply") from None
    if not isinstance(msg, dict):
        raise ProtocolError("invalid_message", "a message is a JSON object")
    # Nested deeper than its brackets number it cannot be: most messages skip the walk.
    limit = settings.MAX_JSON_DEPTH
    if scan.count(b"{") > limit and _deeper_than(msg, limit):
        raise ProtocolError("invalid_message", f"JSON nested more than {limit} arrays and objects deep")
    if _SURROGATE_ESCAPE.search(text) and not _encodable(msg):
        # Paired surrogates are emoji; a lone one cannot be stored (UTF-8) nor shown.
        raise ProtocolError("invalid_message", "a string holds a lone UTF-16 surrogate (\\ud800-\\udfff)")
    return msg, data


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


# Built once: json.loads with any hook builds a decoder (and its scanner) per call.
_PLAIN = json.JSONDecoder(parse_constant=_reject_constant)
_CHECKED = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_bounded_int)


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


# What a JSON number decodes to, tested by exact type: a bool is an int to isinstance. Non-finite floats never
# get past decode().
_NUMBER_TYPES = frozenset((int, float))


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
    if type(seq) is not int or not 1 <= seq <= wire.MAX_SEQ:
        raise ProtocolError("invalid_envelope", f"'seq' must be a whole number from 1 to {wire.MAX_SEQ}")
    events = msg.get("events")
    if type(events) is not list:
        raise ProtocolError("invalid_envelope", "'events' must be a list")
    if len(events) > settings.MAX_EVENTS_PER_BATCH:
        raise ProtocolError("too_large", f"a batch holds at most {settings.MAX_EVENTS_PER_BATCH} events")
    for i, event in enumerate(events):
        if (type(event) is not dict or type(event.get("type")) is not int
                or type(event.get("timestamp")) not in _NUMBER_TYPES):
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
