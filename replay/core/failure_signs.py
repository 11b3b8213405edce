"""What the browser's own evidence tells apart among failed calls of one route and status: the call's sign.

A gateway status answered at once and one answered after a long wait have different
causes (a refused connection answers at once; an upstream that worked for seconds
and then dropped the connection cannot be a refused connect), so the failed-call
groups keep them apart. A call without a response is split by how it ended. Every
other status has one sign, "": its groups are not split.
"""
from __future__ import annotations

# Below this a gateway error may be a refused connection, even across a slow network to the user;
# past it the proxy had waited on an upstream that accepted the request.
GATEWAY_WAIT_MS = 3000
GATEWAY_STATUSES = frozenset({502, 503, 504, *range(520, 531)})
NO_RESPONSE_SIGNS = ("abort", "timeout", "network")

# The words a group of failed calls shows for its sign; (status, sign) first, then the sign alone.
LABELS = {
    (502, "quick"): "answered within 3 s: the upstream refused or dropped the connection",
    (502, "waited"): "answered after 3 s or more: the upstream dropped the connection or sent a bad answer",
    (502, "untimed"): "time not recorded: the upstream refused, dropped or botched the connection",
    (504, "quick"): "answered within 3 s: relayed from a proxy further behind, or a short timeout",
    (504, "waited"): "answered after 3 s or more: the gateway's timeout ran out",
    "quick": "answered within 3 s",
    "waited": "answered after 3 s or more",
    "untimed": "time not recorded",
    "abort": "cancelled by the page",
    "timeout": "the page's own timeout fired",
    "network": "no response: connection failed or blocked",
}


def sign(call: dict) -> str:
    """'quick', 'waited' or 'untimed' for a gateway status; how it ended for no response; else ''."""
    status = call.get("status") or 0
    if not status:
        error = call.get("error")
        return error if error in NO_RESPONSE_SIGNS else "network"
    if status not in GATEWAY_STATUSES:
        return ""
    duration = call.get("duration_ms")
    if isinstance(duration, bool) or not isinstance(duration, (int, float)):
        return "untimed"
    return "quick" if duration < GATEWAY_WAIT_MS else "waited"


def label(status: int, sign_: str) -> str:
    """What a group's sign says, or '' for an unsplit group."""
    return LABELS.get((status, sign_)) or LABELS.get(sign_, "")
