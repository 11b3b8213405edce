"""Both nginx log parsers on real lines captured from nginx 1.22 (tests/core/proxy_logs/capture.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from replay.core.proxy_logs import access_log, error_log
from replay.core.proxy_logs.lines import LineError, parse_line
from replay.core.proxy_logs.syslog import parse_frame

FIXTURES = Path(__file__).parent / "fixtures"
MAX = 16384


def lines(name):
    return (FIXTURES / name).read_text().splitlines()


def errors_by_path():
    """Error-log records of the captured run, by the request path they were about."""
    found = {}
    for line in lines("error.log"):
        record = error_log.parse(line)
        if record["uri"] and record["level"] == "error":
            found.setdefault(record["uri"].split("?")[0], []).append(record)
    return found


@pytest.mark.parametrize("path,cause,errno,phase", [
    ("/fail/refused", "upstream_refused", 111, "connecting to upstream"),
    ("/fail/closed", "upstream_closed_early", None, "reading response header from upstream"),
    ("/fail/reset", "upstream_reset", 104, "reading response header from upstream"),
    ("/fail/slow", "upstream_timeout", 110, "reading response header from upstream"),
    ("/fail/connect_timeout", "upstream_connect_timeout", 110, "connecting to upstream"),
    ("/fail/dns", "upstream_dns", 3, None),
    ("/fail/big_header", "upstream_header_too_big", None, "reading response header from upstream"),
    ("/fail/no_http", "upstream_bad_response", None, "reading response header from upstream"),
    ("/fail/bad_header", "upstream_bad_response", None, "reading response header from upstream"),
    ("/fail/tls", "upstream_tls", None, "SSL handshaking to upstream"),
    ("/fail/limited", "rate_limited", None, None),
])
def test_each_captured_failure_names_its_cause(path, cause, errno, phase):
    record = errors_by_path()[path][-1]
    assert (record["cause"], record["errno"], record["phase"]) == (cause, errno, phase)
    assert record["client"] == "127.0.0.1" and record["host"].startswith("127.0.0.1:")
    assert record["method"] in ("GET", "POST") and record["uri"].startswith(path + "?q=%22quoted%22")


def test_no_live_upstreams_follows_the_refusals_that_marked_the_group_down():
    records = errors_by_path()["/fail/no_live"]
    assert [r["cause"] for r in records] == ["upstream_refused", "upstream_refused", "no_live_upstreams"]
    assert records[-1]["upstream"].startswith("http://all_down/")
    # The two refusals come from one request (one connection), the last from the next one.
    assert records[0]["connection"] == records[1]["connection"] != records[2]["connection"]


def test_an_error_line_keeps_its_parts_and_the_line_verbatim():
    line = next(l for l in lines("error.log") if "Connection refused" in l)
    record = error_log.parse(line)
    assert record["line"] == line
    assert record["level"] == "error" and record["pid"] == record["tid"] > 0 and record["connection"] == 2
    assert record["time"][:4] == line[:4] and record["time"][10] == "T"
    assert record["message"] == "connect() failed (111: Connection refused) while connecting to upstream"
    assert record["server"] is None  # nginx wrote "server: " (no server_name)
    assert record["upstream"].startswith("http://127.0.0.1:")


def test_a_message_with_commas_and_a_referrer():
    # limit_req's message holds a comma; a referrer follows the host (shape of ngx_http_log_error_handler).
    line = ('2024/11/22 10:15:03 [error] 1234#1234: *56 limiting requests, excess: 0.500 by zone "api", '
            'client: 10.0.0.7, server: shop, request: "GET /api/orders?a=1,2 HTTP/1.1", '
            'host: "shop.example", referrer: "https://shop.example/cart, page"')
    record = error_log.parse(line)
    assert record["message"] == 'limiting requests, excess: 0.500 by zone "api"'
    assert record["cause"] == "rate_limited" and record["connection"] == 56 and record["server"] == "shop"
    assert record["uri"] == "/api/orders?a=1,2" and record["referrer"] == "https://shop.example/cart, page"


def test_lines_without_a_request_or_a_connection():
    record = error_log.parse("2026/11/30 04:51:48 [notice] 17932#17932: start worker processes")
    assert record["connection"] is None and record["message"] == "start worker processes" and record["cause"] is None
    info = [error_log.parse(l) for l in lines("error.log") if "[info]" in l]
    assert {r["cause"] for r in info if "closed keepalive" in r["message"]} == {None}
    assert any(r["cause"] == "client_gone" for r in info)


def test_every_captured_access_line_parses():
    records = [access_log.parse(l) for l in lines("access.log")]
    assert len(records) == len(lines("access.log")) >= 15
    by_uri = {r["uri"].split("?")[0]: r for r in records if "gone=1" not in r["uri"]}
    refused = by_uri["/fail/refused"]
    assert refused["status"] == 502 and refused["session"] == "sess_capture_0000_abcdef"
    assert refused["connection"] == 2 and refused["method"] == "GET" and refused["host"] == "127.0.0.1"
    assert refused["upstreams"][0]["connect_ms"] is None and refused["upstreams"][0]["status"] == 502
    slow = by_uri["/fail/slow"]
    assert slow["status"] == 504 and slow["request_time_ms"] == pytest.approx(1000, abs=20)
    assert slow["upstreams"][0]["response_ms"] == pytest.approx(1000, abs=20) and slow["upstreams"][0]["header_ms"] is None
    # No session header: none; no upstream at all (DNS failed, rate limited): no upstream entries.
    assert by_uri["/fail/reset"]["session"] is None and by_uri["/fail/dns"]["upstreams"] == []
    assert by_uri["/fail/slow"]["time_ms"] > by_uri["/fail/refused"]["time_ms"] > 1_700_000_000_000
    assert by_uri["/fail/refused"]["uri"] == "/fail/refused?q=%22quoted%22&n=0"
    gone = next(r for r in records if "gone=1" in r["uri"])
    assert gone["status"] == 499 and gone["upstreams"][0]["status"] is None


def test_access_lines_of_the_failures_nginx_answers_without_a_working_upstream():
    by_uri = {}
    for line in lines("access.log"):
        record = access_log.parse(line)
        by_uri.setdefault(record["uri"].split("?")[0], []).append(record)
    # An upstream that sent no status line: nginx relays its bytes as HTTP/0.9 and logs status "009".
    [no_http] = by_uri["/fail/no_http"]
    assert no_http["status"] == 9 and no_http["upstreams"][0]["status"] == 200
    # The second request to a group whose servers were all marked failed: the group's name, no address.
    marking, no_live = by_uri["/fail/no_live"]
    assert len(marking["upstreams"]) == 2 and [u["addr"] for u in no_live["upstreams"]] == ["all_down"]
    assert no_live["status"] == 502 and no_live["upstreams"][0]["connect_ms"] is None
    # limit_req lets the first request through (rate=1r/m) and answers the second 503 itself: no upstream.
    passed, limited = by_uri["/fail/limited"]
    assert (passed["status"], limited["status"], limited["upstreams"]) == (200, 503, [])


def test_retries_are_lists_of_upstreams():
    retried = next(access_log.parse(l) for l in lines("access.log") if ", " in json.loads(l)["upstream_addr"])
    assert [u["status"] for u in retried["upstreams"]] == [502, 502]
    assert all(u["addr"].startswith("127.0.0.1:") and u["connect_ms"] is None for u in retried["upstreams"])
    # Across an internal redirect nginx separates groups with " : ".
    line = json.dumps({"v": 1, "msec": "1.5", "method": "GET", "uri": "/", "status": "502",
                       "upstream_addr": "10.0.0.1:80, 10.0.0.2:80 : 10.0.0.9:80",
                       "upstream_status": "502, 504 : 200", "upstream_connect_time": "0.001, - : 0.002"})
    ups = access_log.parse(line)["upstreams"]
    assert [(u["addr"], u["status"], u["connect_ms"]) for u in ups] == [
        ("10.0.0.1:80", 502, 1), ("10.0.0.2:80", 504, None), ("10.0.0.9:80", 200, 2)]


def test_real_syslog_frames_carry_the_tag_and_either_line():
    kinds = set()
    for datagram in lines("syslog.txt"):
        tag, message = parse_frame(datagram.encode())
        assert tag == "sk_capture_0123456789"
        kinds.add(parse_line(message, MAX)["kind"])
    assert kinds == {"access", "error"}
    # Without nohostname nginx puts its host name before the tag; a day below 10 is space-padded.
    assert parse_frame(b"<190>Nov  3 04:51:48 web-1 sk_abc: {}") == ("sk_abc", "{}")
    assert parse_frame(b"not syslog") is None and parse_frame(b"<190>Nov 30 04:51:48 \xff\xfe: x") is None


@pytest.mark.parametrize("line,reason", [
    ("", "neither"),
    ("hello", "neither"),
    ("{not json", "not JSON"),
    ("[1, 2]", "neither"),
    ('{"v":2,"msec":"1","method":"GET","uri":"/","status":"200"}', '"v":1'),
    ('{"v":1,"method":"GET","uri":"/","status":"200"}', "no msec"),
    ('{"v":1,"msec":"x","method":"GET","uri":"/","status":"200"}', "numbers"),
    ('{"v":1,"msec":"1e999","method":"GET","uri":"/","status":"200"}', "numbers"),
    ('{"v":1,"msec":"1","method":"GET","uri":"/","status":"2000"}', "status"),
    ('{"v":1,"msec":"1","method":"get it","uri":"/","status":"200"}', "method"),
    ('{"v":1,"msec":"1","method":"GET","uri":"/","status":"200","connection":"' + "9" * 5000 + '"}', None),
    ("[" * 10000, "neither"),
    ('{"v":' * 3000, "cannot read"),
    ("2024/11/22 10:15:03 [loud] 1#1: x", "error-log"),
    ("2024/11/22 10:15:03 [error] oops", "error-log"),
    ("x" * (MAX + 1), "longer"),
])
def test_malformed_lines_are_refused_with_a_reason_never_an_exception(line, reason):
    try:
        record = parse_line(line, MAX)
    except LineError as exc:
        assert reason is None or reason in str(exc)
    else:
        assert reason is None and record["kind"] == "access" and record["connection"] is None
