"""The cause codes of DESIGN ("Server-side evidence"), and the cause a call's joined evidence confirms."""
from __future__ import annotations

from replay.core.evidence.app_confirm import app_answered
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


def confirmed_cause(entry: dict | None, call_status: int | None) -> str | None:
    """The cause a call's stored evidence ({"proxy": ..., "server": ...}) settles, or None: as the diagnosis
    confirms it (a proxy error line that names a cause, else the app answering the browser's 5xx itself)."""
    line = settling_line((entry or {}).get("proxy"))
    if line is not None:
        return line["cause"]
    return "app_error" if app_answered((entry or {}).get("server"), call_status) else None


def upstream_addrs(entry: dict | None) -> list[str]:
    """The upstream addresses nginx tried for the call (each once, in order)."""
    proxy = (entry or {}).get("proxy") or {}
    out: list[str] = []
    for u in proxy.get("upstreams") or []:
        addr = u.get("addr") if isinstance(u, dict) else None
        if isinstance(addr, str) and addr and addr not in out:
            out.append(addr)
    return out
