"""URLs from outside (recorded by a browser, or sent by anyone) taken apart without raising."""
from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

EMPTY = urlsplit("")


def split(url: object) -> SplitResult | None:
    """urlsplit(url), or None for what it cannot take apart.

    urlsplit raises ValueError for some URLs at once ('http://[' has an open IPv6 bracket) and for others
    only when `.port` is read ('http://host:abc', 'http://host:99999'): both are read here.
    """
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
        parts.port
    except ValueError:
        return None
    return parts


def parts(url: object) -> SplitResult:
    """split(url), empty (no scheme, host or path) for what it cannot take apart."""
    return split(url) or EMPTY


def origin(url: object) -> str:
    """scheme://host[:port], the port only when it is not the scheme's default; "" without a host."""
    found = parts(url)
    if not found.hostname:
        return ""
    default = {"http": 80, "https": 443}.get(found.scheme)
    return f"{found.scheme}://{found.hostname}" + (f":{found.port}" if found.port not in (None, default) else "")
