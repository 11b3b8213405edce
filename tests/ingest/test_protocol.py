"""Envelope validation: every bad input is a clear ProtocolError with the right status and close code."""
import gzip
import json
from dataclasses import replace

import pytest

from replay.core import settings as settings_mod
from replay.ingest.protocol import ProtocolError, decode, parse_batch, parse_hello, parse_http_batches

S = settings_mod.load({"MAX_MESSAGE_BYTES": 2000, "MAX_INFLATED_BYTES": 5000, "MAX_EVENTS_PER_BATCH": 3}, environ={})
HELLO = {"type": "hello", "v": 1, "key": "pk_abcdefgh", "secret": "secret_0123456789abcdef", "session": "s" * 21, "window": "w" * 21,
         "url": "https://shop.example/cart", "ua": "Mozilla/5.0"}
EVENT = {"type": 3, "timestamp": 1732250000000, "data": {}}


def code_of(fn, *args):
    with pytest.raises(ProtocolError) as info:
        fn(*args)
    return info.value


def test_json_and_gzip_decode_to_the_same_message():
    assert decode(json.dumps(HELLO), S) == HELLO
    assert decode(gzip.compress(json.dumps(HELLO).encode()), S) == HELLO


@pytest.mark.parametrize("raw", [b"not json", b"[1,2]", b"\x1f\x8b garbage", "\"a string\""])
def test_garbage_is_invalid_message(raw):
    err = code_of(decode, raw, S)
    assert err.code == "invalid_message" and err.http_status == 400 and err.close_code == 4400


def test_deep_nesting_and_non_numbers_are_invalid_not_a_crash():
    deep = "[" * 5000 + "]" * 5000
    roomy = replace(S, MAX_MESSAGE_BYTES=100_000)
    assert code_of(decode, '{"a": ' + deep + "}", roomy).code == "invalid_message"
    for constant in ("NaN", "Infinity", "-Infinity"):
        assert code_of(decode, '{"timestamp": ' + constant + "}", S).code == "invalid_message"


def test_an_id_with_a_trailing_newline_is_refused():
    err = code_of(parse_hello, {**HELLO, "session": "s" * 21 + "\n"}, S)
    assert err.code == "invalid_envelope" and "session" in err.message


def test_oversized_and_gzip_bombs_are_too_large():
    err = code_of(decode, b"x" * 2001, S)
    assert (err.code, err.http_status, err.close_code) == ("too_large", 413, 1009)
    bomb = gzip.compress(json.dumps({"pad": "a" * 100_000}).encode())
    assert len(bomb) < 2000
    assert code_of(decode, bomb, S).code == "too_large"


def test_hello_fields_are_checked():
    assert parse_hello(HELLO, S).session == "s" * 21
    assert code_of(parse_hello, {**HELLO, "v": 99}, S).close_code == 4426
    for field, value in [("key", None), ("session", "short"), ("window", "has spaces in it"), ("session", 12345678),
                         ("url", "u" * 5000)]:
        err = code_of(parse_hello, {**HELLO, field: value}, S)
        assert err.code == "invalid_envelope" and field in err.message


def test_release_and_environment_are_optional_strings_of_at_most_100_characters():
    assert (parse_hello(HELLO, S).release, parse_hello(HELLO, S).environment) == ("", "")
    named = parse_hello({**HELLO, "release": "2024.11.3+abc", "environment": "production"}, S)
    assert (named.release, named.environment) == ("2024.11.3+abc", "production")
    assert parse_hello({**HELLO, "release": "r" * 100}, S).release == "r" * 100
    for field, value in [("release", "r" * 101), ("environment", "e" * 101), ("release", 42), ("environment", ["prod"])]:
        err = code_of(parse_hello, {**HELLO, field: value}, S)
        assert err.code == "invalid_envelope" and field in err.message


def test_batch_fields_are_checked():
    assert parse_batch({"seq": 3, "events": [EVENT]}, S).seq == 3
    for bad in [{"seq": 0, "events": []}, {"seq": "1", "events": []}, {"seq": True, "events": []},
                {"seq": 1, "events": {}}, {"seq": 1, "events": [{"type": "x", "timestamp": 1}]},
                {"seq": 1, "events": [{"type": 3}]}]:
        assert code_of(parse_batch, bad, S).code == "invalid_envelope", bad
    assert code_of(parse_batch, {"seq": 1, "events": [EVENT] * 4}, S).code == "too_large"


def test_http_envelope_needs_batches():
    assert [b.seq for b in parse_http_batches({"batches": [{"seq": 1, "events": []}, {"seq": 2, "events": []}]}, S)] == [1, 2]
    assert code_of(parse_http_batches, {"batches": []}, S).code == "invalid_envelope"
    assert code_of(parse_http_batches, {"batches": ["x"]}, S).code == "invalid_envelope"


def test_nesting_past_max_json_depth_is_invalid():
    # 940 levels were acked (ingest parses with stack to spare) and then no export could re-read them.
    roomy = replace(S, MAX_MESSAGE_BYTES=100_000, MAX_JSON_DEPTH=800)
    for inner in ("[" * 799 + "]" * 799, '{"a":' * 799 + "1" + "}" * 799):
        assert decode('{"a": ' + inner + "}", roomy)["a"]  # 800 levels, the message itself the first
    for inner in ("[" * 800 + "]" * 800, "[" * 940 + "]" * 940, '{"a":' * 800 + "1" + "}" * 800):
        err = code_of(decode, '{"a": ' + inner + "}", roomy)
        assert err.code == "invalid_message" and "nested" in err.message and err.close_code == 4400
    # Brackets inside strings are no nesting.
    assert decode(json.dumps({"a": "[" * 2000}), roomy)["a"] == "[" * 2000
