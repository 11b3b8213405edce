"""Step three: a Verdict and its Facts in, the Card out: the cause's Text filled in, plus the lines the facts add."""
from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass

from replay.viewer.diagnosis.classify import Verdict
from replay.viewer.diagnosis.evidence import RECOVERED_CANNOT_SHOW, evidence, took
from replay.viewer.diagnosis.facts import Facts, TimeoutMatch, origin
from replay.viewer.diagnosis.log_search import log_search
from replay.viewer.diagnosis.texts import (BODY_CUT, CANNOT_SHOW_BY_KIND, HEADERS_HIDDEN, HEADLINES, QUALIFIERS,
                                           SEARCH_REQUEST_IDS, STEPS_BY_KIND, STEPS_BY_STATUS, TEXTS, TIMEOUT_MEANS,
                                           UNCONFIRMED_PROXY, Text)
from replay.viewer.diagnosis.vendors import CLIENT_NOTES, CLOUDFLARE_CODES, GATEWAY, ID_HEADERS
from replay.core.urls import parts as split


@dataclass
class Card:
    """The diagnosis card of one failed call, as the replay page shows it."""

    title: str
    summary: str
    who_answered: str
    evidence: list[str]
    cannot_show: list[str]
    next_steps: list[str]
    kind: str

    def as_dict(self) -> dict:
        return asdict(self)


FIELDS = {  # every {field} the texts use; see texts.py
    "status": lambda f, v: f.status,
    "phrase": lambda f, v: f.phrase,
    "took": lambda f, v: took(f.duration_ms),
    "at": lambda f, v: f", about {_timeout_words(f.timeout)}" if f.timeout else "",
    "by": lambda f, v: _subject(f),
    "owner": lambda f, v: f.maker.name,
    "hint": lambda f, v: f.hint.says,
    "meaning": lambda f, v: CLOUDFLARE_CODES[f.status].meaning,
    "note": lambda f, v: CLIENT_NOTES[f.status].meaning if f.status in CLIENT_NOTES else "a client error",
    "timeout_means": lambda f, v: TIMEOUT_MEANS[v.kind],
    "setting": lambda f, v: _setting(f.timeout) or "the timeout",
    "wait": lambda f, v: f.retry_after + (" s" if f.retry_after.isdigit() else ""),
    "origin": lambda f, v: origin(f.url),
    "host": lambda f, v: split(f.url).hostname or "the host",
    "origin_header": lambda f, v: shlex.quote("Origin: " + origin(f.page_origin)),
    "quoted_url": lambda f, v: shlex.quote(f.url),
    "proxy": lambda f, v: f.unconfirmed_proxy.name,
    "ids": lambda f, v: "; ".join(f"{h}: {f.headers[h]}" for h in ID_HEADERS if h in f.headers),
}


class _Fields(dict):
    """One card's fields, each worked out only when a text asks for it: {owner} needs a maker, {hint} a hint."""

    def __init__(self, facts: Facts, verdict: Verdict):
        super().__init__()
        self.facts, self.verdict = facts, verdict

    def __missing__(self, name: str):
        return FIELDS[name](self.facts, self.verdict)


def explain(f: Facts, verdict: Verdict) -> Card:
    """The card of a call with these facts and this verdict."""
    text, fields, search = TEXTS[verdict.cause], _Fields(f, verdict), log_search(f)
    summary = text.summary + "".join(QUALIFIERS[q] for q in verdict.qualifiers)
    return Card(title=(text.title or f"{f.status} {f.phrase}: {_headline(f, verdict, text)}").format_map(fields),
                summary=summary.format_map(fields), who_answered=who_answered(f),
                evidence=[*evidence(f), *search.evidence],
                cannot_show=[t.format_map(fields) for t in _cannot_show(f, verdict, text)] + [*search.cannot_show],
                next_steps=[search.step, *_next_steps(f, verdict, text, fields)], kind=verdict.kind)


def who_answered(f: Facts) -> str:
    """Who made the response, only as sure as its marks allow."""
    if not f.status:
        return "unknown"
    if f.maker:
        return f.maker.name
    if f.app_answered:
        return "the application itself"
    if f.unconfirmed_proxy:
        return f"{f.unconfirmed_proxy.name} (likely)"
    # A gateway status with no marks could be anyone's; any other status is most often the app's own.
    return "unknown" if f.status in GATEWAY else "the application itself (likely)"


def _headline(f: Facts, verdict: Verdict, text: Text) -> str:
    note = CLIENT_NOTES.get(f.status)
    return text.headline or HEADLINES.get(verdict.kind) or (note.headline if note else "client error")


def _cannot_show(f: Facts, verdict: Verdict, text: Text) -> list[str]:
    """Templates of what the call cannot show, before the log search's."""
    lines = [UNCONFIRMED_PROXY] if f.unconfirmed_proxy else []
    lines += text.cannot_show
    lines += [CANNOT_SHOW_BY_KIND[verdict.kind]] if verdict.kind in CANNOT_SHOW_BY_KIND else []
    lines += [HEADERS_HIDDEN] if f.status and f.same_origin is False else []
    lines += [BODY_CUT] if f.status and f.body_truncated else []
    lines += [RECOVERED_CANNOT_SHOW] if f.recovered else []
    return lines


def _next_steps(f: Facts, verdict: Verdict, text: Text, fields: _Fields) -> list[str]:
    """The next steps after the log search: the proxy's logs, the cause's and kind's steps, request ids."""
    lines = [f.proxy.logs] if f.status and f.proxy and f.proxy.logs else []
    templates = [*text.next_steps]
    templates += [STEPS_BY_STATUS.get(f.status) or STEPS_BY_KIND.get(verdict.kind) or ""]
    templates += [SEARCH_REQUEST_IDS] if f.status and any(h in f.headers for h in ID_HEADERS) else []
    return lines + [t.format_map(fields) for t in templates if t]


def _subject(f: Facts) -> str:
    """Who answered, as the subject of the summary's sentence."""
    if f.maker:
        return f.maker.name
    if f.proxy:
        return f"A proxy, likely {f.proxies[0].name},"
    return "A proxy" if f.status in (502, 504) else "The server"


def _timeout_words(match: TimeoutMatch) -> str:
    """The default timeout the call ended at, for "about ..."."""
    if len(match.rows) > 1:
        return "a common default ({})".format(
            ", ".join(f"{name}'s {_bare(t.setting)}" if name else _bare(t.setting) for name, t in match.rows))
    name, t = match.rows[0]
    return f"its {t.setting}" if match.makers_own else f"{name}'s {t.setting}" if name else t.setting


def _setting(match: TimeoutMatch | None) -> str:
    """The bare name of the one timeout matched, to name in a step."""
    return _bare(match.rows[0][1].setting) if match and len(match.rows) == 1 else ""


def _bare(setting: str) -> str:
    return setting.split(" (")[0]
