"""What the replay page shows of one session: the manifest, each failed call's diagnosis, where to open."""
from __future__ import annotations

from flask import url_for

from replay.api.urls import base_url
from replay.core import urls
from replay.core.failure_signs import sign as call_sign
from replay.core.route_folding import route_parts
from replay.web.services import services
from replay.storage.evidence import load_evidence
from replay.viewer.diagnosis import api_diagnosis, diagnose

# "Play from before the call" starts this long before the call was sent, so the lead-up is on screen.
PLAY_LEAD_MS = 3000
# What a page's Replay.identify(null) or identify(undefined) sends as the id: no user at all.
NOT_A_USER = {"null", "undefined"}


def page_origin(manifest: dict) -> str | None:
    pages = manifest.get("pages") or []
    if not pages or not pages[0].get("url"):
        return None
    return urls.origin(pages[0]["url"]) or None


def proxy_of(evidence: dict, failure: dict) -> dict | None:
    """What the proxy logged about this failed call (replay/storage/evidence.py), or None."""
    return (evidence.get(failure.get("id")) or {}).get("proxy")


def server_of(evidence: dict, failure: dict) -> dict | None:
    """What the app raised about this failed call (its joined event), or None."""
    return (evidence.get(failure.get("id")) or {}).get("server")


def call_diagnosis(manifest: dict, failure: dict, proxy: dict | None, server: dict | None = None) -> dict:
    """The API's `diagnosis` of one failed call (Services.diagnose: the API cannot import the viewer)."""
    card = diagnose(failure, session_id=manifest["session"], page_origin=page_origin(manifest), proxy=proxy,
                    server=server)
    return api_diagnosis(card)


def recorded_origins(manifest: dict) -> tuple[str, ...]:
    """The origins the session's project records: the replay may load their images, styles and fonts."""
    project = services().accounts.project(manifest["project"]) if manifest.get("project") else None
    return project.origins if project else ()


def user_id(user) -> str | None:
    """The id to show for a session's user (a manifest's or a summary's), or None when there is no real one."""
    found = user.get("id") if isinstance(user, dict) else None
    if not isinstance(found, str) or not found.strip() or found.strip().lower() in NOT_A_USER:
        return None
    return found


def offset_ms(manifest: dict, ts: int | None) -> int:
    started = manifest.get("started_ms") or 0
    return max(0, (ts or started) - started)


def clock(ms: int) -> str:
    """An offset as m:ss.s, as the page's script writes it."""
    minutes, seconds = divmod(max(0, ms or 0) / 1000, 60)
    return f"{int(minutes)}:{seconds:04.1f}"


def call_times(manifest: dict, f: dict) -> dict:
    """When a call was sent, answered (or failed) and recorded: epoch ms and offsets from the session start.

    A call is placed at the moment it was sent; its answer came duration_ms later. `at` is the moment its
    outcome was recorded (the event's time: answer and body in), where ?call= opens.
    """
    at = f.get("ts")
    sent = f.get("start_ms") if f.get("start_ms") is not None else at
    answered = f.get("end_ms") if f.get("end_ms") is not None else at
    if sent is not None and answered is not None and answered < sent:
        answered = sent
    return {"sent_ms": sent, "answered_ms": answered, "sent": offset_ms(manifest, sent),
            "answered": offset_ms(manifest, answered), "at": offset_ms(manifest, at),
            "answered_word": "Answered" if f.get("status") else "Failed"}


def page_at(manifest: dict, ts: int | None, window: str | None = None) -> str | None:
    """The page the user was on at ts (in that window when known): where a failed call happened."""
    pages = manifest.get("pages") or []
    mine = [p for p in pages if p.get("window") == window] or pages
    found = None
    for page in mine:
        if found is None or (page.get("ts") or 0) <= (ts or 0):
            found = page
    return found.get("url") if found else None


def markers(manifest: dict) -> list[dict]:
    """Timeline marks: failed calls (at their send, with a bar to their answer), errors, page loads.

    `pct` is the place along the session, `width` (failed calls) the bar's length, both in percent.
    """
    duration = manifest.get("duration_ms") or 0

    def pct(off: int) -> float:
        return round(100 * min(off, duration) / duration, 3) if duration else 0

    out = []
    for f in manifest.get("network_failures") or []:
        times = call_times(manifest, f)
        out.append({"kind": "failed", "offset": times["sent"], "pct": pct(times["sent"]),
                    "width": round(pct(times["answered"]) - pct(times["sent"]), 3), "ref": f.get("id"),
                    "end": times["answered"], "label": " ".join(str(part) for part in (
                        f.get("status") or f.get("error") or "no response", f.get("method"), f.get("url")) if part)})
    for signal in manifest.get("frustrations") or []:
        off = offset_ms(manifest, signal.get("ts"))
        out.append({"kind": "frustration", "sub": signal.get("kind"), "offset": off, "pct": pct(off),
                    "label": frustration_label(signal)})
    for e in manifest.get("errors") or []:
        off = offset_ms(manifest, e.get("ts"))
        out.append({"kind": "error", "offset": off, "pct": pct(off), "label": (
            "Exception: " if e.get("kind") == "exception" else "console.error: ") + (e.get("message") or "")})
    for p in manifest.get("pages") or []:
        off = offset_ms(manifest, p.get("ts"))
        out.append({"kind": "page", "offset": off, "pct": pct(off), "label": f"Page: {p.get('url')}"})
    return stack(sorted(out, key=lambda m: m["offset"]))


# Marks of one kind closer than this (percent of the session) would be drawn on top of each other.
STACK_PCT = 0.6
STACK_LABELS = 6


def stack(marks: list[dict]) -> list[dict]:
    """Marks of one kind at (nearly) one place become one: the first says how many and lists them,
    the rest are `hidden` (a failed call's bar is still drawn). Sorted by offset in, the same out."""
    first: dict[tuple, dict] = {}
    for mark in marks:
        kind = (mark["kind"], mark.get("sub"))
        head = first.get(kind)
        if head is not None and mark["pct"] - head["pct"] < STACK_PCT:
            head["count"] = head.get("count", 1) + 1
            head.setdefault("labels", [head["label"]]).append(mark["label"])
            mark["hidden"] = True
            continue
        first[kind] = mark
    for mark in marks:
        if mark.get("count", 1) > 1:
            shown = mark["labels"][:STACK_LABELS]
            more = mark["count"] - len(shown)
            mark["label"] = f"{mark['count']} at once: " + "; ".join(shown) + (f"; and {more} more" if more else "")
    return marks


def frustration_label(signal: dict) -> str:
    """One line for a rage click, a dead click or a retried call."""
    kind = signal.get("kind")
    if kind == "rage":
        return f"Rage click: {signal.get('count') or 3} clicks in a burst on {signal.get('target') or 'the page'}"
    if kind == "dead":
        return f"Dead click: nothing happened after a click on {signal.get('target') or 'an element'}"
    after = signal.get("of_status") or "no response"
    outcome = signal.get("status") or "no response"
    path = urls.split(signal.get("url") or "")
    where = (path.path or "/") if path and path.netloc else signal.get("url")
    return f"Retry: {signal.get('method')} {where} sent again after a {after}; answered {outcome}"


def first_call_of_group(manifest: dict, group: dict) -> str | None:
    """The id of the session's first failed call in a failure group (method, host, folded route, status, sign)."""
    for f in manifest.get("network_failures") or []:
        if ((f.get("method") or "GET") == group["method"] and int(f.get("status") or 0) == group["status"]
                and call_sign(f) == group.get("sign", "")
                and route_parts(f.get("url") or "") == (group["host"], group["route"])):
            return f.get("id")
    return None


def _nearest_call(manifest: dict, failures: list[dict], t: int | None) -> dict | None:
    """The failed call a shared view opens: the one nearest the link's moment, else the first."""
    if not failures:
        return None
    if t is None:
        return failures[0]

    def distance(f: dict) -> int:
        times = call_times(manifest, f)
        return 0 if times["sent"] <= t <= times["at"] else min(abs(times["sent"] - t), abs(times["at"] - t))

    return min(failures, key=distance)


def session_view(manifest: dict, t: int | None, call: str | None, share_token: str | None = None) -> dict:
    """Template context for session.html; `call` (a failure id) wins over `t`.

    ?call= opens paused on the moment that call failed; "Play from before the call" plays from PLAY_LEAD_MS
    before it was sent. With share_token the page is the read-only shared view: its data and links go
    through the token, and it opens a failed call's diagnosis (the one nearest its moment) even unasked.
    """
    origin = page_origin(manifest)
    failures = manifest.get("network_failures") or []
    evidence = load_evidence(services().store, manifest["session"])
    cards = [diagnose(f, session_id=manifest["session"], page_origin=origin, proxy=proxy_of(evidence, f),
                      server=server_of(evidence, f)) for f in failures]
    # A moment past the end (an old link, a hand-made URL) opens at the end.
    start = min(t or 0, manifest.get("duration_ms") or 0)
    opened = next((f for f in failures if call and f.get("id") == call), None)
    if opened is not None:
        start = call_times(manifest, opened)["at"]
    elif share_token and (opened := _nearest_call(manifest, failures, t)) is not None and t is None:
        start = call_times(manifest, opened)["at"]
    lead = None
    if opened is not None:
        times = call_times(manifest, opened)
        lead = {"from": max(0, times["sent"] - PLAY_LEAD_MS), "before_ms": min(PLAY_LEAD_MS, times["sent"]),
                "at": times["at"], "call": opened}
    if share_token:
        api = url_for("share.shared_page", token=share_token)
        link = base_url() + api
    else:
        api = url_for("api.get_session", session_id=manifest["session"])
        link = base_url() + url_for("pages.replay_page", session_id=manifest["session"])
    return {"m": manifest, "failures": [(f, card, call_times(manifest, f)) for f, card in zip(failures, cards)],
            "t": start, "open_call": opened.get("id") if opened else None, "lead": lead,
            "missing_call": call if call and opened is None else None,
            "user_id": user_id(manifest.get("user")),
            "offset": lambda ts: offset_ms(manifest, ts), "page_at": lambda f: page_at(manifest, f.get("ts"),
                                                                                     f.get("window")),
            "markers": markers(manifest), "api_base": api, "page_link": link, "clock": clock}
