"""Words a session is found by in the free-text search: lower-case tokens of its page URLs, user and messages.

A session keeps at most MAX_TERMS distinct terms (the first ones seen); the index
files the session under each, and a query's words must all be among them.
"""
from __future__ import annotations

import re
from typing import Iterable

MAX_TERMS = 300
MIN_TERM_CHARS = 2
MAX_TERM_CHARS = 40
# Letters and digits (any script); '@' and '.' inside a word keep emails and host names whole as well.
_WORD = re.compile(r"[^\W_](?:[\w@.\-]*[^\W_])?")
# Terms too common in URLs to narrow anything.
_STOP = frozenset({"http", "https", "www", "com", "html", "the", "and", "of", "to", "in", "is"})


def tokens(text: str) -> list[str]:
    """The search terms of a text, in order, each once: whole words and, for dotted or dashed ones, their parts."""
    out: list[str] = []
    seen: set[str] = set()
    for match in _WORD.finditer((text or "").lower()):
        word = match.group(0)
        for term in (word, *re.split(r"[@.\-]", word)) if re.search(r"[@.\-]", word) else (word,):
            if MIN_TERM_CHARS <= len(term) <= MAX_TERM_CHARS and term not in _STOP and term not in seen:
                seen.add(term)
                out.append(term)
    return out


def add_terms(terms: list[str], texts: Iterable[str]) -> list[str]:
    """terms with those of texts appended, up to MAX_TERMS."""
    have = set(terms)
    out = list(terms)
    for text in texts:
        if len(out) >= MAX_TERMS:
            break
        for term in tokens(text):
            if term not in have:
                have.add(term)
                out.append(term)
                if len(out) >= MAX_TERMS:
                    break
    return out


def query_terms(q: str) -> list[str]:
    """The terms a search box's text asks for (all must match); ValueError when it has none."""
    found = [t for t in tokens(q) if len(t) <= MAX_TERM_CHARS]
    if not found:
        raise ValueError("q needs a word of at least two letters or digits")
    return found[:8]
