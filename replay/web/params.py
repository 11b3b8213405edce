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
