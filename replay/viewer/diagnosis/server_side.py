"""The card with what the proxy logged and the app raised about the call: a confirmed cause when they settle one.

Each card also names a cause in DESIGN's codes (`cause`): the likely one from the browser's evidence, or the
confirmed one (`confirmed` true) from a joined error-log line (replay/core/evidence/confirm.py) or from the app's
own event when it answered the 5xx itself (replay/core/evidence/app_confirm.py). Where the proxy failed (its line
settles a cause), the proxy's cause wins and the app's record of the request it was on is shown beside it.
"""
from __future__ import annotations

from replay.core.evidence.app_confirm import confirm_app, process_ended, server_lines
from replay.core.evidence.confirm import confirm, proxy_lines
from replay.viewer.diagnosis.texts import UPSTREAM_UNSEEN

# The browser's evidence names a kind of failure; its likeliest cause, unconfirmed, in DESIGN's codes.
LIKELY = {"upstream_down": "upstream_refused", "upstream_slow": "upstream_timeout",
          "gateway_timeout": "upstream_timeout", "rate_limited": "rate_limited", "server_error": "app_error",
          "no_response_network": "network_error", "no_response_cors_or_blocked": "network_error",
          "aborted": "network_error", "client_timeout": "network_error"}
APP_UNSEEN = "What the application behind the proxy did with the request: its own logs at that time."
# Causes where nginx answered without the app ever getting the request: nothing of the app's to look for.
NEVER_REACHED = {"upstream_refused", "upstream_connect_timeout", "upstream_dns", "upstream_tls", "no_live_upstreams",
                 "rate_limited"}
APP_NEVER = "Nothing on the application's side: the request never reached it (nginx answered the browser itself)."
PROXY_SAYS = "The proxy's error log names no cause for this request; its access log is under the call."


APP_SEEN = "What the app raised about this request is under the call."
APP_FIXED = "The values of the variables at the raising line: the stack and the request's log records are what the app sent."


def with_proxy(card: dict, proxy: dict | None, server: dict | None = None, status: int | None = None) -> dict:
    """The card with cause, confirmed, matched_by, proxy (the joined lines, or None) and server (the app's event)."""
    card = {**card, "cause": LIKELY.get(card["kind"], "unknown"), "confirmed": False, "matched_by": None,
            "proxy": proxy, "server": server}
    settled = confirm(proxy) if proxy else None
    by_app = confirm_app(server, status) if settled is None else None
    if by_app is not None:
        # The app answered the error itself and said why: the browser's guesses and the proxy's silence are moot.
        card.update(cause="app_error", confirmed=True, title=by_app["title"], summary=by_app["summary"],
                    next_steps=[], cannot_show=[APP_FIXED], matched_by=by_app["matched_by"])
        return card
    if server:
        card["matched_by"] = server.get("matched_by")
        card["cannot_show"] = [APP_SEEN if line in (UPSTREAM_UNSEEN, APP_UNSEEN) else line for line in card["cannot_show"]]
    if not proxy:
        return card
    card["matched_by"] = proxy.get("matched_by")
    if settled is None:
        card["cannot_show"] = [PROXY_SAYS if line == UPSTREAM_UNSEEN else line for line in card["cannot_show"]]
        return card
    # What the proxy's log would have told is told: the browser's ways to tell causes apart and to find the lines
    # are moot. What stays unseen is the application's side.
    card.update(cause=settled["cause"], confirmed=True, title=settled["title"],
                summary=process_ended(server, settled["cause"]) or settled["summary"],
                next_steps=[], cannot_show=[APP_SEEN if server else APP_NEVER if _never_reached(proxy)
                                            else APP_UNSEEN])  # the summary is the step
    return card


def _never_reached(proxy: dict) -> bool:
    """Every error line naming a cause says nginx got no request to the app (a retry may have reached one before)."""
    return all(e.get("cause") in NEVER_REACHED for e in proxy.get("error_log") or [] if e.get("cause"))


def api_diagnosis(card: dict) -> dict:
    """The API's `diagnosis` of a failed call (DESIGN): the card's cause, its words, and every line of evidence."""
    evidence = (list(card["evidence"]) + (proxy_lines(card["proxy"]) if card.get("proxy") else [])
                + (server_lines(card["server"]) if card.get("server") else []))
    return {"cause": card["cause"], "confirmed": card["confirmed"], "title": card["title"], "summary": card["summary"],
            "evidence": evidence, "matched_by": card["matched_by"]}
