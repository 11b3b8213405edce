"""The built browser assets exist and the snippet stays within its size budget."""
from __future__ import annotations

import gzip
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "replay" / "static"
MAX_SNIPPET_GZIP_BYTES = 30 * 1024
BUILD_HINT = "run `cd js-snippet && npm install && npm run build`"


def _built(name: str) -> bytes:
    path = STATIC / name
    assert path.is_file(), f"{path} is missing: {BUILD_HINT}"
    return path.read_bytes()


def test_snippet_is_built_and_under_budget():
    size = len(gzip.compress(_built("snippet.js"), compresslevel=9))
    assert size <= MAX_SNIPPET_GZIP_BYTES, f"snippet.js is {size} bytes gzipped; the budget is {MAX_SNIPPET_GZIP_BYTES}"


def test_snippet_exposes_the_public_api():
    text = _built("snippet.js").decode()
    for name in ("Replay", "getSessionURL", "identify", "track", "/ingest/ws", "/ingest/batch"):
        assert name in text, f"{name!r} not in snippet.js: {BUILD_HINT}"


def test_player_assets_are_copied():
    assert b"rrwebPlayer" in _built("rrweb-player.js")
    assert b".rr-player" in _built("rrweb-player.css")
