"""Headers every viewer page and shared page sends: a strict CSP and its companions."""
from __future__ import annotations

from flask import Response

# Recorded pages replay in a sandboxed iframe without scripts; the viewer itself
# runs only its own files. Images, styles and fonts of the recorded site may load.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline' *; "
       "img-src 'self' data: blob: *; font-src 'self' data: *; media-src 'self' data: blob: *; "
       "connect-src 'self'; frame-src 'self' blob:; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


def page_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def nosniff(response: Response) -> Response:
    """Every answer: browsers take its content type as given (a JSON error never runs as a script)."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response
