"""The join: nginx's access records to a session's recorded calls, and error-log records to access records.

Pure functions over plain dicts (docs/proxy-logs.md has the records). Times on two clocks: a recorded call's
are the browser's, an access record's the proxy's. Each window's offset (proxy clock minus browser clock) is
estimated from when its batches arrived (`window_offset`); a call's start moved by its window's offset is then
matched to the access record's request start (`time_ms - request_time_ms`) within a tolerance.
"""
from __future__ import annotations

from datetime import datetime, timezone

from replay.core.redact import mask_query
from replay.core.urls import parts as split_url

# nginx names no zone in its error log; zones are whole quarters of an hour off UTC.
ZONE_STEP_MS = 15 * 60 * 1000
# The error log's time has whole seconds; nginx's cached clock may lag its access time by a little more.
ERROR_SLACK_MS = 1000


def window_offset(batches: list[tuple[int, list[int]]]) -> int | None:
    """Proxy-side clock minus browser clock for one window, from (received_ms, event timestamps) per batch.

    A batch is sent after its last event, so received_ms - last event >= the true offset; the smallest
    over the batches is the tightest estimate (late by the quickest send's delay, never early).
    """
    found = [received - max(stamps) for received, stamps in batches if stamps and received is not None]
    return min(found) if found else None


def url_key(url: str | None) -> str | None:
    """Path and query (secret values masked as the recorded calls have them), no scheme, host or fragment."""
    if not url:
        return None
    if url.startswith("/"):
        path_query = url.split("#", 1)[0]
    else:
        parsed = split_url(url)
        if not parsed.netloc:
            return None
        path_query = (parsed.path or "/") + (f"?{parsed.query}" if parsed.query else "")
    return mask_query(path_query)


def _host(url: str | None) -> str | None:
    return (split_url(url or "").hostname or "").lower() or None


def _start(record: dict) -> int:
    return record["time_ms"] - (record.get("request_time_ms") or 0)


def _distance(call: dict, offset: int, record: dict, tolerance_ms: int, by_host: bool) -> int | None:
    """How far apart the call and the access record are in time (ms), or None when they cannot be one request."""
    if call.get("method") and call["method"] != record.get("method"):
        return None
    if call.get("status") and call["status"] != record.get("status"):
        return None  # a response reached the browser: the proxy logged that very status
    if by_host and _host(call.get("url")) != (record.get("host") or "").rsplit(":", 1)[0]:
        return None
    if call.get("start_ms") is not None:
        d = _start(record) - (call["start_ms"] + offset)
    elif call.get("ts") is not None:
        d = record["time_ms"] - (call["ts"] + offset)
    else:
        return None
    return abs(d) if abs(d) <= tolerance_ms else None


def _call_time(call: dict, offset: int) -> int:
    return (call["start_ms"] if call.get("start_ms") is not None else call.get("ts") or 0) + offset


def join_access(calls: list[dict], offsets: dict[str, int | None], records: list[dict], tolerance_ms: int,
                by_host: bool = False) -> dict[str, dict]:
    """{call id: access record}: each record joins at most one call and each call at most one record.

    Calls and records of one URL are aligned in time order (one browser's requests reach the proxy in the order
    they were sent), joining as many as the tolerance allows and, among those alignments, the closest in time:
    a clock estimate that is off by a second cannot swap two calls to one URL sent a second apart.
    """
    groups: dict[str, tuple[list, list]] = {}
    for call in calls:
        key = url_key(call.get("url"))
        if key is not None and call.get("id"):
            groups.setdefault(key, ([], []))[0].append(call)
    for record in records:
        key = url_key(record.get("uri"))
        if key in groups and record.get("time_ms") is not None:
            groups[key][1].append(record)
    joined: dict[str, dict] = {}
    for group_calls, group_records in groups.values():
        group_calls.sort(key=lambda c: _call_time(c, offsets.get(c.get("window")) or 0))
        group_records.sort(key=_start)
        for call, record in _align(group_calls, group_records, offsets, tolerance_ms, by_host):
            joined[call["id"]] = record
    return joined


def _align(calls: list[dict], records: list[dict], offsets: dict, tolerance_ms: int, by_host: bool) -> list:
    """The order-keeping pairing with the most pairs, then the least total distance (a small edit-distance DP)."""
    n, m = len(calls), len(records)
    skip_call = tolerance_ms + 1  # a pair never costs more than leaving its call alone
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    step = [[""] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        cost[i][0], step[i][0] = cost[i - 1][0] + skip_call, "c"
    for j in range(1, m + 1):
        step[0][j] = "r"
    for i in range(1, n + 1):
        off = offsets.get(calls[i - 1].get("window")) or 0
        for j in range(1, m + 1):
            best, how = cost[i - 1][j] + skip_call, "c"
            if cost[i][j - 1] < best:
                best, how = cost[i][j - 1], "r"  # a record of no recorded failed call (a success, another tab)
            d = _distance(calls[i - 1], off, records[j - 1], tolerance_ms, by_host)
            if d is not None and cost[i - 1][j - 1] + d < best:
                best, how = cost[i - 1][j - 1] + d, "p"
            cost[i][j], step[i][j] = best, how
    pairs, i, j = [], n, m
    while i and j:
        how = step[i][j]
        if how == "p":
            pairs.append((calls[i - 1], records[j - 1]))
            i, j = i - 1, j - 1
        elif how == "c":
            i -= 1
        else:
            j -= 1
    return pairs[::-1]


def _local_ms(text: str | None) -> int | None:
    try:
        return int(datetime.strptime(text or "", "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp() * 1000)
    except ValueError:
        return None


def errors_of(access: dict, errors: list[dict]) -> list[dict]:
    """The error records of the access record's request: its nginx connection, within its time, in log order.

    The error log's time is nginx's local time with no zone: the zone is taken as the whole quarter hour that
    brings it nearest the access record, then the time must fall inside the request (to the second).
    Connection numbers restart with nginx and repeat across hosts, hence the time; when both records name
    the host that sent them (syslog), they must name the same one; and a browser sends request after request on
    one kept-alive connection, so an error line naming its request must name this one.
    """
    if access.get("connection") is None:
        return []
    start, end = _start(access), access["time_ms"]
    found = []
    for error in errors:
        if error.get("connection") != access["connection"]:
            continue
        if access.get("source") and error.get("source") and access["source"] != error["source"]:
            continue
        # A keep-alive connection carries one request after another, within the second the time tells apart:
        # the error line names its request (both are the raw request line's URI).
        if error.get("uri") and (error["uri"] != access.get("uri") or error.get("method") != access.get("method")):
            continue
        local = _local_ms(error.get("time"))
        if local is None:
            continue
        at = local - round((local - end) / ZONE_STEP_MS) * ZONE_STEP_MS
        if start - start % 1000 - ERROR_SLACK_MS <= at <= end + ERROR_SLACK_MS:
            found.append(error)
    return found
