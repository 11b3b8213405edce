"""nginx error-log lines: `2024/11/22 10:15:03 [error] 1234#1234: *56 MESSAGE, client: A, server: S, request: "R", ...`.

The message may hold commas (`limiting requests, excess: ...`), so the context nginx appends
(ngx_http_log_error_handler: client, server, request, subrequest, upstream, host, referrer) is
read from the first `, client: ` after which the rest of the line is exactly that context.
"""
from __future__ import annotations

import re

from replay.core.proxy_logs.causes import cause_of

HEAD = re.compile(r"\A(?P<date>\d{4}/\d\d/\d\d) (?P<clock>\d\d:\d\d:\d\d) \[(?P<level>[a-z]+)\] "
                  r"(?P<pid>\d+)#(?P<tid>\d+): (?:\*(?P<connection>\d+) )?(?P<rest>.*)\Z", re.S)
CONTEXT = re.compile(r", client: (?P<client>[^,]*), server: (?P<server>[^,]*)"
                     r"(?:, login: \"(?P<login>.*?)\")?(?:, request: \"(?P<request>.*?)\")?"
                     r"(?:, subrequest: \"(?P<subrequest>.*?)\")?(?:, upstream: \"(?P<upstream>.*?)\")?"
                     r"(?:, host: \"(?P<host>.*?)\")?(?:, referrer: \"(?P<referrer>.*?)\")?\Z", re.S)
ERRNO = re.compile(r"\((?P<errno>\d+): (?P<strerror>[^)]*)\)")
PHASE = re.compile(r" while (?P<phase>[a-zA-Z ]+?)\Z")
REQUEST = re.compile(r"\A(?P<method>[A-Z]+) (?P<uri>\S+)(?: HTTP/[\d.]+)?\Z")
LEVELS = ("debug", "info", "notice", "warn", "error", "crit", "alert", "emerg")


class ErrorLogLineError(ValueError):
    """The line is no nginx error-log line."""


def looks_like(line: str) -> bool:
    return len(line) > 20 and line[4] == "/" and line[:4].isdigit()


def parse(line: str) -> dict:
    """The line's parts as a record (kind "error"); raises ErrorLogLineError."""
    head = HEAD.match(line)
    if not head or head["level"] not in LEVELS:
        raise ErrorLogLineError("not an nginx error-log line (time [level] pid#tid: message)")
    rest = head["rest"]
    message, context = rest, {}
    start = rest.find(", client: ")
    while start != -1:
        found = CONTEXT.match(rest, start)
        if found:
            message, context = rest[:start], found.groupdict()
            break
        start = rest.find(", client: ", start + 1)
    record = {
        "kind": "error",
        # nginx writes its host's local time with no zone: kept as written; the join places it by its connection.
        "time": head["date"].replace("/", "-") + "T" + head["clock"],
        "level": head["level"],
        "pid": int(head["pid"]),
        "tid": int(head["tid"]),
        "connection": int(head["connection"]) if head["connection"] else None,
        "message": message,
        "cause": cause_of(message),
        "line": line,
    }
    errno, phase = ERRNO.search(message), PHASE.search(message)
    record["errno"] = int(errno["errno"]) if errno else None
    record["phase"] = phase["phase"] if phase else None
    for name in ("client", "server", "request", "upstream", "host", "referrer"):
        value = context.get(name)
        record[name] = value if value not in (None, "") else None
    request = REQUEST.match(record["request"] or "")
    record["method"], record["uri"] = (request["method"], request["uri"]) if request else (None, None)
    return record
