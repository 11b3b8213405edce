"""The cause codes of DESIGN ("Server-side evidence"), and the cause a call's joined evidence confirms."""
from __future__ import annotations

from replay.core.evidence.confirm import settling_line

CAUSE_CODES = ("upstream_refused", "upstream_reset", "upstream_closed_early", "upstream_timeout",
               "upstream_connect_timeout", "upstream_dns", "upstream_header_too_big", "upstream_bad_response",
               "upstream_tls", "no_live_upstreams", "rate_limited", "app_error", "client_gone", "network_error",
               "unknown")
# A failed call no proxy line or app event settles (the overview counts these beside the confirmed ones).
UNCONFIRMED = "unconfirmed"
FILTER_VALUES = (*CAUSE_CODES, UNCONFIRMED)


def parse_cause(value: str) -> str:
    """A cause code of DESIGN or 'unconfirmed'; ValueError naming them for anything else."""
    cause = str(value).strip().lower()
    if cause not in FILTER_VALUES:
        raise ValueError("cause is one of " + ", ".join(FILTER_VALUES))
    return cause


def confirmed_cause(entry: dict | None) -> str | None:
    """The cause a call's stored evidence ({"proxy": ..., "server": ...}) settles, or None."""
    line = settling_line((entry or {}).get("proxy"))
    if line is not None:
        return line["cause"]
    server = (entry or {}).get("server")
    # The app's own account: an exception it raised on the call's request (the app's evidence, when joined).
    events = server if isinstance(server, list) else (server or {}).get("events") if isinstance(server, dict) else None
    if any(isinstance(e, dict) and e.get("exception") for e in events or []):
        return "app_error"
    return None


def upstream_addrs(entry: dict | None) -> list[str]:
    """The upstream addresses nginx tried for the call (each once, in order)."""
    proxy = (entry or {}).get("proxy") or {}
    out: list[str] = []
    for u in proxy.get("upstreams") or []:
        addr = u.get("addr") if isinstance(u, dict) else None
        if isinstance(addr, str) and addr and addr not in out:
            out.append(addr)
    return out
