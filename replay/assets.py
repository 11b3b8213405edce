"""The snippet at /snippet.js: cacheable, with an ETag."""
from __future__ import annotations

from flask import Blueprint, send_from_directory

from replay.errors import ApiError
from replay.paths import static_dir

bp = Blueprint("assets", __name__)


@bp.route("/snippet.js")
def snippet():
    if not (static_dir() / "snippet.js").is_file():
        raise ApiError(503, "snippet_not_built", "the snippet is not built: run `npm run build` in js-snippet/")
    response = send_from_directory(static_dir(), "snippet.js", mimetype="application/javascript",
                                   max_age=300, etag=True, conditional=True)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
