"""URLs from browsers, taken apart without ever raising: a recorded URL may be anything."""
from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

_EMPTY = urlsplit("")


def split(url: object) -> SplitResult:
    """urlsplit, or an empty result for what it refuses ('http://[::1', a port that is no number, not text)."""
    if not isinstance(url, str):
        return _EMPTY
    try:
        parts = urlsplit(url)
        parts.port  # raises for a port that is no number or out of range
        return parts
    except ValueError:
        return _EMPTY


def origin(url: object) -> str:
    """scheme://host[:port], the port only when it is not the scheme's default; "" without a host."""
    parts = split(url)
    if not parts.hostname:
        return ""
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port not in (None, default) else "")
