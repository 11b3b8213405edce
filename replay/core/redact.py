"""Redaction of a call's URL query and request body on the server: the backstop for what the snippet masks.

The snippet applies the same rules (js-snippet/src/privacy.js) before anything leaves the page; a modified or old
snippet must still not get a secret into storage, so these run again on every stored event and every extracted call.
Both sides share the mask and the secret-name parts through the wire contract, so running either twice is a no-op.
"""
from __future__ import annotations

import json
import re
from urllib.parse import unquote_plus

from replay.core import wire

MASK = wire.MASK
# A request body is parsed as JSON up to this size; past it only the text rules run.
MAX_PARSE_CHARS = 64 * 1024
MAX_QUERY_PARAMS = 100
MAX_QUERY_VALUE_CHARS = 1000

_LONG_PARTS = tuple(p for p in wire.SECRET_NAME_PARTS.split() if len(p) >= 4)
_SHORT_PARTS = frozenset(p for p in wire.SECRET_NAME_PARTS.split() if len(p) < 4)
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
# 13 to 19 digits, spaces or dashes between them: a card number when its Luhn check holds.
_DIGIT_RUN = re.compile(r"(?<![\d.])\d(?:[ -]?\d){12,18}(?![\d.])")
_BEARER = re.compile(r"\b(Bearer|Basic|Token)(\s+)(?!" + re.escape(MASK) + r")[A-Za-z0-9_.~+/-]{8,}=*", re.I)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
# "name": value inside JSON text that did not parse (cut at the cap), and name=value in form-like text.
_JSON_PAIR = re.compile(r'("((?:[^"\\]|\\.){1,100})"\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}\]\s]+)')
_FORM_PAIR = re.compile(r"(^|[&?;\s])([^=&?;\s]{1,100})=([^&;\s]*)")
_FORM = re.compile(r"[^=&\s]+=[^&\s]*(?:&[^=&\s]+=[^&\s]*)*")


def secret_name(name: str) -> bool:
    """Does this name (query parameter, form field, JSON key) say its value is a secret?"""
    low = name.lower()
    if any(part in low for part in _LONG_PARTS):
        return True
    return any(word in _SHORT_PARTS for word in _NOT_WORD.split(_CAMEL.sub(r"\1 \2", name).lower()))


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _card(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return MASK if 13 <= len(digits) <= 19 and _luhn(digits) else match.group(0)


def scrub_text(text: str) -> str:
    """Card numbers, bearer/basic credentials and JWTs anywhere in a text, masked."""
    text = _DIGIT_RUN.sub(_card, text)
    text = _BEARER.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
    return _JWT.sub(MASK, text)


def _pairs(text: str) -> str:
    """Secret-named "key": value and key=value pairs in free text (JSON cut short, form-like text), masked."""
    text = _JSON_PAIR.sub(lambda m: m.group(1) + f'"{MASK}"' if secret_name(m.group(2)) else m.group(0), text)
    return _FORM_PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}={MASK}"
                          if m.group(3) and secret_name(unquote_plus(m.group(2))) else m.group(0), text)


def _walk(value):
    """A parsed JSON value with secret-named keys' values and secret-looking strings masked."""
    if isinstance(value, dict):
        return {k: MASK if secret_name(k) and value[k] is not None else _walk(value[k]) for k in value}
    if isinstance(value, list):
        return [_walk(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and MASK == scrub_text(str(value)):
        return MASK
    return value


def _json(text: str) -> str | None:
    """The text scrubbed as JSON, or None when it is not JSON."""
    if len(text) > MAX_PARSE_CHARS or text.lstrip()[:1] not in ("{", "["):
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    walked = _walk(parsed)
    return text if walked == parsed else json.dumps(walked, ensure_ascii=False, separators=(",", ":"))


def scrub_body(text: str, cap: int) -> tuple[str, bool, bool]:
    """(body as stored, cut?, something masked?): JSON by its keys, form bodies by their names, any text by its look."""
    out = _json(text)
    if out is None:
        head = text[:cap + 64]  # a little past the cut, so that no secret is cut in two and left half-visible
        out = mask_form(head) if _FORM.fullmatch(head.strip()) else scrub_text(_pairs(head))
        changed = out != head
    else:
        changed = out != text
    return out[:cap], len(text) > cap or len(out) > cap, changed


def mask_form(text: str) -> str:
    """name=value&… with secret-named values masked and the rest scrubbed as text."""
    parts = text.split("&")
    for i, part in enumerate(parts):
        name, eq, value = part.partition("=")
        if eq and value and value != MASK and secret_name(unquote_plus(name)):
            parts[i] = f"{name}={MASK}"
        elif eq:
            parts[i] = f"{name}={scrub_text(value)}"
    return "&".join(parts)


def mask_query(url: str) -> str:
    """The URL with the values of secret-named query parameters masked, and of a fragment made of
    name=value pairs (OAuth's #access_token=…); nothing re-encoded."""
    head, hash_, fragment = url.partition("#")
    base, q, query = head.partition("?")
    if q and query:
        head = f"{base}?{mask_form(query)}"
    if "=" in fragment:
        fragment = mask_form(fragment)
    return f"{head}{hash_}{fragment}"


def query_params(url: str) -> list[dict]:
    """The query of a URL as [{"name", "value", "masked"}], decoded, capped; values of secret names masked."""
    query = url.partition("#")[0].partition("?")[2]
    out = []
    for part in query.split("&") if query else []:
        if len(out) >= MAX_QUERY_PARAMS:
            break
        raw_name, _, raw_value = part.partition("=")
        name, value = unquote_plus(raw_name), unquote_plus(raw_value)
        masked = value == MASK or bool(value) and secret_name(name)
        out.append({"name": name[:200], "value": MASK if masked else scrub_text(value)[:MAX_QUERY_VALUE_CHARS],
                    "masked": masked})
    return out
