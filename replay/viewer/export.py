"""Export: one session as a single HTML file that replays offline (to attach to a ticket)."""
from __future__ import annotations

import json
import re

from flask import Blueprint, Response, abort, render_template

from replay.web.services import services
from replay.web.auth import login_required
from replay.web.paths import static_dir
from replay.viewer.session_view import clock, offset_ms
from replay.storage import recording
from replay.core.keys import ID_PATTERN

bp = Blueprint("export", __name__)

_SCRIPT_END = re.compile(r"</(script)", re.I)


def inline_json(value) -> str:
    """JSON for a <script type="application/json"> block: no "<" at all, so no "</script>" can end it early."""
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c")


def inline_script(text: str) -> str:
    """A script file's text for an inline <script>: "</script" cannot occur in it."""
    return _SCRIPT_END.sub(r"<\\/\1", text)


def _asset(name: str) -> str:
    return (static_dir() / name).read_text(encoding="utf-8")


@bp.get("/sessions/<session_id>/export")
@login_required
def export_session(session_id: str):
    if not ID_PATTERN.match(session_id):
        abort(404)
    store = services().store
    manifest = recording.load_manifest(store, session_id)
    if manifest is None:
        abort(404, "No such session.")
    events = list(recording.iter_events(store, session_id))
    html = render_template(
        "export.html", m=manifest, events_json=inline_json(events), event_count=len(events),
        player_js=inline_script(_asset("rrweb-player.js")), player_css=_asset("rrweb-player.css"),
        export_js=inline_script(_asset("export-viewer.js")), offset=lambda ts: offset_ms(manifest, ts), clock=clock)
    return Response(html, mimetype="text/html", headers={
        "Content-Disposition": f'attachment; filename="replay-{session_id}.html"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})
