"""The ASGI middleware around plain ASGI apps (what FastAPI and Starlette are underneath), to a real collector."""
import asyncio
import logging

import pytest

from replay_sdk import ReplayASGIMiddleware
from tests.e2e.conftest import poll
from tests.sdk.conftest import SESSION

SCOPE = {"type": "http", "method": "PUT", "scheme": "https", "path": "/api/carts/3", "root_path": "",
         "query_string": b"api_key=k123&view=full", "server": ("10.0.0.1", 8000),
         "headers": [(b"host", b"shop.example"), (b"x-replay-session", SESSION.encode()),
                     (b"authorization", b"Bearer abcdefghijklmnop")]}


def call(app, scope=SCOPE):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(dict(scope), receive, send))
    return sent


def test_a_raising_endpoint_is_re_raised_and_sent(sdk_client, collector):
    async def app(scope, receive, send):
        logging.getLogger("carts").warning("cart %s locked", 3)
        await asyncio.sleep(0)
        raise ZeroDivisionError("division by zero")

    with pytest.raises(ZeroDivisionError):
        call(ReplayASGIMiddleware(app, client=sdk_client))
    [event] = poll(collector["filed"])
    assert (event["method"], event["status"], event["url"]) == ("PUT", 500,
                                                                "https://shop.example/api/carts/3?api_key=[masked]&view=full")
    assert event["exception"]["type"] == "ZeroDivisionError"
    assert event["exception"]["stack"][-1]["code"] == 'raise ZeroDivisionError("division by zero")'
    assert [r["message"] for r in event["logs"]] == ["cart 3 locked"]
    assert "abcdefghijklmnop" not in str(event)


def test_a_503_answer_is_sent_and_a_200_is_not(sdk_client, collector):
    def answering(status):
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": status, "headers": []})
            await send({"type": "http.response.body", "body": b"x"})
        return ReplayASGIMiddleware(app, client=sdk_client)

    assert call(answering(200))[0]["status"] == 200
    assert call(answering(503))[0]["status"] == 503
    [event] = poll(collector["filed"])
    assert event["status"] == 503 and event["exception"] is None


def test_lifespan_and_websockets_pass_through(sdk_client):
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])

    call(ReplayASGIMiddleware(app, client=sdk_client), {"type": "lifespan"})
    assert seen == ["lifespan"] and sdk_client.stats()["queued"] == 0
