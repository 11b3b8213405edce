"""The join, table by table: access records to recorded calls across skewed browser clocks, error lines to access."""
from __future__ import annotations

from pathlib import Path

import pytest

from replay.core.evidence.join import errors_of, join_access, url_key, window_offset
from replay.core.proxy_logs import access_log, error_log

FIXTURES = Path(__file__).parent.parent / "proxy_logs" / "fixtures"
MIN = 60_000
# A proxy-clock moment: the captured run's first access line (2026-11-30 04:52:06.814 UTC).
T0 = 1_796_014_326_814


def captured(name: str) -> list[str]:
    return (FIXTURES / name).read_text().splitlines()


def access(uri="/api/orders?id=7", status=502, at=T0, took_ms=3, method="GET", request_id="r", connection=2,
           host="shop.example", source=None):
    """An access record as the parser makes it, at `at` on the proxy's clock."""
    return {"kind": "access", "time_ms": at, "request_time_ms": took_ms, "session": "s", "connection": connection,
            "request_id": request_id, "method": method, "uri": uri, "host": host, "status": status,
            "upstreams": [], "source": source}


def call(call_id, start_ms, url="https://shop.example/api/orders?id=7", status=502, window="w1", method="GET",
         duration_ms=3):
    return {"id": call_id, "window": window, "method": method, "url": url, "status": status, "start_ms": start_ms,
            "ts": start_ms + duration_ms, "duration_ms": duration_ms}


def test_a_window_offset_is_the_quickest_batch_arrival():
    # Browser 7 minutes behind: batches arrive 7 min + their send delay after their last event.
    browser = T0 - 7 * MIN
    batches = [(browser + 7 * MIN + 900, [browser - 50, browser]),
               (browser + 5000 + 7 * MIN + 40, [browser + 4000, browser + 5000]),
               (browser + 9000 + 7 * MIN + 2500, [browser + 9000])]
    assert window_offset(batches) == 7 * MIN + 40
    assert window_offset([(T0, [])]) is None


@pytest.mark.parametrize("skew_ms", [0, 7 * MIN, -4 * MIN, 90 * MIN])
def test_a_call_joins_its_access_record_whatever_the_browser_clock(skew_ms):
    # The browser clock is skew_ms behind the proxy's; the estimate is 600 ms late (the quickest batch's delay).
    calls = [call("w1:1:0", T0 - skew_ms)]
    joined = join_access(calls, {"w1": skew_ms + 600}, [access(at=T0 + 3, request_id="mine")], 10_000)
    assert joined["w1:1:0"]["request_id"] == "mine"


def test_without_the_offset_a_skewed_clock_joins_nothing():
    assert join_access([call("w1:1:0", T0 - 7 * MIN)], {}, [access()], 10_000) == {}


def test_retries_each_join_their_own_line():
    # The page retried a failing call three times, 1 s apart; nginx logged three lines.
    skew = 3 * MIN
    calls = [call(f"w1:{n}:0", T0 - skew + n * 1000) for n in range(3)]
    records = [access(at=T0 + n * 1000 + 3, request_id=f"try{n}", connection=10 + n) for n in (2, 0, 1)]
    joined = join_access(calls, {"w1": skew + 700}, records, 10_000)
    assert {k: v["request_id"] for k, v in joined.items()} == {"w1:0:0": "try0", "w1:1:0": "try1", "w1:2:0": "try2"}


def test_two_calls_to_one_url_close_together_keep_their_order():
    # 300 ms apart, and the clock estimate 800 ms late: the nearest line of the first call is the second's.
    calls = [call("a", T0), call("b", T0 + 300)]
    records = [access(at=T0 + 3, request_id="first"), access(at=T0 + 303, request_id="second")]
    joined = join_access(calls, {"w1": 800}, records, 10_000)
    assert (joined["a"]["request_id"], joined["b"]["request_id"]) == ("first", "second")


def test_one_line_joins_one_call():
    calls = [call("a", T0), call("b", T0 + 50)]
    joined = join_access(calls, {"w1": 0}, [access(at=T0 + 53, request_id="only")], 10_000)
    assert list(joined) == ["b"]


def test_a_line_of_another_status_method_or_url_never_joins():
    calls = [call("a", T0)]
    assert join_access(calls, {}, [access(status=200, at=T0 + 3)], 10_000) == {}
    assert join_access(calls, {}, [access(method="POST", at=T0 + 3)], 10_000) == {}
    assert join_access(calls, {}, [access(uri="/api/orders?id=8", at=T0 + 3)], 10_000) == {}


def test_a_call_without_a_response_joins_whatever_the_proxy_logged():
    # The browser saw no response (status 0); nginx logged the 504 it was about to send, or 499.
    joined = join_access([call("a", T0, status=0)], {}, [access(status=504, at=T0 + 3)], 10_000)
    assert joined["a"]["status"] == 504


def test_lines_beyond_the_tolerance_do_not_join():
    assert join_access([call("a", T0)], {}, [access(at=T0 + 12_000)], 10_000) == {}


def test_secret_query_values_compare_masked():
    # Recorded URLs carry "[masked]" where nginx logs the raw value.
    encoded = call("a", T0, url="https://shop.example/api/orders?id=7&token=%5Bmasked%5D")
    recorded = call("b", T0, url="https://shop.example/api/orders?id=7&token=[masked]")
    line = access(uri="/api/orders?id=7&token=s3cr3t", at=T0 + 3)
    assert url_key(line["uri"]) == url_key(recorded["url"]) == "/api/orders?id=7&token=[masked]"
    assert join_access([recorded], {}, [line], 10_000)["b"] is line
    assert join_access([encoded], {}, [line], 10_000)["a"] is line
    assert join_access([recorded], {}, [access(uri="/api/orders?id=8&token=s3cr3t", at=T0 + 3)], 10_000) == {}


def test_unkeyed_lines_join_by_host_method_uri_and_time():
    calls = [call("a", T0, url="https://api.example/v1/cart")]
    other_host = access(uri="/v1/cart", host="shop.example", at=T0 + 3)
    same_host = access(uri="/v1/cart", host="api.example", at=T0 + 3, request_id="api")
    assert join_access(calls, {}, [other_host], 10_000, by_host=True) == {}
    assert join_access(calls, {}, [other_host, same_host], 10_000, by_host=True)["a"]["request_id"] == "api"


def test_calls_of_two_windows_use_their_own_clocks():
    calls = [call("a", T0 - 5 * MIN, window="w1"), call("b", T0 + 2 * MIN + 500, window="w2")]
    records = [access(at=T0 + 3, request_id="one"), access(at=T0 + 503, request_id="two")]
    joined = join_access(calls, {"w1": 5 * MIN + 100, "w2": -2 * MIN + 100}, records, 10_000)
    assert (joined["a"]["request_id"], joined["b"]["request_id"]) == ("one", "two")


def test_captured_error_lines_join_their_access_lines_by_connection_and_time():
    accesses = [access_log.parse(line) for line in captured("access.log")]
    errors = [error_log.parse(line) for line in captured("error.log")]
    refused = next(a for a in accesses if a["uri"].startswith("/fail/refused"))
    slow = next(a for a in accesses if a["uri"].startswith("/fail/slow"))
    assert [e["cause"] for e in errors_of(refused, errors) if e["level"] == "error"] == ["upstream_refused"]
    assert [e["cause"] for e in errors_of(slow, errors) if e["level"] == "error"] == ["upstream_timeout"]


def _error(connection=2, time="2026-11-30T04:52:06", source=None):
    return {"kind": "error", "connection": connection, "time": time, "level": "error", "cause": "upstream_refused",
            "source": source}


@pytest.mark.parametrize("time,joins", [
    ("2026-11-30T04:52:06", True),    # nginx's host on UTC
    ("2026-11-30T05:52:06", True),    # an hour east of UTC
    ("2026-11-29T23:22:06", True),    # five and a half hours west
    ("2026-11-30T04:52:09", False),   # same connection number, seconds after the request ended
    ("2026-11-30T04:37:06", True),    # a quarter-hour zone (Nepal is UTC+5:45): indistinguishable, taken
])
def test_an_error_line_joins_within_its_request_whatever_nginx_zone(time, joins):
    line = access(at=T0, took_ms=1001)  # 04:52:05.813 to 04:52:06.814 UTC
    assert (errors_of(line, [_error(time=time)]) != []) is joins


def test_requests_on_one_kept_alive_connection_keep_their_own_error_lines():
    # The browser sent three calls on one connection within a second; nginx's error time has whole seconds.
    first = access(uri="/fail/refused?order=7", at=T0, took_ms=1)
    second = access(uri="/fail/slow?order=9", at=T0 + 900, took_ms=850)
    refused = {**_error(), "method": "GET", "uri": "/fail/refused?order=7"}
    timed_out = {**_error(), "method": "GET", "uri": "/fail/slow?order=9", "cause": "upstream_timeout"}
    assert errors_of(first, [refused, timed_out]) == [refused]
    assert errors_of(second, [refused, timed_out]) == [timed_out]
    assert errors_of({**first, "method": "POST"}, [refused]) == []


def test_an_error_line_of_another_connection_or_host_does_not_join():
    line = access(at=T0, source="10.0.0.5")
    assert errors_of(line, [_error(connection=3)]) == []
    assert errors_of(line, [_error(source="10.0.0.6")]) == []
    assert errors_of(line, [_error(source="10.0.0.5")]) != []
    assert errors_of({**line, "connection": None}, [_error()]) == []
