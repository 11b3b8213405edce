"""Headers every viewer page and shared page sends: a strict CSP and its companions.

A replayed page is rebuilt inside the viewer (rrweb's sandboxed iframe inherits
the viewer's CSP), so the CSP decides what a recording may load while a
developer watches: nothing from any host but this one and, for the session's
own page, the origins its project records (`allow_assets_from`). Styles the
recorder inlined, data: and blob: URLs always show; a tracker, a CDN or an
attacker's host named in recorded markup never gets a request.
"""
from __future__ import annotations

import re

from flask import Response, g

# Only plain origins may go into the header (a ";" would start a directive of its own).
_ORIGIN = re.compile(r"\Ahttps?://(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?\Z")


def csp(asset_origins: tuple[str, ...] = ()) -> str:
    assets = " ".join(o for o in asset_origins if _ORIGIN.match(o))
    extra = f" {assets}" if assets else ""
    return ("default-src 'self'; script-src 'self'; "
            f"style-src 'self' 'unsafe-inline'{extra}; img-src 'self' data: blob:{extra}; "
            f"font-src 'self' data:{extra}; media-src 'self' data: blob:{extra}; "
            "connect-src 'self'; frame-src 'self' blob:; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")


def allow_assets_from(origins) -> None:
    """This response's replay may load images, styles, fonts and media from these origins (the recorded site's)."""
    g.replay_asset_origins = tuple(origins)


def page_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = csp(g.get("replay_asset_origins", ()))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def nosniff(response: Response) -> Response:
    """Every answer: browsers take its content type as given (a JSON error never runs as a script)."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response
