"""Reading numbers out of query strings and forms."""
from __future__ import annotations

from datetime import datetime, timezone


def whole_number(raw: object) -> int | None:
    """'42' -> 42; anything else (including '²' and other Unicode digits) -> None."""
    if isinstance(raw, str) and raw.isascii() and raw.isdigit():
        return int(raw)
    return None


def epoch_ms(raw: str) -> int:
    """Epoch milliseconds, or an ISO 8601 time ('2026-11-22T10:00', 'Z' or an offset; none means UTC).

    ValueError for anything else.
    """
    if (number := whole_number(raw)) is not None:
        return number
    when = datetime.fromisoformat(raw.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return int(when.timestamp() * 1000)


def time_range(since_ms: int | None, until_ms: int | None) -> tuple[int | None, int | None]:
    """(since, until) as given; ValueError when the start is after the end (nothing could match: say so)."""
    if since_ms is not None and until_ms is not None and since_ms > until_ms:
        raise ValueError("the start of the time range is after its end: nothing can match (swap them?)")
    return since_ms, until_ms
