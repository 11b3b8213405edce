"""Step one: what a recorded call shows, gathered into Facts before any judgement is made.

Reads only the failure dict (replay/core/events.py::network_call, as the manifest stores it) and trusts none of its
fields' types. Vendors, app signs, body hints and timeouts are matched here against the rows of vendors.py.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from http import HTTPStatus

from replay.core.urls import origin, parts as split
from replay.viewer.diagnosis.vendors import (APP_SIGNS, CLOUDFLARE, CLOUDFLARE_CODES, GATEWAY, HINTS,
                                             UPSTREAM_TIMEOUTS, VENDORS, Hint, Timeout, Vendor)

PHRASES = {s.value: s.phrase for s in HTTPStatus}


@dataclass(frozen=True)
class Sighting:
    """A vendor whose marks are on the response."""

    vendor: Vendor
    name: str  # as its marks spell it, with a version when they give one
    headers: tuple[str, ...]  # the response headers that name it
    wrote_server_header: bool
    made_response: bool  # one of its own-answer signatures matched
    page_excerpt: str | None  # the text of its own error page, when that is what matched first


@dataclass(frozen=True)
class Maker:
    """Whoever made the response itself, as far as its marks tell."""

    vendor: Vendor
    name: str
    sighting: Sighting | None  # None when only the status says so (Cloudflare's 52x)


@dataclass(frozen=True)
class AppMark:
    """A mark that the application wrote the response: the header or body text and what it says."""

    where: str
    text: str
    says: str


@dataclass(frozen=True)
class TimeoutMatch:
    """The known default timeouts a call's duration fits, as (vendor name, or "" for the app server, Timeout)."""

    rows: tuple[tuple[str, Timeout], ...]
    makers_own: bool  # the rows are the timeouts of whoever made the response


@dataclass(frozen=True)
class Facts:
    """Everything the diagnosis reads about one failed call."""

    status: int  # 0: no HTTP response reached the page
    phrase: str  # the standard (or Cloudflare's) reason phrase
    status_text: str  # as recorded, else the phrase
    duration_ms: float | None
    url: str
    method: str
    initiator: str
    error: str  # the browser-side error of a call without a response
    page_origin: str | None
    same_origin: bool | None  # None: the page's origin is not known
    headers: dict[str, str]  # response headers, names lower-cased
    body: str
    body_truncated: bool
    json_body: bool
    sent_at: str | None  # when the call started, as UTC text
    header_sent: bool  # the page set X-Replay-Session on the request itself
    search_id: str  # the session id a proxy's log line carries: the header's, else the session's
    sightings: tuple[Sighting, ...]  # in VENDORS order
    maker: Maker | None
    app_marks: tuple[AppMark, ...]
    hint: Hint | None
    timeout: TimeoutMatch | None
    recovered: bool = False  # from resource timing: no method, headers or body were recorded

    @property
    def proxies(self) -> tuple[Sighting, ...]:
        """Vendors on the path, nearest first: the Server header names whoever wrote the headers last."""
        return tuple(sorted(self.sightings, key=lambda s: not s.wrote_server_header))

    @property
    def app_answered(self) -> bool:
        """The application wrote this response (a JSON body counts when no vendor claims it)."""
        return bool(self.app_marks) or (self.json_body and self.maker is None)

    @property
    def proxy(self) -> Vendor | None:
        """The proxy whose logs to read: the maker, or the nearest one on the path unless the app answered."""
        if self.maker:
            return self.maker.vendor
        return self.proxies[0].vendor if self.proxies and not self.app_answered else None

    @property
    def unconfirmed_proxy(self) -> Sighting | None:
        """A proxy on the path of a gateway error that left no page of its own: it made or relayed the answer."""
        if self.maker or self.app_answered or not self.proxies or self.status not in GATEWAY:
            return None
        return self.proxies[0]

    @property
    def relayed_by_cloudflare(self) -> bool:
        """Cloudflare's page for a 502/504 most likely stands in for an error of the origin's."""
        return self.status in (502, 504) and self.maker is not None and self.maker.vendor is CLOUDFLARE

    @property
    def mixed_content(self) -> bool:
        """A plain-http URL called from an https page, which browsers block."""
        return split(self.page_origin or "").scheme == "https" and split(self.url).scheme == "http"

    @property
    def retry_after(self) -> str | None:
        return self.headers.get("retry-after")


def gather(failure: dict, *, session_id: str, page_origin: str | None) -> Facts:
    """The Facts of one failed call."""
    status = failure.get("status") if isinstance(failure.get("status"), int) else 0
    duration = failure.get("duration_ms")
    duration = duration if isinstance(duration, (int, float)) and not isinstance(duration, bool) else None
    url = str(failure.get("url") or "")
    same = True if not split(url).netloc else None if page_origin is None else origin(url) == origin(page_origin)
    headers = {str(k).lower(): str(v) for k, v in _mapping(failure.get("response_headers")).items()}
    body = failure.get("response_body") if isinstance(failure.get("response_body"), str) else ""
    phrase = CLOUDFLARE_CODES[status].phrase if status in CLOUDFLARE_CODES else PHRASES.get(status, "")
    sent = _mapping(failure.get("request_headers")).get("x-replay-session")
    sightings = tuple(s for v in VENDORS if (s := _sight(v, headers, body)))
    facts = Facts(
        status=status, phrase=phrase, status_text=str(failure.get("status_text") or phrase), duration_ms=duration,
        url=url, method=str(failure.get("method") or ("" if failure.get("recovered") is True else "GET")), initiator=str(failure.get("initiator") or "request"),
        error=str(failure.get("error") or "network"), page_origin=page_origin, same_origin=same,
        headers=headers, body=body, body_truncated=bool(failure.get("response_body_truncated")),
        json_body=is_json(headers, body), sent_at=_when(failure), header_sent=bool(sent),
        search_id=sent if isinstance(sent, str) and sent else session_id,
        sightings=sightings, maker=_maker(status, sightings), app_marks=_app_marks(headers, body),
        hint=next((h for h in HINTS if re.search(h.pattern, body, re.I)), None), timeout=None,
        recovered=failure.get("recovered") is True)
    return replace(facts, timeout=_timeout(facts))


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def _sight(vendor: Vendor, headers: dict, body: str) -> Sighting | None:
    """This vendor's marks on the response, if any."""
    on_path = [(h, m) for h, rx in vendor.on_path if h in headers and (m := re.search(rx, headers[h], re.I))]
    own = [(h, m) for h, rx in vendor.own_answer if (body if h == "body" else h in headers)
           and (m := re.search(rx, body if h == "body" else headers[h], re.I | re.M))]
    if not on_path and not own:
        return None
    groups = [m.groupdict() for _, m in on_path + own]
    name = " ".join([next((g["name"] for g in groups if g.get("name")), vendor.name)]
                    + [g["ver"] for g in groups if g.get("ver")][:1])
    return Sighting(vendor, name, headers=tuple(h for h, _ in on_path + own if h != "body"),
                    wrote_server_header=any(h == "server" for h, _ in on_path + own), made_response=bool(own),
                    page_excerpt=own[0][1].group(0) if own and own[0][0] == "body" else None)


def _maker(status: int, sightings: tuple[Sighting, ...]) -> Maker | None:
    """The first vendor whose own answer matched; Cloudflare for its 52x codes even without its page."""
    for s in sightings:
        if s.made_response:
            return Maker(s.vendor, f"{s.name} (likely)" if s.vendor.generic_page else s.name, s)
    return Maker(CLOUDFLARE, "Cloudflare", None) if status in CLOUDFLARE_CODES else None


def _app_marks(headers: dict, body: str) -> tuple[AppMark, ...]:
    marks = []
    for sign in APP_SIGNS:
        value = body if sign.where == "body" else headers.get(sign.where)
        if value and (m := re.search(sign.pattern, value)):
            marks.append(AppMark(sign.where, m.group(0) if sign.where == "body" else value, sign.says))
    return tuple(marks)


def _timeout(facts: Facts) -> TimeoutMatch | None:
    """The known default timeouts the call ended at, if any."""
    if facts.duration_ms is None:
        return None
    # A relayed answer's timing is the origin's, so any proxy's timeouts may apply to it.
    maker = None if facts.relayed_by_cloudflare or not facts.maker else facts.maker.vendor
    proxies = () if facts.relayed_by_cloudflare else facts.proxies
    # The maker's own timeout must give this status; a relayed answer may carry any gateway status.
    candidates = [maker] if maker else [s.vendor for s in proxies] or VENDORS
    rows = [(v.name, t) for v in candidates for t in v.timeouts
            if facts.status in t.statuses or not maker and facts.status in GATEWAY]
    rows += [("", t) for t in UPSTREAM_TIMEOUTS if facts.status in t.statuses]
    # Proxies stop a little early or late, and the page's clock adds the network's time.
    rows = [(n, t) for n, t in rows if t.seconds * 970 - 500 <= facts.duration_ms <= t.seconds * 1100 + 3000]
    return TimeoutMatch(tuple(rows), makers_own=maker is not None) if rows else None


def is_json(headers: dict, body: str) -> bool:
    if "json" in headers.get("content-type", ""):
        return True
    try:
        return isinstance(json.loads(body), (dict, list))
    except (ValueError, RecursionError):
        # A recorded body is anything: '[' nested thousands deep is past the parser's recursion limit.
        return False


def _when(failure: dict) -> str | None:
    ms = failure.get("start_ms") or failure.get("ts")
    if not isinstance(ms, (int, float)) or isinstance(ms, bool) or ms <= 0:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
