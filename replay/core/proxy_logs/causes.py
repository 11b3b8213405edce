"""What an nginx error-log message says went wrong: one named pattern per message kind, mapped to DESIGN's causes.

Order matters: the first pattern that matches names the cause. A message none matches has no cause (None):
it is kept verbatim, but settles nothing.
"""
from __future__ import annotations

import re

# (cause code of DESIGN, pattern searched in the message). Source: the messages of nginx's
# ngx_http_upstream.c, ngx_http_proxy_module.c, ngx_event_openssl.c, ngx_resolver.c, ngx_http_limit_*_module.c.
CAUSES: list[tuple[str, re.Pattern]] = [(code, re.compile(pattern)) for code, pattern in [
    # connect() failed (111: Connection refused) while connecting to upstream
    ("upstream_refused", r"\(111: Connection refused\)"),
    # recv() failed (104: Connection reset by peer) while reading response header from upstream (or writev, readv)
    ("upstream_reset", r"\(104: Connection reset by peer\)(?! while (?:sending to|reading) client)"),
    # upstream prematurely closed connection while reading response header from upstream
    ("upstream_closed_early", r"^upstream prematurely closed connection"),
    # upstream timed out (110: Connection timed out) while connecting to upstream
    ("upstream_connect_timeout", r"^upstream timed out \(110: [^)]*\) while connecting to upstream"),
    # upstream timed out (110: Connection timed out) while reading response header from upstream (or sending, reading)
    ("upstream_timeout", r"^upstream timed out \("),
    # nowhere.invalid could not be resolved (3: Host not found); host not found in upstream "x" (at reload)
    ("upstream_dns", r"could not be resolved \(\d+: |^host not found in (?:resolver|upstream)"),
    ("upstream_header_too_big", r"^upstream sent too big header"),
    # upstream sent no valid HTTP/1.0 header; upstream sent invalid header: "..."; invalid status; invalid chunked
    ("upstream_bad_response", r"^upstream sent (?:no valid|invalid|unexpected|duplicate|more data)"),
    # SSL_do_handshake() failed (SSL: ...) while SSL handshaking to upstream; upstream SSL certificate verify error
    ("upstream_tls", r"while SSL handshaking to upstream|^upstream SSL certificate|SSL_(?:read|write)\(\) failed .* upstream"),
    ("no_live_upstreams", r"^no live upstreams"),
    # limiting requests, excess: 1.000 by zone "one"; limiting connections by zone "addr"
    ("rate_limited", r"^limiting (?:requests|connections)"),
    # epoll_wait() reported that client prematurely closed connection, so upstream connection is closed too
    ("client_gone", r"client prematurely closed connection"),
]]


def cause_of(message: str) -> str | None:
    for code, pattern in CAUSES:
        if pattern.search(message):
            return code
    return None
