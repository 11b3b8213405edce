"""What never leaves the application: secret-named query values are masked; no header but X-Replay-Session is read.

The rules are replay's own (replay/core/redact.py, js-snippet/src/privacy.js); a test fails if they drift.
"""
from __future__ import annotations

import re
from urllib.parse import unquote_plus

MASK = "[masked]"
SECRET_NAME_PARTS = "token secret passw pwd auth session signature credential jwt card cvv cvc ssn iban key sig code otp pin"
_LONG_PARTS = tuple(p for p in SECRET_NAME_PARTS.split() if len(p) >= 4)
_SHORT_PARTS = frozenset(p for p in SECRET_NAME_PARTS.split() if len(p) < 4)
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def secret_name(name: str) -> bool:
    """Does this query parameter's name say its value is a secret?"""
    low = name.lower()
    if any(part in low for part in _LONG_PARTS):
        return True
    return any(word in _SHORT_PARTS for word in _NOT_WORD.split(_CAMEL.sub(r"\1 \2", name).lower()))


def mask_query(query: str) -> str:
    """name=value&... with the values of secret-named parameters masked; nothing else re-encoded."""
    parts = query.split("&")
    for i, part in enumerate(parts):
        name, eq, value = part.partition("=")
        if eq and value and secret_name(unquote_plus(name)):
            parts[i] = f"{name}={MASK}"
    return "&".join(parts)
