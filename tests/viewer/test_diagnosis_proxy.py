"""The card with the proxy's joined lines: confirmed when an error line settles the cause, unchanged without them."""
from __future__ import annotations

from replay.viewer.diagnosis import api_diagnosis, diagnose
from tests.viewer.test_diagnosis import NGINX_502, ORIGIN, SID, call

NGINX = {"server": "nginx/1.22.1"}
LINE = ('2026/11/30 04:52:06 [error] 7#7: *2 connect() failed (111: Connection refused) while connecting to upstream, '
        'client: 127.0.0.1, server: , request: "GET /api/orders HTTP/1.1", upstream: "http://10.0.0.7:8080/api/orders"')
PROXY = {"matched_by": "session", "status": 502, "time_ms": 1, "request_time_ms": 0, "request_id": "abc123",
         "connection": 2, "method": "GET", "host": "shop.example", "uri": "/api/orders",
         "upstreams": [{"addr": "10.0.0.7:8080", "status": 502, "connect_ms": None, "header_ms": None,
                        "response_ms": 0}],
         "via": "syslog", "error_log": [{"time": "2026-11-30T04:52:06", "level": "error", "cause": "upstream_refused",
                                         "errno": 111, "phase": "connecting to upstream",
                                         "upstream": "http://10.0.0.7:8080/api/orders", "line": LINE}]}


def card(proxy=None):
    return diagnose(call(502, duration=38, headers=NGINX, body=NGINX_502), session_id=SID, page_origin=ORIGIN,
                    proxy=proxy)


def test_without_proxy_lines_the_card_is_the_browser_s_and_names_a_likely_cause():
    plain = card()
    assert (plain["confirmed"], plain["matched_by"], plain["cause"]) == (False, None, "unknown")
    assert not plain["title"].startswith("Confirmed")


def test_an_error_line_confirms_the_cause_names_the_upstream_and_the_fix():
    c = card(PROXY)
    assert (c["cause"], c["confirmed"], c["matched_by"]) == ("upstream_refused", True, "session")
    assert c["title"] == "Confirmed: 10.0.0.7:8080 refused nginx's connection: nothing listens there (upstream_refused)"
    assert c["summary"].startswith("Start the service that should listen on 10.0.0.7:8080")
    # What the browser could not show is shown; the app never got a refused connection's request.
    assert c["next_steps"] == []
    assert c["cannot_show"] == ["Nothing on the application's side: the request never reached it (nginx answered the "
                                "browser itself)."]
    d = api_diagnosis(c)
    assert set(d) == {"cause", "confirmed", "title", "summary", "evidence", "matched_by"}
    assert f"nginx error log: {LINE}" in d["evidence"] and d["evidence"][-1].startswith("Matched by session")


def test_an_access_line_alone_is_shown_but_confirms_nothing():
    c = card({**PROXY, "matched_by": "time_url", "error_log": []})
    assert (c["confirmed"], c["matched_by"]) == (False, "time_url") and not c["title"].startswith("Confirmed")
    assert any("names no cause" in line for line in c["cannot_show"])
