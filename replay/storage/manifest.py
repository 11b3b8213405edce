"""The per-session manifest: what a flush merges into it, and the summary the index lists.

Merging is idempotent: the manifest remembers, per window, the ranges of seqs
already merged, and skips records inside them, so a retried flush never
counts anything twice.
"""
from __future__ import annotations

import copy
from typing import Iterable

from replay.core import events as ev
from replay.core import frustration, route_folding
from replay.core.evidence.join import window_offset
from replay.core.search_terms import add_terms
from replay.core.records import Record
from replay.core.useragent import short_browser

VERSION = 1
# Lists are capped so that a manifest stays small; counts keep counting past the caps.
MAX_FAILURES = 500
MAX_ERRORS = 500
MAX_PAGES = 500
MAX_FRUSTRATIONS = 500
# Releases one session ran (a deploy while it was open makes two).
MAX_RELEASES = 10
# Distinct failed URLs remembered for the index, and how many a summary shows.
MAX_FAILED_URLS = 1000
MAX_SUMMARY_URLS = 20
# Page URLs a summary lists (pages_visited counts them all).
MAX_SUMMARY_PAGES = 10

COUNTS = ("events", "network", "network_failures", "console_errors", "exceptions",
          *frustration.COUNT_NAMES.values())


def new(session: str) -> dict:
    """An empty manifest."""
    return {
        "v": VERSION, "session": session, "project": None, "user_agent": None,
        "started_ms": None, "ended_ms": None, "duration_ms": None, "user": None,
        "pages": [], "windows": {}, "counts": {name: 0 for name in COUNTS},
        "failed_statuses": [], "failed_urls": [],
        "network_failures": [], "failure_groups": {}, "errors": [], "segments": [],
        "segment_spans": {}, "release": None, "environment": None, "releases": [],
        "frustrations": [], "retry_state": {}, "search_terms": [],
    }


def covered(manifest: dict, window: str, seq: int) -> bool:
    """Was this (window, seq) merged already?"""
    ranges = manifest.get("windows", {}).get(window, {}).get("seqs", [])
    return any(first <= seq <= last for first, last in ranges)


def uncovered(manifest: dict, records: Iterable[Record]) -> list[Record]:
    """The records not merged yet, each (window, seq) once."""
    seen: set[tuple[str, int]] = set()
    out = []
    for r in records:
        if (r.window, r.seq) not in seen and not covered(manifest, r.window, r.seq):
            seen.add((r.window, r.seq))
            out.append(r)
    return out


def _add_seqs(ranges: list, seqs: Iterable[int]) -> list:
    """Ranges [[first, last], ...] covering the old ranges and the new seqs, coalesced."""
    spans = sorted([list(r) for r in ranges] + [[s, s] for s in seqs])
    out: list[list[int]] = []
    for first, last in spans:
        if out and first <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], last)
        else:
            out.append([first, last])
    return out


def _order(item: dict) -> tuple:
    return (item.get("ts") or 0, item.get("window") or "", item.get("seq") or 0)


def merge(manifest: dict, records: Iterable[Record], *, project: str | None, user_agent: str | None,
          segment_keys: Iterable[str], max_body_chars: int,
          segment_spans: dict[str, list[int]] | None = None, release: str | None = None,
          environment: str | None = None) -> dict:
    """A new manifest with the records not yet covered merged in.

    segment_spans maps a segment key to [first, last] event time (epoch ms): the
    replay page fetches segments in time order without opening them first.
    """
    # Fields added in later versions start empty in older manifests.
    m = copy.deepcopy({**new(manifest["session"]), **manifest})
    m["failure_groups"] = copy.deepcopy(failure_groups(manifest))
    fresh = uncovered(m, records)
    m["project"] = m.get("project") or project
    m["user_agent"] = m.get("user_agent") or user_agent
    m["segments"] = sorted(set(m["segments"]) | set(segment_keys))
    m["segment_spans"] = {**m["segment_spans"], **(segment_spans or {})}
    _set_release(m, release, environment)
    counts = m["counts"]
    for name in COUNTS:
        counts.setdefault(name, 0)
    texts: list[str] = []
    statuses = set(m["failed_statuses"])
    failed_urls = list(m["failed_urls"])
    known_urls = set(failed_urls)
    times = [t for t in (m["started_ms"], m["ended_ms"]) if t is not None]
    windows_with_pages = {p["window"] for p in m["pages"]}

    for r in fresh:
        record_times = []
        record_pages = []
        failed_in_record = 0
        for event in r.events if isinstance(r.events, list) else []:
            counts["events"] += 1
            ts = ev.timestamp(event)
            if ts is not None:
                record_times.append(ts)
            href = ev.page_url(event)
            if href:
                record_pages.append({"url": href, "window": r.window, "ts": ts or r.received_ms})
                texts.append(href)
                continue
            call = ev.network_call(event, max_body_chars)
            if call is not None:
                counts["network"] += 1
                failed = call.pop("failed")
                retry = frustration.retry_of(m["retry_state"], r.window, call, failed,
                                             route_folding.call_id(r.window, r.seq, failed_in_record) if failed else None)
                if retry is not None:
                    _signal(m, {**retry, "window": r.window, "seq": r.seq})
                if failed:
                    counts["network_failures"] += 1
                    call["ts"] = call["ts"] if call["ts"] is not None else r.received_ms
                    entry = {"id": route_folding.call_id(r.window, r.seq, failed_in_record), "window": r.window,
                             "seq": r.seq, **call}
                    failed_in_record += 1
                    m["network_failures"].append(entry)
                    route_folding.tally(m["failure_groups"], entry)
                    statuses.add(call["status"])
                    url = ev.normalise_url(call["url"])
                    if url not in known_urls and len(failed_urls) < MAX_FAILED_URLS:
                        known_urls.add(url)
                        failed_urls.append(url)
                continue
            click = frustration.click_signal(event)
            if click is not None:
                click["ts"] = click["ts"] if click["ts"] is not None else r.received_ms
                _signal(m, {**click, "window": r.window, "seq": r.seq})
                continue
            line = ev.console_entry(event)
            if line is not None and line["message"]:
                texts.append(line["message"])
            error = ev.exception(event) or ev.console_error(event)
            if error is not None:
                texts.append(error["message"])
                counts["exceptions" if error["kind"] == "exception" else "console_errors"] += 1
                error["ts"] = error["ts"] if error["ts"] is not None else r.received_ms
                m["errors"].append({**error, "window": r.window, "seq": r.seq})
                continue
            user = ev.identify(event)
            if user is not None:
                user["ts"] = user["ts"] if user["ts"] is not None else r.received_ms
                # The last identify wins, by the time it happened, whatever order flushes run in.
                if m["user"] is None or user["ts"] >= (m["user"].get("ts") or 0):
                    m["user"] = user
                texts.extend([user["id"], *(f"{k} {v}" for k, v in user["traits"].items() if v is not None)])
        # A window whose recording starts without a Meta event still gets its page from hello.
        if not record_pages and r.window not in windows_with_pages and r.url:
            record_pages.append({"url": r.url[:ev.MAX_URL_CHARS], "window": r.window,
                                 "ts": min(record_times) if record_times else r.received_ms})
        m["pages"].extend(record_pages)
        windows_with_pages.update(p["window"] for p in record_pages)
        times.extend(record_times or [r.received_ms])
        window = m["windows"].setdefault(r.window, {"seqs": []})
        window["seqs"] = _add_seqs(window["seqs"], [r.seq])
        _clock_offset(window, r.received_ms, record_times)

    if times:
        m["started_ms"], m["ended_ms"] = min(times), max(times)
        m["duration_ms"] = m["ended_ms"] - m["started_ms"]
    m["pages"] = _collapse_pages(sorted(m["pages"], key=_order))[:MAX_PAGES]
    # Each failure group opens the viewer at its latest call, so that call is always kept.
    m["network_failures"] = _keep(sorted(m["network_failures"], key=_order), MAX_FAILURES,
                                  {g.get("call") for g in m["failure_groups"].values()})
    m["errors"] = sorted(m["errors"], key=_order)[:MAX_ERRORS]
    m["frustrations"] = sorted(m["frustrations"], key=_order)[:MAX_FRUSTRATIONS]
    m["search_terms"] = add_terms(m["search_terms"], texts)
    m["failed_statuses"] = sorted(statuses)
    m["failed_urls"] = failed_urls
    return m


def _clock_offset(window: dict, received_ms: int | None, times: list[int]) -> None:
    """The window's clock offset (server minus browser, ms; replay.core.evidence.join.window_offset), kept tightest."""
    found = window_offset([(received_ms, times)])
    if found is not None and (window.get("clock_offset_ms") is None or found < window["clock_offset_ms"]):
        window["clock_offset_ms"] = found


def _signal(m: dict, signal: dict) -> None:
    """Count a frustration signal; list it while the list has room."""
    m["counts"][frustration.COUNT_NAMES[signal["kind"]]] += 1
    m["frustrations"].append(signal)


def _set_release(m: dict, release: str | None, environment: str | None) -> None:
    """The release and environment the session ran last, and every release it ran (up to MAX_RELEASES)."""
    if release:
        m["release"] = release
        if release not in m["releases"] and len(m["releases"]) < MAX_RELEASES:
            m["releases"] = [*m["releases"], release]
    if environment:
        m["environment"] = environment


def _keep(items: list[dict], cap: int, must: set) -> list[dict]:
    """The first and the latest cap/2 items (what led up to it, and how it ended), plus those named in `must`."""
    if len(items) <= cap:
        return items
    head, tail = cap // 2, cap - cap // 2
    return [item for i, item in enumerate(items) if i < head or i >= len(items) - tail or item.get("id") in must]


def failure_groups(manifest: dict) -> dict:
    """The session's failed calls per group (route_folding.tally); older manifests: rebuilt from the listed calls.

    Groups tallied before calls had a sign (failure_signs.py) are rebuilt too, so they split as new ones do.
    """
    stored = manifest.get("failure_groups")
    if isinstance(stored, dict) and all("sign" in g for g in stored.values()):
        return stored
    groups: dict = {}
    for call in manifest.get("network_failures") or []:
        route_folding.tally(groups, call)
    return groups


def _collapse_pages(pages: list[dict]) -> list[dict]:
    """Drop a page entry that repeats its window's previous URL (rrweb re-emits Meta on each full snapshot)."""
    last: dict[str, str] = {}
    out = []
    for page in pages:
        if last.get(page["window"]) != page["url"]:
            out.append(page)
            last[page["window"]] = page["url"]
    return out


def summary(manifest: dict) -> dict:
    """The small dict the index stores and the API lists."""
    user = manifest.get("user")
    pages = manifest.get("pages") or []
    statuses = list(manifest.get("failed_statuses") or [])
    return {
        "session": manifest["session"],
        "project": manifest.get("project"),
        "started_ms": manifest.get("started_ms"),
        "ended_ms": manifest.get("ended_ms"),
        "duration_ms": manifest.get("duration_ms"),
        "user": {"id": user["id"], "traits": user.get("traits") or {}} if user else None,
        "first_url": pages[0]["url"] if pages else None,
        "pages_visited": len(pages),
        "page_urls": [p["url"] for p in pages[:MAX_SUMMARY_PAGES]],
        "user_agent": manifest.get("user_agent"),
        "browser": short_browser(manifest.get("user_agent")),
        "counts": dict(manifest.get("counts") or {}),
        "statuses": statuses,
        "has_5xx": any(500 <= s <= 599 for s in statuses),
        "failed_urls": list(manifest.get("failed_urls") or [])[:MAX_SUMMARY_URLS],
        "release": manifest.get("release"),
        "environment": manifest.get("environment"),
        "releases": list(manifest.get("releases") or []),
        "frustration": {kind: (manifest.get("counts") or {}).get(name, 0)
                        for kind, name in frustration.COUNT_NAMES.items()},
        "failing_endpoint": failing_endpoint(manifest),
    }


def failing_endpoint(manifest: dict) -> dict | None:
    """Method, host, folded route and status of the session's first failed call (None: none failed)."""
    calls = manifest.get("network_failures") or []
    if not calls:
        return None
    first = min(calls, key=_order)
    host, route = route_folding.route_parts(first.get("url") or "")
    return {"method": first.get("method") or "GET", "host": host, "route": route, "status": first.get("status"),
            "call": first.get("id")}
