"""What the replay page shows of one session: the manifest, each failed call's diagnosis, where to open."""
from __future__ import annotations

from urllib.parse import urlsplit

from replay.diagnosis import diagnose

# ?call=<id> opens this long before the failing call, so the lead-up is on screen.
LEAD_IN_MS = 2000


def page_origin(manifest: dict) -> str | None:
    pages = manifest.get("pages") or []
    if not pages or not pages[0].get("url"):
        return None
    parts = urlsplit(pages[0]["url"])
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def offset_ms(manifest: dict, ts: int | None) -> int:
    started = manifest.get("started_ms") or 0
    return max(0, (ts or started) - started)


def session_view(manifest: dict, t: int | None, call: str | None) -> dict:
    """Template context for session.html; `call` (a failure id) wins over `t`."""
    origin = page_origin(manifest)
    failures = manifest.get("network_failures") or []
    cards = [diagnose(f, session_id=manifest["session"], page_origin=origin) for f in failures]
    start = t or 0
    opened = None
    for f in failures:
        if call and f.get("id") == call:
            opened = call
            start = max(0, offset_ms(manifest, f.get("ts")) - LEAD_IN_MS)
    return {"m": manifest, "failures": list(zip(failures, cards)), "t": start, "open_call": opened,
            "offset": lambda ts: offset_ms(manifest, ts)}
