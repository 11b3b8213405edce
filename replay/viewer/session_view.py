"""What the replay page shows of one session: the manifest, each failed call's diagnosis, where to open."""
from __future__ import annotations

from flask import url_for

from replay.api.urls import base_url
from replay.core.urls import split
from replay.viewer.diagnosis import diagnose

# ?call=<id> opens this long before the failing call, so the lead-up is on screen.
LEAD_IN_MS = 2000


def page_origin(manifest: dict) -> str | None:
    pages = manifest.get("pages") or []
    if not pages or not pages[0].get("url"):
        return None
    parts = split(pages[0]["url"])
    return f"{parts.scheme}://{parts.netloc}" if parts and parts.scheme and parts.netloc else None


def offset_ms(manifest: dict, ts: int | None) -> int:
    started = manifest.get("started_ms") or 0
    return max(0, (ts or started) - started)


def clock(ms: int) -> str:
    """An offset as m:ss.s, as the page's script writes it."""
    minutes, seconds = divmod(max(0, ms or 0) / 1000, 60)
    return f"{int(minutes)}:{seconds:04.1f}"


def page_at(manifest: dict, ts: int | None, window: str | None = None) -> str | None:
    """The page the user was on at ts (in that window when known): where a failed call happened."""
    pages = manifest.get("pages") or []
    mine = [p for p in pages if p.get("window") == window] or pages
    found = None
    for page in mine:
        if found is None or (page.get("ts") or 0) <= (ts or 0):
            found = page
    return found.get("url") if found else None


def markers(manifest: dict) -> list[dict]:
    """Timeline marks: failed calls, console errors and exceptions, page loads; `pct` along the session."""
    duration = manifest.get("duration_ms") or 0
    out = []

    def mark(kind: str, ts, label: str, ref: str | None = None) -> None:
        off = offset_ms(manifest, ts)
        out.append({"kind": kind, "offset": off, "pct": round(100 * off / duration, 3) if duration else 0,
                    "label": label, "ref": ref})

    for f in manifest.get("network_failures") or []:
        mark("failed", f.get("ts"), f"{f.get('status') or f.get('error') or 'no response'} {f.get('method')} "
                                    f"{f.get('url')}", f.get("id"))
    for e in manifest.get("errors") or []:
        mark("error", e.get("ts"), ("Exception: " if e.get("kind") == "exception" else "console.error: ")
             + (e.get("message") or ""))
    for p in manifest.get("pages") or []:
        mark("page", p.get("ts"), f"Page: {p.get('url')}")
    return sorted(out, key=lambda m: m["offset"])


def session_view(manifest: dict, t: int | None, call: str | None, share_token: str | None = None) -> dict:
    """Template context for session.html; `call` (a failure id) wins over `t`.

    With share_token the page is the read-only shared view: its data and links go through the token.
    """
    origin = page_origin(manifest)
    failures = manifest.get("network_failures") or []
    cards = [diagnose(f, session_id=manifest["session"], page_origin=origin) for f in failures]
    # A moment past the end (an old link, a hand-made URL) opens at the end.
    start = min(t or 0, manifest.get("duration_ms") or 0)
    opened = None
    for f in failures:
        if call and f.get("id") == call:
            opened = call
            start = max(0, offset_ms(manifest, f.get("ts")) - LEAD_IN_MS)
    if share_token:
        api = url_for("share.shared_page", token=share_token)
        link = base_url() + api
    else:
        api = url_for("api.get_session", session_id=manifest["session"])
        link = base_url() + url_for("pages.replay_page", session_id=manifest["session"])
    return {"m": manifest, "failures": list(zip(failures, cards)), "t": start, "open_call": opened,
            "offset": lambda ts: offset_ms(manifest, ts), "page_at": lambda f: page_at(manifest, f.get("ts"),
                                                                                     f.get("window")),
            "markers": markers(manifest), "api_base": api, "page_link": link, "clock": clock}
