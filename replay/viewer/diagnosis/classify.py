"""Step two: Facts in, a Verdict out: the cause that fits (a rule of its status's family) and the kind it is a case of.

Each family is a table of rules tried in order, the first that holds wins; the qualifiers that follow name facts
which add a sentence to the summary. The words for each cause and qualifier are in texts.py.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from replay.core.failure_signs import GATEWAY_WAIT_MS
from replay.viewer.diagnosis.facts import Facts
from replay.viewer.diagnosis.vendors import CLOUDFLARE_CODES, GATEWAY

# The card's kinds: the page styles each, and a cause is always a case of one.
KINDS = ("upstream_down", "upstream_refused_or_dropped", "upstream_slow", "upstream_broken", "overloaded_or_maintenance", "gateway_timeout",
         "no_response_network", "no_response_cors_or_blocked", "aborted", "client_timeout", "client_error",
         "rate_limited", "server_error")
# A gateway error this quick did not wait on the upstream: nothing accepted the connection.
FAST_MS = 1000
# A call that failed this quick without a response likely never left the user's machine.
INSTANT_MS = 20


@dataclass(frozen=True)
class Rule:
    """When `when` holds, the call failed for `cause`, a case of `kind` (or of what `kind` makes of the facts)."""

    cause: str
    when: Callable[[Facts], bool]
    kind: str | Callable[[Facts], str]


@dataclass(frozen=True)
class Verdict:
    """Why the call failed (a rule's cause), the kind of failure that is, and the qualifiers that apply."""

    cause: str
    kind: str
    qualifiers: tuple[str, ...] = ()


def _quick(f: Facts) -> bool:
    return f.duration_ms is not None and f.duration_ms < FAST_MS


def _no_wait(f: Facts) -> bool:
    """A 502 this quick may be a refused connection, even across a slow network (failure_signs.py splits groups here)."""
    return f.duration_ms is not None and f.duration_ms < GATEWAY_WAIT_MS


def _broken_or_timed_out(f: Facts) -> str:
    return "upstream_broken" if f.status == 502 else "gateway_timeout"


def _timeout_kind(f: Facts) -> str:
    """The matched default's kind; several that disagree leave only the gateway's timeout sure."""
    kinds = {t.kind for _, t in f.timeout.rows}
    return kinds.pop() if len(kinds) == 1 else "gateway_timeout"


def _always(_: Facts) -> bool:
    return True


GATEWAY_RULES = (  # 502, 503, 504 and Cloudflare's 52x
    Rule("cloudflare_code", lambda f: f.status in CLOUDFLARE_CODES, lambda f: CLOUDFLARE_CODES[f.status].kind),
    # Cloudflare's unbranded page: by its docs the error arose at Cloudflare, not in the origin's answer.
    Rule("cloudflare_itself", lambda f: f.relayed_by_cloudflare and "<center>cloudflare</center>" in f.body.lower(),
         _broken_or_timed_out),
    Rule("origin_behind_cloudflare", lambda f: f.relayed_by_cloudflare, _broken_or_timed_out),
    # Apps answer a gateway status themselves when a service they call fails.
    Rule("app_answered_gateway", lambda f: f.app_answered and f.maker is None, "server_error"),
    Rule("body_names_cause", lambda f: f.hint is not None, lambda f: f.hint.kind),
    Rule("default_timeout", lambda f: f.timeout is not None, _timeout_kind),
    # Refused and dropped connections both answer at once: the browser's evidence cannot tell them apart.
    Rule("instant_502", lambda f: f.status == 502 and _no_wait(f), "upstream_refused_or_dropped"),
    Rule("untimed_502", lambda f: f.status == 502 and f.duration_ms is None, "upstream_refused_or_dropped"),
    Rule("bad_gateway", lambda f: f.status == 502, "upstream_broken"),
    # A 504 with no long wait was relayed from a proxy further behind.
    Rule("instant_504", lambda f: f.status == 504 and _quick(f), "gateway_timeout"),
    Rule("configured_timeout", lambda f: f.status == 504, "gateway_timeout"),
    Rule("unavailable", _always, "overloaded_or_maintenance"),  # 503: the rest are taken above
)
CLIENT_RULES = (  # 4xx
    Rule("rate_limited", lambda f: f.status == 429, "rate_limited"),
    Rule("refused", _always, "client_error"),
)
SERVER_RULES = (  # any other status
    Rule("proxy_error_page", lambda f: f.maker is not None, "server_error"),
    Rule("app_raised", _always, "server_error"),
)
NO_RESPONSE_RULES = (  # status 0
    Rule("aborted", lambda f: f.error == "abort", "aborted"),
    Rule("client_timeout", lambda f: f.error == "timeout", "client_timeout"),
    Rule("mixed_content", lambda f: f.mixed_content, "no_response_cors_or_blocked"),
    Rule("cors_or_blocked", lambda f: f.same_origin is False, "no_response_cors_or_blocked"),
    Rule("connection_failed", _always, "no_response_network"),
)
# Causes where the browser hid which network error it was.
HIDDEN_ERRORS = ("mixed_content", "cors_or_blocked", "connection_failed")

QUALIFIERS = (  # (name, when), in the order their sentences follow the summary
    ("answered_with_own_page", lambda f, v: v.cause in ("rate_limited", "refused") and f.maker is not None),
    ("retry_after", lambda f, v: bool(f.retry_after) and v.kind in ("overloaded_or_maintenance", "rate_limited")),
    ("page_origin_unknown", lambda f, v: v.cause in HIDDEN_ERRORS and f.same_origin is None),
    ("never_left", lambda f, v: v.cause in HIDDEN_ERRORS and f.duration_ms is not None
     and f.duration_ms < INSTANT_MS),
)


def family(status: int) -> tuple[Rule, ...]:
    """The rules for calls with this status."""
    if not status:
        return NO_RESPONSE_RULES
    if status in GATEWAY or status in CLOUDFLARE_CODES:
        return GATEWAY_RULES
    return CLIENT_RULES if 400 <= status < 500 else SERVER_RULES


def classify(facts: Facts) -> Verdict:
    """The first rule of the call's family that holds, and the qualifiers that apply to it."""
    rule = next(r for r in family(facts.status) if r.when(facts))
    verdict = Verdict(rule.cause, rule.kind(facts) if callable(rule.kind) else rule.kind)
    return replace(verdict, qualifiers=tuple(name for name, when in QUALIFIERS if when(facts, verdict)))
