"""What one request collects while it runs: its WARNING+ log records and the exception a framework handled.

Held in a context variable, so threads, greenlets and asyncio tasks each see their own request's.
"""
from __future__ import annotations

import contextvars
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Optional

MAX_LOG_RECORDS = 50
MAX_MESSAGE_CHARS = 4000
_OWN_LOGGER = "replay_sdk"


@dataclass
class RequestState:
    started_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    started: float = field(default_factory=time.perf_counter)
    status: Optional[int] = None
    exception: Optional[BaseException] = None
    logs: list = field(default_factory=list)
    logs_dropped: int = 0
    reported: bool = False
    # Set while the request is watched for running long (replay_sdk/inflight.py): where it runs and what it is.
    thread: Optional[int] = None
    task: object = None
    request: Optional[tuple] = None  # (method, url, session) as the events carry them
    in_flight_sent: int = 0
    in_flight_at: float = 0.0
    in_flight_key: Optional[tuple] = None
    _request_id: Optional[str] = None

    @property
    def request_id(self) -> str:
        """Ties the request's in_flight records to its final event; made only when one is sent."""
        if self._request_id is None:
            self._request_id = uuid.uuid4().hex
        return self._request_id


CURRENT: contextvars.ContextVar[Optional[RequestState]] = contextvars.ContextVar("replay_sdk_request", default=None)


def capture_exception(exc: BaseException) -> None:
    """Name the exception behind this request's 5xx (for frameworks that turn it into a response themselves)."""
    state = CURRENT.get()
    if state is not None and exc is not None:
        state.exception = exc


class RequestLogHandler(logging.Handler):
    """Collects the current request's records at WARNING and above; outside a request it does nothing.

    Flask and Django log the exception they turn into a 500 (with exc_info): that is how the middleware learns
    it without any framework hook."""

    def __init__(self, level: int = logging.WARNING):
        super().__init__(level)

    def emit(self, record: logging.LogRecord) -> None:
        state = CURRENT.get()
        if state is None or record.name.startswith(_OWN_LOGGER):
            return
        try:
            if record.exc_info and record.exc_info[1] is not None and record.levelno >= logging.ERROR \
                    and state.exception is None:
                state.exception = record.exc_info[1]
            if len(state.logs) >= MAX_LOG_RECORDS:
                state.logs.pop(0)  # the newest are kept: the ones nearest the failure
                state.logs_dropped += 1
            state.logs.append({"time_ms": int(record.created * 1000), "level": record.levelname,
                               "logger": record.name, "message": record.getMessage()[:MAX_MESSAGE_CHARS]})
        except Exception:  # a record whose message cannot be formatted must not break the app's logging
            self.handleError(record)


_installed: Optional[RequestLogHandler] = None


def install_log_handler() -> RequestLogHandler:
    """The one handler on the root logger (installed once per process, however many middlewares)."""
    global _installed
    if _installed is None:
        _installed = RequestLogHandler()
        logging.getLogger().addHandler(_installed)
    return _installed
