"""The SDK's configuration and its one sender: endpoint, server key, service name, release."""
from __future__ import annotations

import atexit
import logging
import os
from typing import Optional

from replay_sdk import events
from replay_sdk.context import RequestState, install_log_handler
from replay_sdk.sender import Sender

log = logging.getLogger("replay_sdk")
PATH = "/ingest/server"
FLUSH_AT_EXIT_S = 2.0


class Client:
    """Sends failed requests to replay. Without an endpoint or a server key it is disabled and does nothing.

    endpoint: replay's base URL (https://replay.example.com) or the full .../ingest/server URL; default
    REPLAY_ENDPOINT. server_key: `replay project server-key PROJECT`; default REPLAY_SERVER_KEY. service,
    release: default REPLAY_SERVICE, REPLAY_RELEASE. report_statuses: which statuses are failures (5xx)."""

    def __init__(self, endpoint: Optional[str] = None, server_key: Optional[str] = None,
                 service: Optional[str] = None, release: Optional[str] = None, queue_size: int = 1000,
                 timeout_s: float = 2.0, capture_logs: bool = True, **sender_options):
        endpoint = (endpoint or os.environ.get("REPLAY_ENDPOINT") or "").strip()
        server_key = (server_key or os.environ.get("REPLAY_SERVER_KEY") or "").strip()
        self.service = service or os.environ.get("REPLAY_SERVICE") or None
        self.release = release or os.environ.get("REPLAY_RELEASE") or None
        self.sender: Optional[Sender] = None
        if not endpoint or not server_key:
            log.warning("replay_sdk: no REPLAY_ENDPOINT or REPLAY_SERVER_KEY; failed requests are not sent")
            return
        url = endpoint.rstrip("/")
        if not url.endswith(PATH):
            url += PATH
        self.sender = Sender(url, server_key, queue_size=queue_size, timeout_s=timeout_s, **sender_options)
        if capture_logs:
            install_log_handler()
        atexit.register(self.close, FLUSH_AT_EXIT_S)

    @property
    def enabled(self) -> bool:
        return self.sender is not None

    def stats(self) -> dict:
        """Counters: queued, sent, rejected, dropped_queue_full, dropped_unreachable, failed_posts, pending."""
        return self.sender.stats() if self.sender else {}

    def flush(self, timeout_s: float = 2.0) -> bool:
        return self.sender.flush(timeout_s) if self.sender else True

    def close(self, timeout_s: float = FLUSH_AT_EXIT_S) -> None:
        if self.sender:
            self.sender.close(timeout_s)

    @staticmethod
    def failed(state: RequestState) -> bool:
        return state.exception is not None or (state.status or 0) >= 500

    def report(self, state: RequestState, method: str, url: str, session: Optional[str]) -> None:
        """Queue the request's event; never raises (a broken report must not change the app's answer)."""
        if self.sender is None:
            return
        try:
            self.sender.submit(events.build(state, method, url, session, self.service, self.release))
        except Exception:
            log.exception("replay_sdk: could not build the event of %s %s", method, url)


_default: Optional[Client] = None


def init(**options) -> Client:
    """The process's client, configured from these options and the environment (replaces an earlier one)."""
    global _default
    _default = Client(**options)
    return _default


def default_client() -> Client:
    global _default
    if _default is None:
        _default = Client()
    return _default
