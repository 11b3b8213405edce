"""RFC 3164 frames as nginx sends them: `<PRI>Mmm dd hh:mm:ss [HOST ]TAG: MESSAGE` (no HOST with `nohostname`)."""
from __future__ import annotations

import re

FRAME = re.compile(r"\A<(?P<pri>\d{1,3})>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d (?:(?P<host>\S+) )?"
                   r"(?P<tag>[A-Za-z0-9_]{1,32}): (?P<message>.*?)\n?\Z", re.S)


def parse_frame(datagram: bytes) -> tuple[str, str] | None:
    """(tag, message) of one datagram, or None when it is no RFC 3164 frame."""
    try:
        text = datagram.decode("utf-8")
    except UnicodeDecodeError:
        return None
    frame = FRAME.match(text)
    if not frame:
        return None
    return frame["tag"], frame["message"]
