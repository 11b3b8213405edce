"""The proxy log search that joins a call to the replay, stated only as far as it is known.

The snippet sends X-Replay-Session on same-origin calls only. So the search is stated as fact when the request named
the header or the call was same-origin, offered as conditional when the page's origin is unknown, and replaced by a
search by time and URL for a cross-origin call.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from replay.viewer.diagnosis.facts import Facts, origin
from replay.core.urls import parts as split

HEADER = "X-Replay-Session"


@dataclass(frozen=True)
class LogSearch:
    step: str  # the card's first next step
    evidence: tuple[str, ...]
    cannot_show: tuple[str, ...]


def log_search(f: Facts) -> LogSearch:
    """How to find this call's line in the proxy's access log."""
    sid = f.search_id
    # Quoted by hand when it is safe, so the usual command reads as people type it.
    grep = "grep " + (f"'session={sid}'" if re.fullmatch(r"[\w.-]+", sid) else shlex.quote(f"session={sid}"))
    at = f" around {f.sent_at}" if f.sent_at else ""
    sent_at = (f"Sent at {f.sent_at}",) if f.sent_at else ()
    what = " ".join(filter(None, (f.method, split(f.url).path or "/")))  # a recovered call has no known method
    if f.recovered:
        where = f"{origin(f.url)}'s" if split(f.url).netloc else "the"
        return LogSearch(f"Search {where} access log for {what}{at}.", sent_at,
                         (f"A log line to join on: the call started before the snippet could add {HEADER}; match "
                          "by time and URL instead.",))
    if f.header_sent or f.same_origin:
        carried = (f"The request carried {HEADER}: {sid}" if f.header_sent else
                   f"Same-origin request, so the snippet sent {HEADER}: {sid} (unless its correlation option is off "
                   "or limited to other paths)")
        # Without a status the request may never have reached the proxy; nginx logs an abandoned one as 499.
        lead = "Search" if f.status else "If the request reached your proxy{}, search".format(
            " (nginx logs one the client gave up on as 499)" if f.error == "abort" else "")
        return LogSearch(f"{lead} your proxy's access log for {HEADER} {sid}{at}: {grep} access.log (logging "
                         "$http_x_replay_session as session=, see the README).", (*sent_at, carried), ())
    if f.same_origin is None:
        return LogSearch(f"If the page was on {origin(f.url)}, the request carried {HEADER}: {sid}; search that "
                         f"proxy's access log{at}: {grep} access.log.", sent_at,
                         (f"Whether the request carried {HEADER}: the page's origin is not known.",))
    return LogSearch(f"Search {origin(f.url)}'s access log for {what}{at}.", sent_at,
                     (f"A log line to join on: cross-origin requests do not carry {HEADER}; match by time and URL "
                      "instead.",))
