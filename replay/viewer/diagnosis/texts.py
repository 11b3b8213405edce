"""The card's words: a Text per cause, and lines keyed by kind, status or qualifier. Data only.

{fields} are filled in by explain.py: status, phrase, took, at (", about <the timeout it matched>" or ""), by (who
answered, as a sentence's subject), owner (the maker's name), hint, meaning (of a Cloudflare code), note (of a 4xx),
timeout_means, setting, wait, origin, host, origin_header, quoted_url, proxy, ids.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    """The words for one cause."""

    summary: str
    headline: str = ""  # after "<status> <phrase>: " in the title; "" takes the kind's
    title: str = ""  # a whole title, for calls without a status
    cannot_show: tuple[str, ...] = ()
    next_steps: tuple[str, ...] = ()


NETWORK_ERROR_HIDDEN = ("Which network error it was: the browser's own message (e.g. net::ERR_CONNECTION_REFUSED or "
                        "the CORS error in DevTools) is hidden from page scripts, so it is not recorded.")
CHECK_THE_NETWORK = ("From the user's network, check DNS, the connection and the TLS certificate of {host}, and "
                     "whether ad blockers match this URL.")

REFUSED_OR_DROPPED = (
    "Whether the upstream refused the connection or accepted it and dropped it: both answer at once. The proxy's "
    "error log says which: nginx writes 'connect() failed (111: Connection refused) while connecting to upstream' "
    "for a refused connection, and 'upstream prematurely closed connection while reading response header from "
    "upstream' for a dropped one.")
TELL_APART = (
    "Tell them apart by the proxy's error log at that time (above), and by timing: a refused connection fails "
    "every call at once, from the first, while calls to an upstream that drops connections fail after it worked "
    "(earlier calls answered, or it worked on this one for a while: a 502 after several seconds is never a "
    "refused connection).")

TEXTS = {
    # gateway errors
    "cloudflare_code": Text("Cloudflare answered {status}: {meaning}.", headline="Cloudflare says {meaning}"),
    "cloudflare_itself": Text(
        "Cloudflare's unbranded {status} page: by Cloudflare's docs the error arose at Cloudflare, not in an answer "
        "from your origin (e.g. broken compressed content from the origin, or a Cloudflare issue).",
        headline="an error at Cloudflare"),
    "origin_behind_cloudflare": Text(
        "Cloudflare's own {status} page: likely your origin answered {status} and Cloudflare showed its page instead, "
        "so whatever failed is at or behind your origin. It came after {took}{at}.",
        headline="your origin failed", cannot_show=("What your origin's own error said: Cloudflare replaced it.",)),
    "app_answered_gateway": Text(
        "The application itself answered {status} (not a proxy's page): apps usually do that when a service they "
        "call failed or is unavailable.", headline="the application answered {status} itself"),
    "body_names_cause": Text("{by} answered {status} after {took}{at}: the body says {hint}.",
                             headline="the body says {hint_short}"),
    "default_timeout": Text("{by} answered {status} after {took}{at}: {timeout_means}"),
    "instant_502": Text(
        "{by} answered 502 after {took}. Two causes answer this fast and look the same from the browser: nothing "
        "accepted the proxy's connection (the upstream down, not listening, or refusing), or the upstream accepted "
        "it and dropped it before answering (a crash, or a worker killed mid-request). An invalid answer sent at "
        "once looks the same too.",
        cannot_show=(REFUSED_OR_DROPPED,), next_steps=(TELL_APART,)),
    "untimed_502": Text(
        "{by} answered 502; how long it took was not recorded, so nothing tells a refused connection (which answers "
        "at once) from an upstream that accepted the request and then dropped the connection or answered badly.",
        headline="the upstream refused or dropped the connection, or answered badly",
        cannot_show=(REFUSED_OR_DROPPED,), next_steps=(TELL_APART,)),
    "bad_gateway": Text(
        "{by} answered 502 after {took}. A refused connection answers at once, so the upstream had accepted the "
        "request; then it closed the connection or crashed before a complete answer, or sent an invalid one.",
        cannot_show=("Which of those it was: the proxy's error log says (nginx: 'upstream prematurely closed "
                     "connection' when the upstream dropped it, 'upstream sent invalid header' for a bad answer).",)),
    "instant_504": Text(
        "{by} answered 504 after {took}: it timed out waiting for the upstream. A 504 this quick was not a long wait "
        "on this request: likely relayed from a proxy further behind."),
    "configured_timeout": Text(
        "{by} answered 504 after {took}: it timed out waiting for the upstream. That is not a default timeout we "
        "recognise: check the timeout it is configured with."),
    "unavailable": Text(
        "{by} answered 503 Service Unavailable: the service is likely overloaded, in maintenance, without a healthy "
        "upstream, or rate limiting."),
    # client errors
    "rate_limited": (REFUSED := Text(
        "The server refused the request: {note}.",
        cannot_show=("Exactly why it was refused, beyond what the body says: that is in the server's logs.",))),
    "refused": REFUSED,
    # server errors
    "proxy_error_page": Text(
        "{owner} answered {status} with its own error page: it failed itself, or replaced the application's error "
        "page.", headline="{owner} answered with its own error page"),
    "app_raised": Text("The application answered {status} {phrase}: it likely raised an error while handling the "
                       "request."),
    # no response
    "aborted": Text(
        "The page cancelled this request after {took}, before any answer arrived: an AbortController, a newer request "
        "replacing it, or the user leaving the page. The server may still have received and handled it.",
        title="Cancelled by the page",
        cannot_show=("Why the page cancelled it (see the timeline just before), and whether the server finished the "
                     "request.",),
        next_steps=("Check the timeline just before for a navigation, a route change or a repeated request for the "
                    "same data.",)),
    "client_timeout": Text(
        "The page's own time limit (an XHR timeout or AbortSignal.timeout) fired after {took}, before any answer "
        "arrived: the server was slow or unreachable, and the page cannot tell which.",
        title="The page's own timeout fired",
        cannot_show=("Whether the server received the request, and what it would have answered.",),
        next_steps=("Find that limit in the page's code (xhr.timeout, AbortSignal.timeout) and compare it with how "
                    "long this endpoint usually takes.",)),
    "mixed_content": Text(
        "The page is HTTPS and this URL is plain HTTP: browsers block such mixed-content requests, which is likely "
        "why there was no response.",
        title="No response: likely blocked as mixed content", cannot_show=(NETWORK_ERROR_HIDDEN,),
        next_steps=("Request it over HTTPS.", CHECK_THE_NETWORK)),
    "cors_or_blocked": Text(
        "The browser gave the page no response for this cross-origin request to {origin}. Most often that is CORS: "
        "the answer (a proxy's 502 page included) had no Access-Control-Allow-Origin for this page, or the preflight "
        "failed. DNS, a refused connection, TLS, an ad blocker or being offline look the same.",
        title="No response: likely CORS or blocked", cannot_show=(NETWORK_ERROR_HIDDEN,),
        next_steps=("Check CORS: curl -i -H {origin_header} {quoted_url} should answer with "
                    "Access-Control-Allow-Origin, on errors and on the OPTIONS preflight too.", CHECK_THE_NETWORK)),
    "connection_failed": Text(
        "The browser got no HTTP response at all: a DNS failure, a refused or reset connection, a TLS error, the "
        "user being offline, or an extension blocking it.",
        title="No response: the connection failed", cannot_show=(NETWORK_ERROR_HIDDEN,),
        next_steps=(CHECK_THE_NETWORK,)),
}

QUALIFIERS = {  # a sentence each, added to the summary (classify.py says when)
    "answered_with_own_page": " {owner} answered with its own page, so the application likely never saw it.",
    "retry_after": " It asked the client to retry after {wait}.",
    "page_origin_unknown": " If the page was on another origin, CORS is the most common cause.",
    "never_left": " It failed within {took}, too quick for a round trip to a remote server: likely it never left the "
                  "browser (offline, blocked by an extension or policy, or refused on the spot).",
}

HEADLINES = {  # by kind; a 4xx without one takes its client note's. Each claims no more than its rules' evidence.
    "upstream_down": "could not connect to the upstream",
    "upstream_refused_or_dropped": "the upstream refused or dropped the connection",
    "upstream_slow": "the upstream did not answer in time",
    "upstream_broken": "the upstream dropped the connection or sent a bad answer",
    "overloaded_or_maintenance": "unavailable: overloaded, in maintenance, without a healthy upstream or rate limiting",
    "gateway_timeout": "the gateway timed out waiting for the upstream",
    "server_error": "the server failed while handling it",
}

TIMEOUT_MEANS = {  # by the kind of the default timeout a gateway error ended at
    "upstream_down": "it likely could not connect to the upstream in time (down or unreachable).",
    "upstream_slow": "the upstream likely accepted the request but was too slow to answer (a connect that timed out "
                     "can end at the same time: nginx's error log says '... while connecting to upstream' then).",
    "gateway_timeout": "the upstream was too slow or unreachable.",
}

UPSTREAM_UNSEEN = "Why the upstream failed: check the upstream's own logs and the proxy's error log at that time."
CANNOT_SHOW_BY_KIND = {kind: UPSTREAM_UNSEEN for kind in (
    "upstream_down", "upstream_refused_or_dropped", "upstream_slow", "upstream_broken", "gateway_timeout", "overloaded_or_maintenance")}

STEPS_BY_STATUS = {  # taken before the kind's
    401: "Check how the page handles an expired login: refresh the credentials or send the user to sign in.",
    413: "Raise the body-size limit (nginx: client_max_body_size) or send smaller uploads.",
    525: "Check the origin's TLS setup against Cloudflare's SSL mode (Full or Full (strict)).",
    526: "Check the origin's certificate: Full (strict) needs a valid one for this host name.",
}
STEPS_BY_KIND = {
    "upstream_down": "Check the upstream is running and listening where the proxy sends it (curl it from the proxy "
                     "host), and look for a deploy, restart, crash or OOM kill at that time.",
    "upstream_refused_or_dropped": "Check the upstream is running and listening where the proxy sends it (curl it "
                                   "from the proxy host), and look for a deploy, restart, crash, killed worker or "
                                   "OOM kill at that time.",
    "upstream_slow": "Find this request in the upstream's logs and see where the time went; raise {setting} only if "
                     "the work needs longer, otherwise make it faster or move it to a background job.",
    "upstream_broken": "Look for a crash, restart or killed worker in the upstream at that time (e.g. gunicorn "
                       "'WORKER TIMEOUT', the OOM killer).",
    "overloaded_or_maintenance": "Check the upstream's health checks, capacity, and any maintenance or rate-limit "
                                 "rule at that time.",
    "gateway_timeout": "Check the timeout the gateway is configured with, and how long the upstream took.",
    "server_error": "Find the exception in the application's logs at that time.",
    "client_error": "Read the body for the server's reason, and compare it with the request the page sent.",
    "rate_limited": "Check the rate-limit rule that matched, and whether the page retries too eagerly.",
}

# Lines that depend on a response's facts rather than its cause.
UNCONFIRMED_PROXY = ("Whether {proxy} made this response or passed it on from a server behind it: the body holds no "
                     "error page to tell.")
HEADERS_HIDDEN = ("Headers hidden from the page: a cross-origin response shows only CORS-safelisted headers unless the "
                  "server lists others in Access-Control-Expose-Headers.")
BODY_CUT = "The rest of the body: it was cut when recorded."
RECOVERED = ("Its method, headers and body: the call started before the snippet did and was recovered from the "
             "browser's resource timing, which keeps only the URL, the timing and the status. Who answered, and "
             "why, can only come from the status and timing.")
SEARCH_REQUEST_IDS = "Search the proxy's and upstream's logs for the request id ({ids})."
