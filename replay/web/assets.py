"""The snippet at /snippet.js and its loader at /loader.js: gzipped once, cacheable, with an ETag."""
from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass

from flask import Blueprint, Response, request

from replay.web.errors import ApiError
from replay.web.paths import static_dir

bp = Blueprint("assets", __name__)

# Sites embed the script on every page: browsers revalidate it every few minutes,
# so a new build reaches them soon, and the ETag makes revalidation cheap.
SNIPPET_MAX_AGE_S = 300


@dataclass(frozen=True)
class Built:
    mtime_ns: int
    raw: bytes
    gzipped: bytes
    etag: str


_cache: dict[str, Built] = {}
_lock = threading.Lock()


def _built(name: str) -> Built:
    path = static_dir() / name
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise ApiError(503, "snippet_not_built", "the snippet is not built: run `npm run build` in js-snippet/") from None
    with _lock:
        hit = _cache.get(name)
        if hit is None or hit.mtime_ns != mtime:
            raw = path.read_bytes()
            hit = Built(mtime, raw, gzip.compress(raw, 9, mtime=0), hashlib.sha256(raw).hexdigest()[:20])
            _cache[name] = hit
        return hit


@bp.route("/snippet.js")
def snippet():
    return _serve(_built("snippet.js"))


@bp.route("/loader.js")
def loader():
    """The loader, for sites that include it as a blocking script rather than inline (README)."""
    return _serve(_built("loader.js"))


def _serve(built: Built):
    use_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
    response = Response(built.gzipped if use_gzip else built.raw, mimetype="application/javascript")
    if use_gzip:
        response.headers["Content-Encoding"] = "gzip"
    response.set_etag(built.etag + ("-gz" if use_gzip else ""))
    response.headers["Cache-Control"] = f"public, max-age={SNIPPET_MAX_AGE_S}"
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response.make_conditional(request)
