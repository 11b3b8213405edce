"""A Flask shop wrapped by the SDK's WSGI middleware, run as its own process: `python -m tests.e2e.sdk_app PORT`.

REPLAY_ENDPOINT and REPLAY_SERVER_KEY come from the environment, as in production.
"""
import logging
import sys
import time

from flask import Flask
from werkzeug.serving import make_server

import replay_sdk

log = logging.getLogger("shop.orders")


def create_app() -> Flask:
    app = Flask("shop")

    @app.get("/api/orders/<int:order>")
    def order(order):
        log.warning("order %s has no price", order)
        prices = {}
        total = prices["total"] * 2  # the line that raises
        return {"total": total}

    @app.get("/api/ok")
    def ok():
        return {"ok": True}

    @app.get("/api/slow")
    def slow():
        time.sleep(30)
        return {"ok": True}

    app.wsgi_app = replay_sdk.ReplayMiddleware(app.wsgi_app)
    return app


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    server = make_server("127.0.0.1", int(sys.argv[1]), create_app(), threaded=True)
    print("serving", flush=True)
    server.serve_forever()
