"""The confirmed cause in words, from real nginx lines (tests/core/proxy_logs/fixtures) joined as the worker joins them."""
from __future__ import annotations

from pathlib import Path

import pytest

from replay.core.evidence.confirm import confirm
from replay.core.evidence.join import errors_of
from replay.core.evidence.proxy import mask_line, proxy_entry
from replay.core.proxy_logs import access_log, error_log

FIXTURES = Path(__file__).parent.parent / "proxy_logs" / "fixtures"


def joined(path: str, matched_by="session") -> dict:
    accesses = [access_log.parse(line) for line in (FIXTURES / "access.log").read_text().splitlines()]
    errors = [error_log.parse(line) for line in (FIXTURES / "error.log").read_text().splitlines()]
    # The last request to the path: /fail/no_live's second (the first marked the group failed), /fail/limited's 503.
    found = [a for a in accesses if a["uri"].split("?")[0] == path and "gone=1" not in a["uri"]][-1]
    return proxy_entry(found, [e for e in errors_of(found, errors) if e["level"] != "info"], matched_by, 10)


@pytest.mark.parametrize("path,cause,words", [
    ("/fail/refused", "upstream_refused", ["refused nginx's connection", "Start the service that should listen on 127.0.0.1:"]),
    ("/fail/closed", "upstream_closed_early", ["closed the connection without answering"]),
    ("/fail/reset", "upstream_reset", ["reset the connection"]),
    ("/fail/slow", "upstream_timeout", ["within proxy_read_timeout (nginx waited 1.0 s)", "raise proxy_read_timeout"]),
    ("/fail/big_header", "upstream_header_too_big", ["Raise proxy_buffer_size", "the log does not say its value"]),
    ("/fail/no_http", "upstream_bad_response", ["without a valid HTTP status line", "HTTP/0.9", "status 009"]),
    ("/fail/bad_header", "upstream_bad_response", ["malformed response header", "Fix the headers the app at 127.0.0.1:"]),
    ("/fail/tls", "upstream_tls", ["TLS handshake with 127.0.0.1:"]),
    ("/fail/dns", "upstream_dns", ["host name nowhere.invalid does not exist", "(3: Host not found)", "resolver"]),
    ("/fail/connect_timeout", "upstream_connect_timeout", ["proxy_connect_timeout"]),
    ("/fail/no_live", "no_live_upstreams", ["every server of upstream group all_down was marked failed",
                                            "Bring the servers of upstream group all_down back"]),
    ("/fail/limited", "rate_limited", ['limit_req zone "tight" was over its rate, no upstream was asked',
                                       'Raise the rate or burst of limit_req zone "tight"']),
])
def test_a_joined_error_line_confirms_the_cause_and_says_what_to_fix(path, cause, words):
    d = confirm(joined(path))
    assert (d["cause"], d["confirmed"], d["matched_by"]) == (cause, True, "session")
    assert d["title"].startswith("Confirmed: ") and d["title"].endswith(f"({cause})")
    text = d["title"] + " " + d["summary"]
    assert all(w in text for w in words), text
    assert any(e.startswith("nginx error log: ") and path in e for e in d["evidence"])
    assert d["evidence"][-1].startswith("Matched by session")


def test_what_nginx_tried_in_words():
    # Every server of the group marked failed: nginx logs the group's name where an address would be.
    assert "no server of upstream group all_down was tried, request id" in confirm(joined("/fail/no_live"))["evidence"][0]
    assert "; no upstream tried, request id" in confirm(joined("/fail/limited"))["evidence"][0]
    assert confirm(joined("/fail/no_http"))["evidence"][0].startswith("nginx access log: 009 (an HTTP/0.9 reply) after")
    # A limit_conn line, and a resolver that never answered, have their own words.
    line = {"cause": "rate_limited", "line": '2026/11/30 04:52:08 [error] 1#1: *3 limiting connections by zone "addr", '
            'client: 127.0.0.1, server: , request: "GET / HTTP/1.1", host: "x"'}
    assert 'limit_conn zone "addr"' in confirm({"status": 503, "error_log": [line]})["title"]
    line = {"cause": "upstream_dns", "line": "2026/11/30 04:52:08 [error] 1#1: *3 api.internal could not be resolved "
            '(110: Operation timed out), client: 127.0.0.1, server: , request: "GET / HTTP/1.1", host: "x"'}
    d = confirm({"status": 502, "error_log": [line]})
    assert "resolver did not answer for the upstream's host name api.internal" in d["title"]
    assert "(110: Operation timed out)" in d["summary"]


def test_an_access_line_alone_confirms_nothing():
    entry = joined("/fail/refused", "time_url")
    assert confirm({**entry, "error_log": []}) is None
    assert confirm(None) is None


def test_raw_secrets_in_a_verbatim_line_are_masked():
    line = ('2026/11/30 04:52:06 [error] 1#1: *2 connect() failed (111: Connection refused) while connecting to '
            'upstream, client: 127.0.0.1, server: , request: "GET /a?api_key=s3cr3t&n=1 HTTP/1.1", '
            'upstream: "http://127.0.0.1:9/a?api_key=s3cr3t&n=1", host: "x"')
    masked = mask_line(line)
    assert "s3cr3t" not in masked and masked.count("api_key=[masked]&n=1") == 2
