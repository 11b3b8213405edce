"""One proxy log line, whichever of nginx's two logs wrote it: the kind is told by its first character."""
from __future__ import annotations

from replay.core.proxy_logs import access_log, error_log

PARSERS = ((access_log.looks_like, access_log.parse, access_log.AccessLineError),
           (error_log.looks_like, error_log.parse, error_log.ErrorLogLineError))


class LineError(ValueError):
    """Why a line was refused (the message is what the client is told)."""


def parse_line(line: str, max_chars: int) -> dict:
    """The line's record (kind "access" or "error"); raises LineError."""
    line = line.rstrip("\r\n")
    if len(line) > max_chars:
        raise LineError(f"longer than {max_chars} characters")
    for looks_like, parse, error in PARSERS:
        if looks_like(line):
            try:
                return parse(line)
            except error as exc:
                raise LineError(str(exc)) from None
            except (ValueError, OverflowError, RecursionError) as exc:
                # Numbers too long or infinite, JSON nested too deep: nginx writes none of these.
                raise LineError(f"cannot read this line: {type(exc).__name__}") from None
    raise LineError("neither an access-log JSON object nor an nginx error-log line")
