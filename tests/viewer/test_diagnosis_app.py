"""The card with the app's joined event: Confirmed app_error when the app answered the 5xx itself and raised;
the proxy's settled cause wins where the proxy failed, with the app's record shown beside it."""
from __future__ import annotations

from replay.viewer.diagnosis import api_diagnosis, diagnose
from tests.viewer.test_diagnosis import NGINX_502, ORIGIN, SID, call
from tests.viewer.test_diagnosis_proxy import NGINX, PROXY

FRAMES = [{"file": "/usr/lib/python3/dist-packages/flask/app.py", "line": 880, "function": "full_dispatch_request",
           "code": "rv = self.dispatch_request()"},
          {"file": "/srv/shop/orders.py", "line": 41, "function": "create_order", "code": "sku = body['sku']"},
          {"file": "/usr/lib/python3/dist-packages/werkzeug/datastructures.py", "line": 9, "function": "__getitem__",
           "code": "raise KeyError(key)"}]
SERVER = {"matched_by": "session", "time_ms": 1, "method": "POST", "url": "https://shop.example/api/orders",
          "status": 500, "duration_ms": 12.5, "service": "shop", "release": "2.3.0",
          "exception": {"type": "KeyError", "message": "'sku'", "stack": FRAMES, "frames_omitted": 0},
          "logs": [{"time_ms": 2, "level": "ERROR", "logger": "shop.orders", "message": "order without sku"}],
          "logs_omitted": 0}


def test_the_app_raising_on_the_500_it_answered_confirms_app_error_and_names_the_raising_line():
    c = diagnose(call(500, status_text="Internal Server Error"), session_id=SID, page_origin=ORIGIN, server=SERVER)
    assert (c["cause"], c["confirmed"], c["matched_by"]) == ("app_error", True, "session")
    assert c["title"] == ("Confirmed: the app raised KeyError: 'sku' in create_order (/srv/shop/orders.py:41) "
                          "(app_error)")
    assert c["summary"].startswith("Fix create_order at /srv/shop/orders.py:41 so it does not raise KeyError")
    assert c["server"] is SERVER and c["next_steps"] == []
    d = api_diagnosis(c)
    assert "app raised KeyError: 'sku' in create_order (/srv/shop/orders.py:41): sku = body['sku']" in d["evidence"]
    assert "app log ERROR shop.orders: order without sku" in d["evidence"]
    assert any(line.startswith("app (shop · release 2.3.0): POST") for line in d["evidence"])


def test_a_500_the_app_answered_without_an_exception_is_confirmed_with_its_last_record():
    quiet = {**SERVER, "exception": None}
    c = diagnose(call(500, status_text="Internal Server Error"), session_id=SID, page_origin=ORIGIN, server=quiet)
    assert c["confirmed"] and c["title"].startswith("Confirmed: the app answered 500 itself")
    assert "order without sku" in c["summary"]


def test_where_the_proxy_failed_its_cause_wins_and_the_apps_record_is_beside_it():
    c = diagnose(call(502, duration=38, headers=NGINX, body=NGINX_502), session_id=SID, page_origin=ORIGIN,
                 proxy=PROXY, server=SERVER)
    assert (c["cause"], c["confirmed"]) == ("upstream_refused", True)
    assert c["server"] is SERVER
    evidence = api_diagnosis(c)["evidence"]
    assert any(line.startswith("nginx error log:") for line in evidence)
    assert any(line.startswith("app raised KeyError") for line in evidence)


def test_a_502_with_only_the_apps_record_is_not_confirmed_as_the_apps_error():
    c = diagnose(call(502, duration=38, headers=NGINX, body=NGINX_502), session_id=SID, page_origin=ORIGIN,
                 server=SERVER)
    assert c["confirmed"] is False and c["matched_by"] == "session"
    assert any("What the app raised" in line for line in c["cannot_show"])
