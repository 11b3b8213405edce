"""The card with what the proxy logged about the call: a confirmed cause when its lines settle one.

Each card also names a cause in DESIGN's codes (`cause`): the likely one from the browser's evidence, or the
confirmed one (`confirmed` true) from a joined error-log line (replay/core/evidence/confirm.py).
"""
from __future__ import annotations

from replay.core.evidence.confirm import confirm, proxy_lines
from replay.viewer.diagnosis.texts import UPSTREAM_UNSEEN

# The browser's evidence names a kind of failure; its likeliest cause, unconfirmed, in DESIGN's codes.
LIKELY = {"upstream_down": "upstream_refused", "upstream_slow": "upstream_timeout",
          "gateway_timeout": "upstream_timeout", "rate_limited": "rate_limited", "server_error": "app_error",
          "no_response_network": "network_error", "no_response_cors_or_blocked": "network_error",
          "aborted": "network_error", "client_timeout": "network_error"}
APP_UNSEEN = "What the application behind the proxy did with the request: its own logs at that time."
PROXY_SAYS = "The proxy's error log names no cause for this request; its access log is under the call."


def with_proxy(card: dict, proxy: dict | None) -> dict:
    """The card with cause, confirmed, matched_by and proxy (the joined lines, or None)."""
    card = {**card, "cause": LIKELY.get(card["kind"], "unknown"), "confirmed": False, "matched_by": None,
            "proxy": proxy}
    if not proxy:
        return card
    card["matched_by"] = proxy.get("matched_by")
    settled = confirm(proxy)
    if settled is None:
        card["cannot_show"] = [PROXY_SAYS if line == UPSTREAM_UNSEEN else line for line in card["cannot_show"]]
        return card
    # What the proxy's log would have told is told: the browser's ways to tell causes apart and to find the lines
    # are moot. What stays unseen is the application's side.
    card.update(cause=settled["cause"], confirmed=True, title=settled["title"], summary=settled["summary"],
                next_steps=[], cannot_show=[APP_UNSEEN])  # the summary is the step: what to fix
    return card


def api_diagnosis(card: dict) -> dict:
    """The API's `diagnosis` of a failed call (DESIGN): the card's cause, its words, and every line of evidence."""
    evidence = list(card["evidence"]) + (proxy_lines(card["proxy"]) if card.get("proxy") else [])
    return {"cause": card["cause"], "confirmed": card["confirmed"], "title": card["title"], "summary": card["summary"],
            "evidence": evidence, "matched_by": card["matched_by"]}
