"""The built browser assets exist and the snippet stays within its size budget."""
from __future__ import annotations

import gzip
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "replay" / "static"
MAX_SNIPPET_GZIP_BYTES = 30 * 1024
MAX_LOADER_BYTES, MAX_LOADER_GZIP_BYTES = 5120, 2560
README = Path(__file__).resolve().parents[2] / "README.md"
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


def test_loader_is_built_one_line_and_under_budget():
    loader = _built("loader.js")
    assert b"\n" not in loader and b"</script" not in loader.lower()
    assert len(loader) <= MAX_LOADER_BYTES, f"loader.js is {len(loader)} bytes; the budget is {MAX_LOADER_BYTES}"
    size = len(gzip.compress(loader, compresslevel=9))
    assert size <= MAX_LOADER_GZIP_BYTES, f"loader.js is {size} bytes gzipped; the budget is {MAX_LOADER_GZIP_BYTES}"


def test_readme_pastes_the_loader_as_built():
    # Sites copy it from there: a stale copy would queue in a format the snippet no longer takes.
    inline = "<script>" + _built("loader.js").decode() + "</script>"
    assert inline in README.read_text(), "README.md's inline loader differs from replay/static/loader.js: paste the new one"
