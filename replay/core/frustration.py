"""Frustration signals: rage and dead clicks as the snippet reports them, and retries of failed calls.

Rage and dead clicks need the page (where the clicks fell, whether the element was
clickable, whether anything changed), so the snippet detects them and sends a
`replay.frustration` event. A retry is seen here, from the calls themselves: the
page sends the same method and URL again within RETRY_WITHIN_MS of a failure.
"""
from __future__ import annotations

from typing import Any

from replay.core import wire
from replay.core.events import MAX_URL_CHARS, custom, epoch_ms

KINDS = ("rage", "dead", "retry")
# The manifest's count of each kind.
COUNT_NAMES = {"rage": "rage_clicks", "dead": "dead_clicks", "retry": "retries"}
# A call this soon after a failed one with the same method and URL is the page trying again.
RETRY_WITHIN_MS = 60_000
# Failed calls remembered per window to match retries against (the most recent ones).
MAX_RETRY_KEYS = 50
MAX_TARGET_CHARS = 120


def _coord(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return None
    return int(max(-100_000, min(100_000, value)))


def click_signal(event: Any) -> dict | None:
    """A rage or dead click the snippet reported: {kind, ts, count, x, y, target}."""
    found = custom(event, wire.TAG_FRUSTRATION)
    if found is None:
        return None
    ts, p = found
    kind = p.get("kind")
    if kind not in ("rage", "dead"):
        return None
    count = p.get("count")
    count = int(count) if isinstance(count, int) and not isinstance(count, bool) and 1 <= count <= 1000 else 1
    target = p.get("target")
    return {"kind": kind, "ts": ts, "count": count, "x": _coord(p.get("x")), "y": _coord(p.get("y")),
            "target": target[:MAX_TARGET_CHARS] if isinstance(target, str) else ""}


def _key(call: dict) -> str:
    return f"{call.get('method') or 'GET'} {(call.get('url') or '')[:MAX_URL_CHARS]}"


def retry_of(state: dict, window: str, call: dict, failed: bool, call_id: str | None) -> dict | None:
    """A retry signal when `call` repeats a failed call of this window; updates `state` (window -> key -> last failure).

    state[window][key] is [ended_ms, failed call id, status] of the latest failure of that method + URL.
    """
    start = epoch_ms(call.get("start_ms")) or epoch_ms(call.get("ts"))
    key = _key(call)
    seen = state.setdefault(window, {})
    signal = None
    before = seen.get(key)
    if before is not None and start is not None and 0 <= start - before[0] <= RETRY_WITHIN_MS:
        signal = {"kind": "retry", "ts": start, "count": 1, "method": call.get("method") or "GET",
                  "url": (call.get("url") or "")[:MAX_URL_CHARS], "of": before[1], "of_status": before[2],
                  "status": call.get("status"), "failed": failed}
    if failed:
        end = epoch_ms(call.get("end_ms")) or start
        if end is not None:
            seen.pop(key, None)
            seen[key] = [end, call_id, call.get("status")]
            while len(seen) > MAX_RETRY_KEYS:
                seen.pop(next(iter(seen)))
    elif before is not None:
        # It worked: a later call is a new one, not a retry of that failure.
        seen.pop(key, None)
    return signal
