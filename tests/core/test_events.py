"""Extraction from rrweb events never trusts its input."""
from __future__ import annotations

import pytest

from tests import samples
from replay.core import events as ev

MALFORMED = [None, "x", 5, [], {}, {"type": 5}, {"type": 5, "data": []}, {"type": 5, "data": {"tag": 7}},
             {"type": 5, "data": {"tag": "replay.network", "payload": None}},
             {"type": 5, "data": {"tag": "replay.network", "payload": {"url": 5}}},
             {"type": "5", "data": {"tag": "replay.error", "payload": {}}},
             {"type": 4, "data": {"href": None}}, {"type": 4, "data": "x"}]


@pytest.mark.parametrize("event", MALFORMED)
def test_malformed_events_give_nothing(event):
    assert ev.network_call(event, 100) is None
    assert ev.console_error(event) is None and ev.identify(event) is None and ev.page_url(event) is None
    assert ev.timestamp(event) is None  # none of them carries a usable timestamp


@pytest.mark.parametrize("value", [float("nan"), float("inf"), True, "1", -5, None])
def test_bad_timestamps(value):
    assert ev.timestamp({"type": 4, "timestamp": value}) is None


def test_wrong_types_inside_a_network_call_are_dropped():
    event = samples.custom("replay.network", {
        "url": "https://a/x", "status": "503", "failed": True, "startTime": 1000, "duration": "slow",
        "responseHeaders": [1], "responseBody": "y" * 50,
        "requestHeaders": {"ok": "1", "x-api-key": "k", "x-auth-token": "t", 5: "n", "x": 5, "x-replay-session": "s1"},
    }, 1000)
    call = ev.network_call(event, 10)
    assert call["status"] == 0 and call["failed"] is True  # the snippet said failed; the status was junk
    assert call["duration_ms"] is None and call["end_ms"] is None
    assert call["request_headers"] == {"ok": "1", "x-replay-session": "s1"}
    assert call["response_headers"] == {}
    assert call["response_body"] == "y" * 10 and call["response_body_truncated"] is True


def test_status_decides_failure_too_and_bodies_only_for_failures():
    assert ev.network_call(samples.network(500, "https://a/", 1, failed=False), 10)["failed"] is True
    ok = ev.network_call(samples.network(200, "https://a/", 1, responseBody="secret"), 10)
    assert ok["failed"] is False and ok["response_body"] is None


def test_identify_and_errors():
    assert ev.identify(samples.identify(" u-1 ", 5, plan="pro", n=3, nested={"x": 1})) == {
        "id": "u-1", "traits": {"plan": "pro", "n": 3}, "ts": 5}
    assert ev.identify(samples.identify("", 5)) is None
    # Replay.identify(null) or (undefined) from a page, as an older snippet sent it: no user.
    for missing in ("null", "undefined", " NULL ", "None"):
        assert ev.identify(samples.identify(missing, 5)) is None, missing
    assert ev.identify(samples.identify("nullable-7", 5))["id"] == "nullable-7"
    assert ev.console_error(samples.console("warn", 1, "x")) is None
    err = ev.console_error(samples.custom("replay.console", {"level": "error", "args": ["a", 5, "b"]}, 1))
    assert err["message"] == "a b" and err["kind"] == "console_error"
    exc = ev.exception(samples.custom("replay.error", {"message": 5, "line": "12"}, 1))
    assert exc["message"] == "" and exc["line"] is None


@pytest.mark.parametrize("url,expected", [
    ("https://User:pw@Shop.Example:8443/api/x?token=1#f", "https://shop.example:8443/api/x"),
    ("https://shop.example", "https://shop.example/"),
    ("/api/orders?id=1", "/api/orders"),
    ("http://[::1/x", "http://[::1/x"),
])
def test_normalise_url(url, expected):
    assert ev.normalise_url(url) == expected


def test_a_recovered_call_keeps_what_resource_timing_showed_and_no_guessed_method():
    event = samples.custom("replay.network", {
        "method": None, "url": "https://a/api/me?token=abc", "status": 502, "statusText": "", "initiator": "fetch",
        "startTime": 1000, "duration": 30, "failed": True, "error": None, "recovered": True,
        "timing": {"dns": 2, "connect": 2, "tls": 4, "ttfb": 15.04, "download": 5, "extra": 1}}, 1030)
    call = ev.network_call(event, 100)
    assert call["recovered"] is True and call["method"] is None
    assert call["timing"] == {"dns": 2, "connect": 2, "tls": 4, "ttfb": 15.0, "download": 5}
    assert call["url"] == "https://a/api/me?token=[masked]"
    assert call["query"] == [{"name": "token", "value": "[masked]", "masked": True}]
    # A recorded call without a method is still a GET (fetch's default); junk timing is no timing.
    plain = ev.network_call(samples.network(502, "https://a/", 1, method=None, timing={"dns": "x", "ttfb": -1}), 10)
    assert (plain["method"], plain["recovered"], plain["timing"]) == ("GET", False, None)


def test_request_bodies_are_scrubbed_again_and_kept_for_failed_calls_only():
    body = '{"password":"hunter2","card":"4111 1111 1111 1111","qty":2}'
    failed = ev.network_call(samples.network(502, "https://a/api/pay", 1, method="POST", requestBody=body), 100)
    assert failed["request_body"] == '{"password":"[masked]","card":"[masked]","qty":2}'
    assert failed["request_body_scrubbed"] is True and failed["request_body_truncated"] is False
    ok = ev.network_call(samples.network(200, "https://a/api/pay", 1, method="POST", requestBody=body), 100)
    assert ok["request_body"] is None


def test_stored_events_keep_request_bodies_only_where_the_project_opted_in():
    body = '{"password":"hunter2","qty":2}'
    event = samples.network(502, "https://a/api/pay?token=abc", 1, method="POST", requestBody=body,
                            requestBodyScrubbed=False)
    kept = ev.scrub(event, ["/api/*"])["data"]["payload"]
    assert kept["requestBody"] == '{"password":"[masked]","qty":2}' and kept["requestBodyScrubbed"] is True
    assert kept["url"] == "https://a/api/pay?token=[masked]"
    for patterns in ((), ["/other/*"]):
        dropped = ev.scrub(event, patterns)["data"]["payload"]
        assert not {"requestBody", "requestBodyScrubbed", "requestBodyTruncated"} & set(dropped)
    ok = samples.network(200, "https://a/api/pay", 1, requestBody=body)
    assert "requestBody" not in ev.scrub(ok, ["/api/*"])["data"]["payload"]
