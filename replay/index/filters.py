"""The filters both the session and the failed-call queries take: status, time bounds, limit; and the list cursor."""
from __future__ import annotations

import re

from replay.core.keys import ID_PATTERN

_STATUS = re.compile(r"^(?:[1-5][0-9][0-9]|[1-5]xx|error)$")
# errors=: sessions with a console error, an exception, or either.
ERROR_KINDS = ("console", "exception", "any")
# A cursor is '<started_ms>:<session>': the last session of a page, in the index's own order.
_CURSOR = re.compile(r"\A(0|[1-9][0-9]{0,15}):([A-Za-z0-9_-]{8,64})\Z")


def parse_status(status: str | int) -> str:
    """'502', '5xx' or 'error' (no response); ValueError for anything else."""
    value = str(status).strip().lower()
    if not _STATUS.match(value):
        raise ValueError("status is a code such as 502, a class such as 5xx, or 'error' (no response)")
    return value


def status_terms(statuses) -> set[str]:
    """The names a set of failed statuses is indexed under (0 means no response)."""
    terms = set()
    for status in statuses:
        if status == 0:
            terms.add("error")
        elif 100 <= status <= 599:
            terms.update((str(status), f"{status // 100}xx"))
    return terms


def check_paging(limit, since_ms, until_ms) -> int:
    """The limit (callers cap it: settings.MAX_LIST_LIMIT); ValueError for a limit or time bound of the wrong kind."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError("limit must be a positive whole number")
    for name, value in (("since_ms", since_ms), ("until_ms", until_ms)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{name} must be epoch milliseconds")
    return limit


def parse_errors(kind: str) -> str:
    """'console', 'exception' or 'any'; ValueError for anything else."""
    value = str(kind).strip().lower()
    if value not in ERROR_KINDS:
        raise ValueError("errors is 'console' (console errors), 'exception' (exceptions) or 'any' (either)")
    return value


def parse_frustration(kind: str) -> str:
    """'rage', 'dead' or 'retry'; ValueError for anything else."""
    value = str(kind).strip().lower()
    if value not in ("rage", "dead", "retry"):
        raise ValueError("frustration is 'rage' (rage clicks), 'dead' (dead clicks) or 'retry' (a failed call retried)")
    return value


def parse_cursor(cursor: str) -> tuple[int, str]:
    """'1732250000000:sess_abc123' -> (started_ms, session); ValueError for anything else."""
    found = _CURSOR.match(cursor) if isinstance(cursor, str) else None
    if not found or not ID_PATTERN.match(found.group(2)):
        raise ValueError("cursor is the next_cursor of a previous page ('<started_ms>:<session id>')")
    return int(found.group(1)), found.group(2)


def format_cursor(started_ms: int, session: str) -> str:
    return f"{int(started_ms)}:{session}"
