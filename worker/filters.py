"""The filters both the session and the failed-call queries take: status, time bounds, limit."""
from __future__ import annotations

import re

MAX_LIMIT = 1000
_STATUS = re.compile(r"^(?:[1-5][0-9][0-9]|[1-5]xx|error)$")


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
    """The limit, capped at MAX_LIMIT; ValueError for a limit or time bound of the wrong kind."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError("limit must be a positive whole number")
    for name, value in (("since_ms", since_ms), ("until_ms", until_ms)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{name} must be epoch milliseconds")
    return min(limit, MAX_LIMIT)
