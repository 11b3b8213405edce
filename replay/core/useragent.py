"""A short name for a browser from its user agent string: 'Chrome 156 / Linux'."""
from __future__ import annotations

import re

from replay.core.wire import MAX_UA_CHARS

# Order matters: Edge, Opera and Samsung Internet also say "Chrome"; Chrome also says "Safari".
_BROWSERS = [
    ("Edge", re.compile(r"\b(?:Edg|EdgA|EdgiOS|Edge)/(\d+)")),
    ("Opera", re.compile(r"\b(?:OPR|OPiOS)/(\d+)")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/(\d+)")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/(\d+)")),
    ("Headless Chrome", re.compile(r"\bHeadlessChrome/(\d+)")),
    ("Chrome", re.compile(r"\b(?:Chrome|CriOS)/(\d+)")),
    ("Safari", re.compile(r"\bVersion/(\d+)(?:\.\d+)*(?: Mobile/\S+)? Safari/")),
    ("Internet Explorer", re.compile(r"\b(?:MSIE |Trident/.*rv:)(\d+)")),
]
# iPhones and iPads say "like Mac OS X", Android says "Linux": the specific ones first.
_SYSTEMS = [
    ("iOS", re.compile(r"\b(?:iPhone|iPad|iPod)\b")),
    ("Android", re.compile(r"\bAndroid\b")),
    ("Chrome OS", re.compile(r"\bCrOS\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("Linux", re.compile(r"\bLinux\b|\bX11\b")),
]


def short_browser(user_agent: object) -> str | None:
    """'Chrome 156 / Linux', 'Safari 17 / iOS', 'Firefox 128', 'Windows'; None when nothing is recognised."""
    if not isinstance(user_agent, str) or not user_agent.strip():
        return None
    ua = user_agent[:MAX_UA_CHARS]
    browser = next((f"{name} {m.group(1)}" for name, pattern in _BROWSERS if (m := pattern.search(ua))), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(ua)), None)
    return " / ".join(part for part in (browser, system) if part) or None
