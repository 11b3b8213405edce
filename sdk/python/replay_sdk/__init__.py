"""replay's backend SDK: each failed request of a Python web app (exception, stack, warning logs) sent to replay.

    import replay_sdk
    app.wsgi_app = replay_sdk.ReplayMiddleware(app.wsgi_app)      # endpoint and key from REPLAY_ENDPOINT,
    app.add_middleware(replay_sdk.ReplayASGIMiddleware)            # REPLAY_SERVER_KEY
"""
from replay_sdk.asgi import ReplayASGIMiddleware
from replay_sdk.client import Client, default_client, init
from replay_sdk.context import RequestLogHandler, capture_exception
from replay_sdk.wsgi import ReplayMiddleware

__version__ = "0.1.0"
__all__ = ["Client", "ReplayASGIMiddleware", "ReplayMiddleware", "RequestLogHandler", "capture_exception",
           "default_client", "init", "stats"]


def stats() -> dict:
    """The default client's counters (queued, sent, rejected, dropped_queue_full, dropped_unreachable, ...)."""
    return default_client().stats()
