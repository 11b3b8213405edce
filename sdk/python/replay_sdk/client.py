"""The SDK's configuration and its one sender: endpoint, server key, service name, release."""
from __future__ import annotations

import atexit
import logging
import os
import signal
import threading
from typing import Optional

from replay_sdk import events
from replay_sdk.context import RequestState, install_log_handler
from replay_sdk.inflight import Watchdog
from replay_sdk.sender import Sender

log = logging.getLogger("replay_sdk")
PATH = "/ingest/server"
FLUSH_AT_EXIT_S = 2.0
DEFAULT_IN_FLIGHT_AFTER_MS = 1000


class Client:
    """Sends failed requests to replay. Without an endpoint or a server key it is disabled and does nothing.

    endpoint: replay's base URL (https://replay.example.com) or the full .../ingest/server URL; default
    REPLAY_ENDPOINT. server_key: `replay project server-key PROJECT`; default REPLAY_SERVER_KEY. service,
    release: default REPLAY_SERVICE, REPLAY_RELEASE. in_flight_after_ms: a request still running this long is
    sent as in flight (default REPLAY_IN_FLIGHT_AFTER_MS or 1000; 0 turns it off), checked every
    in_flight_interval_ms (250). handle_sigterm: on SIGTERM, when nothing else handles it, send the requests
    in flight before the process ends."""

    def __init__(self, endpoint: Optional[str] = None, server_key: Optional[str] = None,
                 service: Optional[str] = None, release: Optional[str] = None, queue_size: int = 1000,
                 timeout_s: float = 2.0, capture_logs: bool = True, in_flight_after_ms: Optional[int] = None,
                 in_flight_interval_ms: int = 250, handle_sigterm: bool = True, **sender_options):
        endpoint = (endpoint or os.environ.get("REPLAY_ENDPOINT") or "").strip()
        server_key = (server_key or os.environ.get("REPLAY_SERVER_KEY") or "").strip()
        self.service = service or os.environ.get("REPLAY_SERVICE") or None
        self.release = release or os.environ.get("REPLAY_RELEASE") or None
        self.sender: Optional[Sender] = None
        self.watchdog: Optional[Watchdog] = None
        if not endpoint or not server_key:
            log.warning("replay_sdk: no REPLAY_ENDPOINT or REPLAY_SERVER_KEY; failed requests are not sent")
            return
        url = endpoint.rstrip("/")
        if not url.endswith(PATH):
            url += PATH
        self.sender = Sender(url, server_key, queue_size=queue_size, timeout_s=timeout_s, **sender_options)
        if capture_logs:
            install_log_handler()
        if in_flight_after_ms is None:
            in_flight_after_ms = int(os.environ.get("REPLAY_IN_FLIGHT_AFTER_MS") or DEFAULT_IN_FLIGHT_AFTER_MS)
        if in_flight_after_ms > 0:
            self.watchdog = Watchdog(self._submit_in_flight, in_flight_after_ms, in_flight_interval_ms)
            if handle_sigterm:
                _chain_sigterm(self)
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
        """Send the requests still in flight and what is queued, within `timeout_s`."""
        if self.watchdog:
            try:
                self.watchdog.flush()
            except Exception:
                log.exception("replay_sdk: could not send the requests in flight")
        if self.sender:
            self.sender.close(timeout_s)

    def watch(self, state: RequestState, method: str, url: str, session: Optional[str], task=None) -> None:
        """The request started: watched until `done`, sent as in flight if it runs past the threshold."""
        state.request = (method, url, session)
        if self.watchdog is not None:
            self.watchdog.start(state, task)

    def done(self, state: RequestState, ending: bool = True) -> None:
        """The request answered (`ending`: and ended): its final event if it failed, or if it was sent as in
        flight (the final event replaces that record on the collector)."""
        if state.exception is not None and not state.status:
            state.status = 500
        if state.request is None:
            return
        if self.watchdog is not None:
            report = self.watchdog.end(state, self.failed(state), ending)
        else:
            report = self.failed(state) and not state.reported
            state.reported = state.reported or report
        if report:
            self.report(state, *state.request)

    def forget(self, state: RequestState) -> None:
        if self.watchdog is not None:
            self.watchdog.end(state, failed=False)

    def interrupted(self, state: RequestState, exc: BaseException) -> None:
        """The process is ending on this request (SystemExit from a worker timeout's handler, Ctrl-C): it is sent
        as in flight, with the stack where it was stopped."""
        if self.watchdog is not None:
            try:
                self.watchdog.interrupted(state, events.stack_of(exc))
            except Exception:
                log.exception("replay_sdk: could not send the request the process ended on")

    def _submit_in_flight(self, state: RequestState, stack: list) -> None:
        self.sender.submit(events.build_in_flight(state, stack, self.service, self.release))

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


def _chain_sigterm(client: Client) -> None:
    """On SIGTERM, send the requests in flight, then end as SIGTERM would have: only where nothing else (gunicorn,
    uvicorn) handles it, and only from the main thread (where a handler can be set)."""
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return

        def on_sigterm(signum, frame):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            client.close(FLUSH_AT_EXIT_S / 2)
            os.kill(os.getpid(), signal.SIGTERM)

        signal.signal(signal.SIGTERM, on_sigterm)
    except (ValueError, OSError, AttributeError):  # no signals here (an embedded interpreter, Windows)
        pass


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
