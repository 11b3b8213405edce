"""What the call shows, a line each: the card's evidence, written from the Facts alone (no judgement here)."""
from __future__ import annotations

import re

from replay.viewer.diagnosis.facts import Facts, origin


# A call recovered from resource timing shows its URL, times and status, nothing of what was sent or answered.
RECOVERED = ("Recovered from the browser's resource timing (the call started before the snippet could watch "
             "fetch/XHR): its URL, timing and status only")


def evidence(f: Facts) -> list[str]:
    """The evidence lines of a call, before the log search adds its own."""
    return _response(f) if f.status else _no_response(f)


def _response(f: Facts) -> list[str]:
    lines = [f"Status {f.status} {f.status_text}".rstrip(),
             f"Answered after {took(f.duration_ms)}" if f.duration_ms is not None else
             "How long it took was not recorded"]
    for s in f.sightings:
        lines += [f"Header {h}: {f.headers[h][:120]} ({s.vendor.name})" for h in s.headers]
        if f.maker and f.maker.sighting is s and s.page_excerpt is not None:
            lines.append(f"Body is {s.vendor.name}'s own error page ('{squash(s.page_excerpt, 60)}')")
    for mark in f.app_marks:
        lines.append(f"Body looks like {mark.says} ('{squash(mark.text, 60)}')" if mark.where == "body" else
                     f"Header {mark.where}: {mark.text[:120]} ({mark.says})")
    lines.append(RECOVERED if f.recovered else _body(f))
    if f.retry_after:
        lines.append(f"Retry-After: {f.retry_after}")
    return lines


def _no_response(f: Facts) -> list[str]:
    lines = [f"No HTTP response (status 0); the {f.initiator} failed with error '{f.error}'",
             f"Failed after {took(f.duration_ms)}"]
    if f.same_origin is False:
        lines.append(f"Cross-origin: {origin(f.url)} from a page on {origin(f.page_origin)}")
    return lines


def _body(f: Facts) -> str:
    if not f.body:
        return "Empty response body"
    # The snippet records a body it cannot read as text as "[<content type> body]" or "[unreadable body]".
    if re.fullmatch(r"\[[^\]]*\]", f.body):
        return f"Body not recorded as text: {f.body}"
    kind = "JSON" if f.json_body else f.headers.get("content-type", "text").split(";")[0]
    return f"Body ({kind}): {squash(f.body, 160)}"


def took(ms: float | None) -> str:
    return "an unrecorded time" if ms is None else f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def squash(text: str, cap: int) -> str:
    """Whitespace runs as one space, cut to `cap` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= cap else text[:cap - 1] + "…"
