"""What a call's details show beyond its headers: the breakdown of its time as a small waterfall."""
from __future__ import annotations

# The phases of resource timing, in the order they happen (replay/core/events.py::timing).
PHASES = (("dns", "DNS lookup"), ("connect", "Connect"), ("tls", "TLS handshake"), ("ttfb", "Waiting (TTFB)"),
          ("download", "Download"))


def waterfall(timing) -> dict | None:
    """{"rows": [{"label", "ms", "left", "width"}], "total"}: each known phase after the one before, in percent of
    their sum; None when the browser gave no breakdown (another origin without Timing-Allow-Origin, no answer)."""
    if not isinstance(timing, dict):
        return None
    known = [(label, float(timing[key])) for key, label in PHASES if isinstance(timing.get(key), (int, float))]
    total = sum(ms for _, ms in known)
    if not known:
        return None
    rows, at = [], 0.0
    for label, ms in known:
        rows.append({"label": label, "ms": ms, "left": round(100 * at / total, 2) if total else 0,
                     "width": round(100 * ms / total, 2) if total else 0})
        at += ms
    return {"rows": rows, "total": round(total, 1)}
