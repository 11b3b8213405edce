"""The cause a proxy's joined lines settle, in words: the headline says "Confirmed:", the summary what to fix.

Only an error-log line naming a cause (replay/core/proxy_logs/causes.py) settles one; an access line alone shows
what happened (status, upstream, times) but not why.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

# The directive family of the module that talked to the upstream, by the upstream URL's scheme.
PREFIX = {"http": "proxy_", "https": "proxy_", "fastcgi": "fastcgi_", "uwsgi": "uwsgi_", "scgi": "scgi_",
          "grpc": "grpc_", "grpcs": "grpc_", "memcached": "memcached_"}
TIMEOUT_BY_PHASE = (("connecting", "connect_timeout"), ("sending", "send_timeout"), ("reading", "read_timeout"))
ZONE = re.compile(r'by zone "([^"]*)"')
# "nowhere.invalid could not be resolved (3: Host not found)": the name and the resolver's answer.
UNRESOLVED = re.compile(r'(\S+) could not be resolved \((\d+: [^)]*)\)|host not found in \w+ "([^"]*)"')
MATCHED = {"session": "Matched by session (the call's X-Replay-Session header in the proxy's access log)",
           "time_url": "Matched by time and URL, not by session (the call carried no X-Replay-Session header)"}

# cause: (what happened, what to fix); {fields} in FIELDS below.
TEXTS = {
    "upstream_refused": ("{addr} refused nginx's connection: nothing listens there",
                         "Start the service that should listen on {addr}, or point the upstream at the address "
                         "it does listen on."),
    "upstream_reset": ("{addr} reset the connection",
                       "Look at what the process behind {addr} was doing at this moment: it crashed or dropped the "
                       "connection (a killed worker, a keep-alive timeout shorter than nginx's)."),
    "upstream_closed_early": ("{addr} closed the connection without answering",
                              "Find why the app at {addr} closed the connection before it answered (a crashed or "
                              "killed worker, a restart): its own log at this moment says which."),
    "upstream_timeout": ("{addr} did not answer within {setting} (nginx waited {waited})",
                         "Make the handler at {addr} answer within {setting} ({waited} here), or raise {setting} "
                         "if such a wait is expected."),
    "upstream_connect_timeout": ("connecting to {addr} timed out after {waited}",
                                 "Check that {addr} is reachable from nginx and accepts connections (a firewall "
                                 "dropping packets, a wrong address, a full accept queue); {setting} ended the wait."),
    "upstream_dns": ("the upstream's host name {name} did not resolve",
                     "Fix the upstream's host name {name} or nginx's resolver directive: the resolver answered "
                     "{answer}."),
    "upstream_header_too_big": ("{addr} sent a response header larger than {prefix}buffer_size",
                                "Raise {prefix}buffer_size (one memory page, 4k or 8k, unless set; the log does not "
                                "say its value) to fit the header, or make the app at {addr} send smaller headers "
                                "(large cookies, long redirects)."),
    "upstream_bad_response": ("{addr} answered with something that is not valid HTTP",
                              "Check that {addr} speaks plain HTTP on that port (not TLS or another protocol) and "
                              "writes a valid status line and headers."),
    "upstream_tls": ("the TLS handshake with {addr} failed",
                     "Check the proxy_ssl_* settings against {addr} (proxy_ssl_server_name on for SNI, protocols, "
                     "the certificate it presents)."),
    "no_live_upstreams": ("every server of upstream group {addr} was marked failed: nginx tried none",
                          "Bring the servers of upstream group {addr} back: the errors before this one in nginx's "
                          "log say why each was marked failed (max_fails and fail_timeout decide how long nginx "
                          "keeps away)."),
    "rate_limited": ("nginx rejected it itself: limit_req zone {zone} was over its rate, no upstream was asked",
                     "Raise the rate or burst of limit_req zone {zone} if this traffic is legitimate, or make the "
                     "page send fewer requests."),
    "client_gone": ("the browser closed the connection before nginx answered",
                    "Nothing failed on the server for this call: the page or the user gave up on it."),
}


# Texts for one kind of message of a cause: (cause, pattern searched in the line, (what happened, what to fix)).
VARIANTS = [
    ("upstream_dns", re.compile(r"could not be resolved \(3: "),
     ("the upstream's host name {name} does not exist, says nginx's resolver",
      "Fix the host name {name} in proxy_pass (or the variable that sets it), or point nginx's resolver directive "
      "at a DNS server that knows it: the resolver answered {answer}.")),
    ("upstream_dns", re.compile(r"could not be resolved \(110: "),
     ("nginx's resolver did not answer for the upstream's host name {name}",
      "Check that nginx's resolver directive names a DNS server nginx can reach, answering within "
      "resolver_timeout: it answered {answer}.")),
    ("upstream_bad_response", re.compile(r"upstream sent no valid HTTP/1\.0 header"),
     ("{addr} answered without a valid HTTP status line",
      "Check that {addr} speaks plain HTTP on that port (not TLS or another protocol) and starts each reply with a "
      "status line such as HTTP/1.1 200 OK.{relayed}")),
    ("upstream_bad_response", re.compile(r"upstream sent invalid header"),
     ("{addr} answered with a malformed response header",
      "Fix the headers the app at {addr} writes: nginx refused the one its error line quotes (a name with "
      "characters HTTP forbids, a line without a colon).")),
    ("rate_limited", re.compile(r"limiting connections"),
     ("nginx rejected it itself: limit_conn zone {zone} was over its connection count, no upstream was asked",
      "Raise the limit of limit_conn zone {zone} if this traffic is legitimate, or make the page hold fewer "
      "requests open at once.")),
]
# nginx logs a reply it relayed as HTTP/0.9 (no status line) with status 009.
RELAYED = (" nginx passed its bytes on as an HTTP/0.9 reply (status 009 in its access log), which browsers refuse: "
           "the page saw a network error.")


def texts(cause: str, line: dict) -> tuple[str, str]:
    """(what happened, what to fix) for the settling line: its message kind's own words, else its cause's."""
    text = line.get("message") or line.get("line") or ""
    return next((words for code, pattern, words in VARIANTS if code == cause and pattern.search(text)), TEXTS[cause])


def settling_line(proxy: dict | None) -> dict | None:
    """The error-log line that settles the call's cause: the last one naming a cause (nginx's final word)."""
    lines = [e for e in (proxy or {}).get("error_log") or [] if e.get("cause") in TEXTS]
    return lines[-1] if lines else None


def _ms(ms) -> str:
    return "an unrecorded time" if ms is None else f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def _fields(proxy: dict, line: dict) -> dict:
    upstream = urlsplit(line.get("upstream") or "")
    tried = [u for u in proxy.get("upstreams") or [] if u.get("addr")]
    last = tried[-1] if tried else {}
    prefix = PREFIX.get(upstream.scheme, "proxy_")
    phase = line.get("phase") or ""
    setting = next((prefix + name for word, name in TIMEOUT_BY_PHASE if phase.startswith(word)), prefix + "read_timeout")
    waited = (last.get("connect_ms") if phase.startswith("connecting") else last.get("response_ms"))
    # Stored lines keep the verbatim line, not the parsed message.
    text = line.get("message") or line.get("line") or ""
    zone, unresolved = ZONE.search(text), UNRESOLVED.search(text)
    return {"addr": upstream.netloc or last.get("addr") or "the upstream", "prefix": prefix, "setting": setting,
            "waited": _ms(waited if waited is not None else proxy.get("request_time_ms")),
            "zone": f'"{zone.group(1)}"' if zone else "(unnamed)",
            "name": (unresolved.group(1) or unresolved.group(3)) if unresolved else upstream.hostname or "(unnamed)",
            "answer": f"({unresolved.group(2)})" if unresolved and unresolved.group(2) else "that it was not found",
            "relayed": RELAYED if proxy.get("status") == 9 else ""}


def _upstream(u: dict) -> str:
    addr = u.get("addr")
    if addr and ":" not in addr:
        # An address has a port (or is unix:...); nginx writes the group's name when it found no server to try.
        return f"no server of upstream group {addr} was tried"
    return (f"upstream {addr} answered {u.get('status') if u.get('status') is not None else 'nothing'}"
            f" (connect {_ms(u.get('connect_ms'))}, header {_ms(u.get('header_ms'))}, response {_ms(u.get('response_ms'))})")


def proxy_lines(proxy: dict) -> list[str]:
    """Evidence lines of what the proxy logged: its access line in words, each error line verbatim, how matched."""
    ups = "; ".join(_upstream(u) for u in proxy.get("upstreams") or []) or "no upstream tried"
    rid = f", request id {proxy['request_id']}" if proxy.get("request_id") else ""
    status = "009 (an HTTP/0.9 reply)" if proxy.get("status") == 9 else proxy.get("status")
    out = [f"nginx access log: {status} after {_ms(proxy.get('request_time_ms'))}; {ups}{rid}"]
    out += [f"nginx error log: {e.get('line')}" for e in proxy.get("error_log") or []]
    out.append(MATCHED.get(proxy.get("matched_by"), "Matched by the proxy's log"))
    return out


def confirm(proxy: dict | None) -> dict | None:
    """{cause, confirmed, title, summary, evidence, matched_by} when the proxy's lines settle the cause, else None."""
    line = settling_line(proxy)
    if line is None:
        return None
    what, fix = texts(line["cause"], line)
    fields = _fields(proxy, line)
    return {"cause": line["cause"], "confirmed": True, "title": f"Confirmed: {what.format_map(fields)} ({line['cause']})",
            "summary": fix.format_map(fields), "evidence": proxy_lines(proxy), "matched_by": proxy.get("matched_by")}
