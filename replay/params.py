"""Reading numbers out of query strings and forms."""
from __future__ import annotations


def whole_number(raw: object) -> int | None:
    """'42' -> 42; anything else (including '²' and other Unicode digits) -> None."""
    if isinstance(raw, str) and raw.isascii() and raw.isdigit():
        return int(raw)
    return None
