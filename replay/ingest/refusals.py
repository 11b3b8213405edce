"""Refused ingest, told to operators: a log line with the fix, rate limited per process, and a count in Redis.

Only the refusal path comes here; an accepted hello or batch never does.
"""
from __future__ import annotations

import logging
import time

from redis.exceptions import RedisError

from replay.core.projects import Project, normalize_origin
from replay.core.refusals import Refusals

log = logging.getLogger("replay.ingest.refused")


def shown_origin(origin: str | None) -> str:
    """What an Origin header is logged and counted as: the origin, or a placeholder (it is client input)."""
    if not origin:
        return "(none)"
    return normalize_origin(origin, strict=False) or "(not an origin)"


def describe(reason: str, key: str, project: Project | None, origin: str) -> str:
    """One line: who was refused, for what, and the command that lets it in."""
    name = f" ({project.name})" if project and project.name else ""
    if reason == "origin_not_allowed":
        fix = (f"allow it with: replay project origin add {key} {origin}" if origin.startswith("http")
               else "a browser page always sends an Origin; this was no page of a site")
        return f"ingest refused: origin {origin} is not allowed for project {key}{name}; {fix}"
    if reason == "project_disabled":
        return f"ingest refused: project {key}{name} is disabled (origin {origin}); enable it with: replay project enable {key}"
    return (f"ingest refused: no project has the key {key} (origin {origin}); check the page's data-project-key "
            f"(replay project list shows the keys)")


class RefusalLog:
    """At most one line per (project, origin, reason) per `interval_s`, and at most `lines_per_min` lines in all.

    The memo holds only what was logged in the last interval, so its size is bounded by the line cap;
    refusals past the cap are counted and summed up in one line a minute.
    """

    def __init__(self, interval_s: float = 60.0, lines_per_min: int = 20, clock=time.monotonic):
        self.interval_s = interval_s
        self.lines_per_min = lines_per_min
        self.clock = clock
        self._last: dict[tuple[str, str, str], float] = {}
        self._minute_start = float("-inf")
        self._lines = 0
        self._suppressed = 0

    def should_log(self, what: tuple[str, str, str]) -> bool:
        now = self.clock()
        if now - self._minute_start >= 60.0:
            if self._suppressed:
                log.warning("ingest refused %d more times (other origins or keys) in the last minute; "
                            "not logged one by one", self._suppressed)
            self._minute_start, self._lines, self._suppressed = now, 0, 0
            self._last = {k: t for k, t in self._last.items() if now - t < self.interval_s}
        last = self._last.get(what)
        if last is not None and now - last < self.interval_s:
            return False
        if self._lines >= self.lines_per_min:
            self._suppressed += 1
            return False
        self._last[what] = now
        self._lines += 1
        return True

    def __len__(self) -> int:
        return len(self._last)


class RefusalReporter:
    """What the collector does with a refusal besides answering it."""

    def __init__(self, refusals: Refusals, memo: RefusalLog):
        self.refusals = refusals
        self.memo = memo

    def refused(self, reason: str, key: str, project: Project | None, origin: str | None) -> None:
        shown = shown_origin(origin)
        if self.memo.should_log((key, shown, reason)):
            log.warning("%s", describe(reason, key, project, shown))
        if project is None:
            return  # an unknown key has no project to count under (and random keys must not make Redis keys)
        try:
            self.refusals.note(project.key, shown, reason, int(time.time() * 1000))
        except RedisError as exc:
            # The refusal is the answer either way; the count is for the settings page only.
            log.debug("could not count a refused ingest: %s", exc)
