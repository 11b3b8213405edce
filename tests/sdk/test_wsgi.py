"""The WSGI middleware around a real Flask app, sending to a real collector: what arrives for a failed request."""
import logging
import time

import pytest
from flask import Flask, Response, abort

from replay_sdk import ReplayMiddleware
from tests.e2e.conftest import poll
from tests.sdk.conftest import SESSION

log = logging.getLogger("shop.orders")


def shop(sdk_client):
    app = Flask("shop")

    @app.post("/api/orders/<int:order>")
    def create_order(order):
        log.info("not kept: below WARNING")
        log.warning("stock low for order %s", order)
        payload = {}
        return payload["sku"]  # raises KeyError

    @app.get("/ok")
    def ok():
        log.warning("a warning in a request that succeeds is not sent")
        return "ok"

    @app.get("/missing")
    def missing():
        abort(404)

    @app.get("/unavailable")
    def unavailable():
        log.error("database pool exhausted")
        return Response("try later", status=503)

    @app.get("/stream")
    def stream():
        def body():
            yield "part one\n"
            raise RuntimeError("broke while streaming")
        return Response(body())

    app.wsgi_app = ReplayMiddleware(app.wsgi_app, client=sdk_client)
    return app.test_client()


@pytest.mark.allow_traceback(r"KeyError: 'sku'", reason="the Flask app fails on purpose and logs it")
def test_a_raising_view_arrives_with_its_stack_logs_and_session(sdk_client, collector):
    r = shop(sdk_client).post("/api/orders/7?token=s3cr3t&page=2", headers={"X-Replay-Session": SESSION,
                                                                            "Authorization": "Bearer abcdefghijk",
                                                                            "Cookie": "sid=topsecret"})
    assert r.status_code == 500
    [event] = poll(collector["filed"])
    assert (event["method"], event["status"], event["service"], event["release"]) == ("POST", 500, "shop", "1.2.3")
    assert event["url"] == "http://localhost/api/orders/7?token=[masked]&page=2"
    assert abs(event["time_ms"] - time.time() * 1000) < 60_000 and 0 < event["duration_ms"] < 10_000
    exc = event["exception"]
    assert exc["type"] == "KeyError" and exc["message"] == "'sku'"
    raising = exc["stack"][-1]
    assert raising["function"] == "create_order" and raising["code"] == 'return payload["sku"]  # raises KeyError'
    assert raising["file"] == __file__ and raising["line"] > 0
    assert not any("replay_sdk" in f["file"] for f in exc["stack"])
    messages = [(r["level"], r["logger"], r["message"]) for r in event["logs"]]
    assert messages[0] == ("WARNING", "shop.orders", "stock low for order 7")
    assert ("ERROR", "shop", "Exception on /api/orders/7 [POST]") in messages
    assert not any("not kept" in m for _, _, m in messages)
    raw = str(event)
    assert "s3cr3t" not in raw and "topsecret" not in raw and "abcdefghijk" not in raw
    assert sdk_client.stats()["sent"] == 1


def test_good_and_client_error_requests_send_nothing(sdk_client):
    client = shop(sdk_client)
    assert client.get("/ok").status_code == 200
    assert client.get("/missing").status_code == 404
    assert sdk_client.flush(2) and sdk_client.stats()["queued"] == 0


def test_a_5xx_answer_without_an_exception_is_sent_with_its_logs(sdk_client, collector):
    assert shop(sdk_client).get("/unavailable", headers={"X-Replay-Session": SESSION}).status_code == 503
    [event] = poll(collector["filed"])
    assert event["status"] == 503 and event["exception"] is None
    assert [r["message"] for r in event["logs"]] == ["database pool exhausted"]


def test_an_exception_while_the_body_streams(sdk_client, collector):
    app = shop(sdk_client)
    with pytest.raises(RuntimeError, match="broke while streaming"):
        app.get("/stream", headers={"X-Replay-Session": SESSION}).get_data()
    [event] = poll(collector["filed"])
    assert event["exception"]["type"] == "RuntimeError" and event["status"] == 500


def test_an_unhandled_exception_is_re_raised_unchanged(sdk_client, collector):
    boom = ValueError("bad input")

    def app(environ, start_response):
        raise boom

    wrapped = ReplayMiddleware(app, client=sdk_client)
    with pytest.raises(ValueError) as raised:
        wrapped({"REQUEST_METHOD": "GET", "PATH_INFO": "/x", "HTTP_HOST": "api.example", "wsgi.url_scheme": "https",
                 "HTTP_X_REPLAY_SESSION": SESSION}, lambda *a: None)
    assert raised.value is boom
    [event] = poll(collector["filed"])
    assert event["url"] == "https://api.example/x" and event["exception"]["message"] == "bad input"


def test_logs_outside_a_request_are_not_collected(sdk_client):
    from replay_sdk.context import CURRENT

    logging.getLogger("shop").error("at start-up")
    assert CURRENT.get() is None
