"""Export: one session as a single HTML file that replays offline (to attach to a ticket)."""
from __future__ import annotations

import json
import re

from flask import Blueprint, Response, abort, render_template

from replay.api import session_data
from replay.web.services import services
from replay.web.auth import login_required
from replay.web.paths import static_dir
from replay.viewer.pages import not_found
from replay.viewer.session_view import PLAY_LEAD_MS, call_times, clock, offset_ms, page_origin, proxy_of, server_of, user_id
from replay.viewer.diagnosis import diagnose
from replay.storage import recording
from replay.storage.evidence import load_evidence
from replay.core.keys import ID_PATTERN

bp = Blueprint("export", __name__)
bp.register_error_handler(404, not_found)

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
        abort(404, "There is no session with this id.")
    store = services().store
    manifest = recording.load_manifest(store, session_id)
    if manifest is None:
        abort(404, "No such session.")
    events = list(recording.iter_events(store, session_id))
    # The file opens on the first failed call, paused where it failed, with its diagnosis.
    origin = page_origin(manifest)
    evidence = load_evidence(services().store, session_id)
    failures = [(f, diagnose(f, session_id=session_id, page_origin=origin, proxy=proxy_of(evidence, f),
                             server=server_of(evidence, f)), call_times(manifest, f))
                for f in manifest.get("network_failures") or []]
    first = failures[0] if failures else None
    calls, calls_cut = session_data.calls(store, manifest, services().settings.MAX_BODY_CHARS)
    console, console_cut = session_data.console(store, manifest)
    tracked, tracked_cut = session_data.tracked(store, manifest)
    for entry in tracked:
        props = entry["props"]
        entry["props_text"] = props + "…" if isinstance(props, str) else json.dumps(props, ensure_ascii=False) if props else ""
    html = render_template(
        "export.html", m=manifest, events_json=inline_json(events), event_count=len(events),
        failures=failures, first=first, t=first[2]["at"] if first else 0,
        lead_from=max(0, first[2]["sent"] - PLAY_LEAD_MS) if first else 0, user_id=user_id(manifest.get("user")),
        calls=calls, calls_cut=calls_cut, console=console, console_cut=console_cut, tracked=tracked,
        tracked_cut=tracked_cut,
        player_js=inline_script(_asset("rrweb-player.js")), player_css=_asset("rrweb-player.css"),
        evidence_css=_asset("call-evidence.css"),
        export_js=inline_script(_asset("export-viewer.js")), offset=lambda ts: offset_ms(manifest, ts), clock=clock)
    return Response(html, mimetype="text/html", headers={
        "Content-Disposition": f'attachment; filename="replay-{session_id}.html"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})
