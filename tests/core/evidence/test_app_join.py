"""The app's events joined to recorded calls: method, masked URL, status, time with the window's clock offset."""
from __future__ import annotations

from replay.core.evidence.app import join_events, raising_frame, server_entry

T = 1_760_000_000_000
SKEW = 3 * 60_000  # the browser's clock is 3 minutes behind the server's


def call(cid, status, at, url="https://shop.example/api/pay?token=abc&n=1", method="POST"):
    return {"id": cid, "window": "w1", "method": method, "url": url, "status": status, "start_ms": at}


def event(status, at, url="https://shop.example/api/pay?token=%E2%80%A6&n=1", method="POST", took=20.0):
    return {"method": method, "url": url, "host": "shop.example", "status": status, "time_ms": at,
            "duration_ms": took, "exception": None}


def test_the_event_of_the_same_request_joins_across_a_skewed_clock_with_secrets_masked_on_both_sides():
    calls = [call("c1", 500, T), call("c2", 500, T + 4000)]
    events = [event(500, T + SKEW + 4030), event(500, T + SKEW + 20)]
    joined = join_events(calls, {"w1": SKEW}, events, 10_000)
    assert joined["c1"]["time_ms"] == T + SKEW + 20 and joined["c2"]["time_ms"] == T + SKEW + 4030


def test_without_the_offset_a_skew_of_minutes_joins_nothing():
    assert join_events([call("c1", 500, T)], {"w1": None}, [event(500, T + SKEW)], 10_000) == {}


def test_a_different_status_method_or_path_is_another_request():
    calls = [call("c1", 500, T)]
    for other in (event(503, T), event(500, T, method="GET"), event(500, T, url="/api/refund?n=1")):
        assert join_events(calls, {}, [other], 10_000) == {}


def test_a_proxy_made_502_joins_the_apps_record_of_the_request_it_was_on():
    joined = join_events([call("c1", 502, T)], {}, [event(500, T + 10)], 10_000)
    assert joined["c1"]["status"] == 500


def test_a_path_only_url_joins_by_path_and_query():
    joined = join_events([call("c1", 500, T)], {}, [event(500, T, url="/api/pay?token=x&n=1")], 10_000)
    assert "c1" in joined


def test_each_event_joins_one_call():
    calls = [call("c1", 500, T), call("c2", 500, T + 50)]
    assert list(join_events(calls, {}, [event(500, T + 40)], 10_000)) == ["c2"]


def test_the_frame_to_fix_is_the_apps_own_innermost_one():
    exc = {"stack": [{"file": "/srv/app/views.py", "line": 12, "function": "pay"},
                     {"file": "/usr/lib/python3/dist-packages/json/decoder.py", "line": 355, "function": "decode"}]}
    assert raising_frame(exc)["function"] == "pay"
    assert raising_frame(None) is None
    assert server_entry({**event(500, T), "service": "api"}, "session")["matched_by"] == "session"
